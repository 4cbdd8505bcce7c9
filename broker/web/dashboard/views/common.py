"""Request plumbing shared by every page: who is signed in, may they, CSRF, rendering, redirects.

Pages are plain functions of a :class:`Ctx`; the :func:`page` decorator reads the form (for POST,
checking the CSRF token before anything else), finds the user from the session, checks the role,
and runs the function in the thread pool so database work never blocks the SOAP endpoints' loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from broker.web.dashboard import auth, csrf, i18n, masking
from broker.web.dashboard.auth import Principal
from broker.web.dashboard.messagelist import LOCAL

if TYPE_CHECKING:  # app.py imports the views
    from broker.runtime import Broker
    from broker.store.db import Database
    from broker.web.dashboard.app import Dashboard

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(value: datetime | None, seconds: bool = True) -> Markup | str:
    """A moment in Dutch local time (what the operators type in the filters), with UTC on hover."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    utc = value.astimezone(UTC)
    return Markup('<time datetime="{}" title="{} UTC">{}</time>').format(
        utc.isoformat(timespec="seconds").replace("+00:00", "Z"), utc.strftime(shape),
        value.astimezone(LOCAL).strftime(shape))


def _ms(value: float | None) -> str:
    return "" if value is None else (f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms")


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(TEMPLATES))
    t.env.filters["when"] = _when
    t.env.filters["ms"] = _ms
    # as text (autoescaped like any text), not tojson's HTML-safe escapes: "->" stays "->"
    t.env.filters["readable_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    t.env.globals["urlencode"] = urlencode
    return t


@dataclass
class Ctx:
    request: Request
    dashboard: Dashboard
    user: Principal | None
    form: FormData | None

    @property
    def broker(self) -> Broker:
        return self.dashboard.broker

    @property
    def db(self) -> Database:
        return self.dashboard.broker.db

    @property
    def base(self) -> str:
        return self.dashboard.prefix

    @property
    def principal(self) -> Principal:
        """The signed-in user, for pages that require a role (:func:`page` runs them only then)."""
        if self.user is None:
            raise RuntimeError("a page that requires a role ran without a signed-in user")
        return self.user

    @property
    def actor(self) -> str:
        return f"web:{self.user.username}" if self.user else "web:anonymous"

    @property
    def masked(self) -> bool:
        return self.user is None or not self.user.sees_personal_data

    @property
    def lang(self) -> str:
        return i18n.choose(self.user.language if self.user else None, self.request.cookies.get(i18n.COOKIE),
                           self.request.headers.get("accept-language"))

    def t(self, text: str, **values: Any) -> str:
        """``text`` in the reader's language."""
        return i18n.translator(self.lang)(text, **values)

    def tn(self, one: str, many: str, n: int, **values: Any) -> str:
        return i18n.plural_translator(self.lang)(one, many, n, **values)

    def text(self, value: str | None) -> str | None:
        return masking.mask_text(value) if self.masked else value

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default

    def flash(self, message: str, kind: str = "ok") -> None:
        self.request.session.setdefault("flash", []).append([kind, message])

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        flashes = self.request.session.pop("flash", [])
        lang = self.lang
        ctx = {"user": self.user, "base": self.base, "csrf_token": csrf.token(self.request.session),
               "flashes": flashes, "masked": self.masked, "nav": context.pop("nav", ""),
               "lang": lang, "languages": i18n.LANGUAGES, "_": i18n.translator(lang),
               "_n": i18n.plural_translator(lang), "now": datetime.now(UTC), "here": self.request.url.path
               + (f"?{self.request.url.query}" if self.request.url.query else ""), **context}
        return self.dashboard.templates.TemplateResponse(self.request, template, ctx, status_code=status,
                                                         headers=SECURITY_HEADERS)

    def redirect(self, path: str) -> Response:
        return RedirectResponse(self.base + path, status_code=303, headers=SECURITY_HEADERS)

    def forbidden(self, why: str | None = None) -> Response:
        return self.render("error.html", status=403, title=self.t("Not allowed"),
                           message=why or self.t("Your role does not allow this."))

    def not_found(self, what: str | None = None) -> Response:
        return self.render("error.html", status=404, title=self.t("Not found"),
                           message=what or self.t("There is no page at this address."))


def page(role: str | None) -> Callable[[Callable[[Ctx], Response]], Callable[[Request], Any]]:
    """Make ``fn(ctx)`` an endpoint that requires ``role`` (None: anyone, e.g. the login page)."""

    def decorate(fn: Callable[[Ctx], Response]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            if request.method != "POST":
                return await run_in_threadpool(_run, fn, request, None, role)
            form = await request.form(max_files=2, max_fields=200, max_part_size=8 * 1024 * 1024)
            try:
                if not csrf.valid(request.session, form.get(csrf.FIELD)):
                    return PlainTextResponse("refused: the form's CSRF token is missing or wrong; "
                                             "reload the page and try again\n", status_code=403,
                                             headers=SECURITY_HEADERS)
                return await run_in_threadpool(_run, fn, request, form, role)
            finally:
                await form.close()  # uploaded files live in temporary files until closed

        endpoint.__name__ = fn.__name__
        return endpoint

    return decorate


def _run(fn: Callable[[Ctx], Response], request: Request, form: FormData | None, role: str | None) -> Response:
    dashboard = request.app.state.dashboard
    user = current_user(request, dashboard)
    ctx = Ctx(request, dashboard, user, form)
    if role is not None:
        if user is None:
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{dashboard.prefix}/login?next={quote(target)}", status_code=303)
            return PlainTextResponse("sign in first\n", status_code=401, headers=SECURITY_HEADERS)
        if not user.can(role):
            return ctx.forbidden()
    return fn(ctx)


_ERRORS = {
    404: ("Not found", "There is no page at this address."),
    405: ("Not allowed", "This page cannot be used that way."),
    500: ("Something went wrong", "The dashboard could not show this page; the error is in the broker's log."),
}


async def error_page(request: Request, exc: Exception) -> Response:
    """Starlette's errors (an unknown address, a wrong method, a failure) as dashboard pages."""
    status = getattr(exc, "status_code", 500)
    if status not in _ERRORS:
        status = 500 if status >= 500 else 404 if status == 404 else status
    return await run_in_threadpool(_error, request, status)


def _error(request: Request, status: int) -> Response:
    dashboard = request.app.state.dashboard
    try:
        user = current_user(request, dashboard)
    except Exception:  # the database itself may be what failed
        user = None
    ctx = Ctx(request, dashboard, user, None)
    title, message = _ERRORS.get(status, ("Error", "The request could not be handled."))
    return ctx.render("error.html", status=status, title=ctx.t(title), message=ctx.t(message))


def current_user(request: Request, dashboard: Dashboard) -> Principal | None:
    session = request.session
    if "uid" not in session:
        return None
    with dashboard.broker.db.read() as s:
        user = auth.principal_of(s, session.get("uid"), session.get("ver"))
    if user is None:
        session.pop("uid", None)
        session.pop("ver", None)
    return user
