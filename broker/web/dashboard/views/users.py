"""Accounts, for administrators: list, add, set a password, change a role (each audited)."""

from __future__ import annotations

from starlette.responses import Response

from broker.web.dashboard import audit, auth
from broker.web.dashboard.tables import ADMINISTRATOR, ROLES
from broker.web.dashboard.views.common import Ctx, page


def _render(ctx: Ctx, status: int = 200, error: str | None = None) -> Response:
    with ctx.db.read() as s:
        users = auth.all_users(s)
    return ctx.render("users.html", status=status, nav="users", users=users, roles=ROLES, error=error)


@page(role=ADMINISTRATOR)
def listing(ctx: Ctx) -> Response:
    return _render(ctx)


def _password(ctx: Ctx) -> str:
    value = ctx.form.get("password") if ctx.form else None
    return value if isinstance(value, str) else ""


@page(role=ADMINISTRATOR)
def add(ctx: Ctx) -> Response:
    username, role = ctx.field("username"), ctx.field("role")
    try:
        with ctx.db.write() as s:
            auth.add_user(s, username, role, _password(ctx))
            audit.record(s, ctx.actor, "user.add", {"username": username, "role": role})
    except auth.AccountError as exc:
        return _render(ctx, 400, str(exc))
    ctx.flash(ctx.t("User {name} added as {role}.", name=username, role=ctx.t(role)))
    return ctx.redirect("/users")


@page(role=ADMINISTRATOR)
def password(ctx: Ctx) -> Response:
    username = ctx.request.path_params["username"]
    try:
        with ctx.db.write() as s:
            auth.set_password(s, username, _password(ctx))
            audit.record(s, ctx.actor, "user.passwd", {"username": username})
    except auth.AccountError as exc:
        return _render(ctx, 400, str(exc))
    ctx.flash(ctx.t("Password of {name} changed; their other sessions have ended.", name=username))
    return ctx.redirect("/users")


@page(role=ADMINISTRATOR)
def role(ctx: Ctx) -> Response:
    username, new_role = ctx.request.path_params["username"], ctx.field("role")
    if ctx.user is not None and username == ctx.user.username and new_role != ADMINISTRATOR:
        return _render(ctx, 400, ctx.t("You cannot take the administrator role from yourself."))
    try:
        with ctx.db.write() as s:
            old = auth.find(s, username)
            before = old.role if old is not None else None
            auth.set_role(s, username, new_role)
            audit.record(s, ctx.actor, "user.role", {"username": username, "from": before, "to": new_role})
    except auth.AccountError as exc:
        return _render(ctx, 400, str(exc))
    ctx.flash(ctx.t("{name} is now {role}.", name=username, role=ctx.t(new_role)))
    return ctx.redirect("/users")
