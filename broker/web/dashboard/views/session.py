"""Signing in and out."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import Response

from broker.web.dashboard import audit, auth, csrf, i18n, throttle
from broker.web.dashboard.views.common import Ctx, page


def _safe_next(ctx: Ctx, value: str) -> str:
    """Only a path inside the dashboard: never another site (open redirect)."""
    if value.startswith(ctx.base + "/") and not value.startswith("//") and "\\" not in value:
        return value[len(ctx.base):]
    return "/"


@page(role=None)
def login_form(ctx: Ctx) -> Response:
    if ctx.user is not None:
        return ctx.redirect("/")
    with ctx.db.read() as s:
        first_run = not auth.all_users(s)
    return ctx.render("login.html", next=ctx.request.query_params.get("next", ""), error=None, username="",
                      first_run=first_run)


@page(role=None)
def login(ctx: Ctx) -> Response:
    username, password = ctx.field("username"), ctx.form.get("password") if ctx.form else ""
    password = password if isinstance(password, str) else ""
    address = ctx.request.client.host if ctx.request.client else "unknown"
    addresses = ctx.dashboard.login_throttle
    if addresses.blocked(address):
        with ctx.db.write() as s:
            audit.record(s, f"web:{username[:100]}", "user.login_throttled", {})
        return ctx.render("login.html", status=429, next=ctx.field("next"), username=username,
                          error=ctx.t("Too many failed sign-ins from this address; try again later."))
    with ctx.db.write() as s:
        until = throttle.account_locked_until(s, username) if username else None
        if until is not None:
            audit.record(s, f"web:{username[:100]}", "user.login_locked", {"until": until.isoformat()})
            user = None
        else:
            user = auth.authenticate(s, username, password) if username and password else None
            audit.record(s, f"web:{username[:100]}", "user.login" if user else "user.login_failed", {})
        uid, version = (user.id, user.session_version) if user else (None, None)
    if until is not None:
        minutes = max(1, int((until - datetime.now(UTC)).total_seconds() // 60) + 1)
        return ctx.render("login.html", status=429, next=ctx.field("next"), username=username,
                          error=ctx.t("This account is locked after repeated failed sign-ins; try again in "
                                      "{minutes} minutes, or ask an administrator.", minutes=minutes))
    if uid is None:
        addresses.failed(address)
        return ctx.render("login.html", status=401, next=ctx.field("next"), username=username,
                          error=ctx.t("Unknown user name or wrong password."))
    session = ctx.request.session
    session.clear()  # a new session on sign-in: nothing from before survives (session fixation)
    session["uid"], session["ver"] = uid, version
    csrf.rotate(session)
    return ctx.redirect(_safe_next(ctx, ctx.field("next")))


@page(role=None)
def logout(ctx: Ctx) -> Response:
    """Sign out: the user's sessions end on the server too (a copied cookie no longer works)."""
    if ctx.user is not None:
        with ctx.db.write() as s:
            auth.end_sessions(s, ctx.user.id)
            audit.record(s, f"web:{ctx.user.username}", "user.logout", {})
    ctx.request.session.clear()
    return ctx.redirect("/login")


@page(role=None)
def language(ctx: Ctx) -> Response:
    """Choose the interface language: kept with the account when signed in, and in a cookie (for the
    sign-in page)."""
    chosen = ctx.field("language")
    if chosen not in i18n.LANGUAGES:
        chosen = i18n.DEFAULT
    if ctx.user is not None:
        with ctx.db.write() as s:
            auth.set_language(s, ctx.user.id, chosen)
    where = ctx.field("back")
    path = _safe_next(ctx, where) if where.startswith(ctx.base + "/") or where == ctx.base else "/"
    response = ctx.redirect(path)
    response.set_cookie(i18n.COOKIE, chosen, max_age=365 * 24 * 3600, path=ctx.base, samesite="strict",
                        httponly=True)
    return response
