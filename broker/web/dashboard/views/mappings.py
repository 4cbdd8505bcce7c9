"""Mapping administration for functional administrators: list, edit with the CLI's validation shown
inline, preview on a stored message or an uploaded file, save as a new version, roll back.

Everything goes through the broker's config store (``broker.mappings.store.ConfigStore``), which
versions each configuration and hands workers the active version without a restart.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer
from starlette.datastructures import UploadFile
from starlette.responses import Response

from broker.errors import ConfigError, ConfigProblem
from broker.mappings.store import ConfigStore
from broker.routing.describe import routes_table
from broker.store.tables import MessagePayload
from broker.web.dashboard import access, audit, xmlview
from broker.web.dashboard.tables import ADMINISTRATOR
from broker.web.dashboard.views.common import Ctx, page

MAX_UPLOAD = 8 * 1024 * 1024


def _store(ctx: Ctx) -> ConfigStore | None:
    store: ConfigStore | None = getattr(ctx.broker, "config_store", None)
    return store


def _unavailable(ctx: Ctx) -> Response:
    return ctx.render("error.html", status=503, title=ctx.t("Mappings unavailable"),
                      message=ctx.t("This broker has no configuration store."))


@page(role=ADMINISTRATOR)
def listing(ctx: Ctx) -> Response:
    store = _store(ctx)
    if store is None:
        return _unavailable(ctx)
    configs = [store.active(name) for name in store.names()]
    router = getattr(ctx.broker, "router", None)
    return ctx.render("mappings.html", nav="mappings", configs=list(zip(store.names(), configs)),
                      refused=sorted(store.refused.items()),
                      routes=routes_table(router.routes) if router is not None else [])


def _editor(ctx: Ctx, store: ConfigStore, name: str, *, text: str | None = None,
            problems: list[ConfigProblem] | None = None, preview: dict[str, Any] | None = None,
            preview_error: str | None = None, comment: str = "", status: int = 200,
            message_id: str = "") -> Response:
    active = store.active(name)
    history = store.history(name)
    problem_lines = sorted({p.line for p in problems or [] if p.line})
    return ctx.render(
        "mapping_edit.html", status=status, nav="mappings", name=name, active=active, history=history,
        text=active.text if text is None else text, problems=problems, problem_lines=problem_lines,
        preview=xmlview.highlighted_json(preview) if preview is not None else None,
        preview_error=preview_error, comment=comment, message_id=message_id)


def _configuration(ctx: Ctx, name: str) -> ConfigStore | Response:
    """The store that holds configuration ``name``, or the page that says why there is none."""
    store = _store(ctx)
    if store is None:
        return _unavailable(ctx)
    if name not in store.names():
        return ctx.not_found(f"No configuration {name}.")
    return store


@page(role=ADMINISTRATOR)
def edit(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    store = _configuration(ctx, name)
    if isinstance(store, Response):
        return store
    return _editor(ctx, store, name)


def _preview_message(ctx: Ctx) -> tuple[bytes | None, int | None, str | None]:
    """(message bytes, stored message id, error) from the form: an uploaded file or a message id."""
    upload = ctx.form.get("file") if ctx.form is not None else None
    if isinstance(upload, UploadFile) and upload.filename:
        data = upload.file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            return None, None, "The uploaded file is too large."
        if data:
            return data, None, None
    ident = ctx.field("message_id")
    if not ident:
        return None, None, "Choose a stored message (its number) or upload a file to preview."
    if not ident.isdigit():
        return None, None, f"{ident!r} is not a message number."
    with ctx.db.read() as s:
        payload = s.get(MessagePayload, int(ident))
        stored = payload.request if payload is not None else None
    if not stored:
        return None, None, f"Message {ident} has no stored request (unknown, or purged)."
    return stored, int(ident), None


@page(role=ADMINISTRATOR)
def submit(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    store = _configuration(ctx, name)
    if isinstance(store, Response):
        return store
    action = ctx.field("action") or "validate"
    raw = ctx.form.get("text") if ctx.form is not None else ""
    text = (raw if isinstance(raw, str) else "").replace("\r\n", "\n")
    comment = ctx.field("comment")[:300]
    editor = partial(_editor, ctx, store, name, text=text, comment=comment, message_id=ctx.field("message_id"))
    if action == "save":
        try:
            saved = store.save(name, text, ctx.principal.username, comment)
        except ConfigError as exc:
            return editor(problems=exc.problems, status=400)
        with ctx.db.write() as s:
            audit.record(s, ctx.actor, "mapping.save", {"name": name, "version": saved.version, "comment": comment})
        ctx.flash(ctx.t("{name}: version {n} saved and active.", name=name, n=saved.version))
        return ctx.redirect(f"/mappings/{name}")
    problems = store.validate(name, text)
    if action != "preview":
        return editor(problems=problems, status=400 if problems else 200)
    if problems:
        return editor(problems=problems, status=400, preview_error="Fix the problems before a preview.")
    data, message_id, error = _preview_message(ctx)
    if error or data is None:
        return editor(problems=[], preview_error=error, status=400)
    try:
        result = store.preview(data, name=name, text=text)
    except Exception as exc:  # the preview shows what went wrong with this message
        return editor(problems=[], preview_error=f"{type(exc).__name__}: {exc}")
    if message_id is not None:
        with ctx.db.write() as s:
            access.record_view(s, ctx.principal.username, message_id, "preview")
    return editor(problems=[], preview=result)


@page(role=ADMINISTRATOR)
def version(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    number = ctx.request.path_params["version"]
    store = _configuration(ctx, name)
    if isinstance(store, Response):
        return store
    versions = {v.version: v for v in store.history(name)}
    if number not in versions:
        return ctx.not_found(f"{name} has no version {number}.")
    older = [v for v in versions if v < number]
    diff = store.diff(name, max(older), number) if older else ""
    diff_html = highlight(diff, DiffLexer(), HtmlFormatter(cssclass="xml")) if diff else ""
    return ctx.render("mapping_version.html", nav="mappings", name=name, v=versions[number],
                      previous=max(older) if older else None, diff=diff_html,
                      active=store.active(name).version)


@page(role=ADMINISTRATOR)
def rollback(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    store = _configuration(ctx, name)
    if isinstance(store, Response):
        return store
    target = ctx.field("version")
    if not target.isdigit():
        ctx.flash(ctx.t("Choose a version to roll back to."), "warn")
        return ctx.redirect(f"/mappings/{name}")
    try:
        made = store.rollback(name, int(target), ctx.principal.username)
    except (ConfigError, KeyError, LookupError, ValueError) as exc:
        ctx.flash(ctx.t("Rollback refused: {why}", why=exc), "warn")
        return ctx.redirect(f"/mappings/{name}")
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, "mapping.rollback", {"name": name, "to_version": int(target),
                                                        "version": made.version})
    ctx.flash(ctx.t("{name}: version {n} restored as version {m}.", name=name, n=target, m=made.version))
    return ctx.redirect(f"/mappings/{name}")

