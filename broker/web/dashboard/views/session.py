"""Signing in and out."""

from __future__ import annotations

from starlette.responses import Response

from broker.web.dashboard import audit, auth, csrf
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
    return ctx.render("login.html", next=ctx.request.query_params.get("next", ""), error=None, username="")


@page(role=None)
def login(ctx: Ctx) -> Response:
    username, password = ctx.field("username"), ctx.form.get("password") if ctx.form else ""
    password = password if isinstance(password, str) else ""
    with ctx.db.write() as s:
        user = auth.authenticate(s, username, password) if username and password else None
        audit.record(s, f"web:{username[:100]}", "user.login" if user else "user.login_failed", {})
        uid, version = (user.id, user.session_version) if user else (None, None)
    if uid is None:
        return ctx.render("login.html", status=401, next=ctx.field("next"), username=username,
                          error="Unknown user name or wrong password.")
    session = ctx.request.session
    session.clear()  # a new session on sign-in: nothing from before survives (session fixation)
    session["uid"], session["ver"] = uid, version
    csrf.rotate(session)
    return ctx.redirect(_safe_next(ctx, ctx.field("next")))


@page(role=None)
def logout(ctx: Ctx) -> Response:
    ctx.request.session.clear()
    return ctx.redirect("/login")
