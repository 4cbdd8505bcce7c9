"""The audit log (operators and administrators) and the access log of personal data (administrators)."""

from __future__ import annotations

from starlette.responses import Response

from broker.web.dashboard import access, audit
from broker.web.dashboard.tables import ADMINISTRATOR, OPERATOR
from broker.web.dashboard.views.common import Ctx, page


def _before(ctx: Ctx) -> int | None:
    value = ctx.request.query_params.get("before", "")
    return int(value) if value.isdigit() else None


@page(role=OPERATOR)
def audit_log(ctx: Ctx) -> Response:
    action = ctx.request.query_params.get("action", "").strip()[:60] or None
    with ctx.db.read() as s:
        entries = audit.recent(s, limit=100, before_id=_before(ctx), action=action)
    return ctx.render("audit.html", nav="audit", entries=entries, action=action or "",
                      older=entries[-1].id if len(entries) == 100 else None)


@page(role=ADMINISTRATOR)
def access_log(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    message = params.get("message", "")
    username = params.get("user", "").strip()[:100] or None
    with ctx.db.read() as s:
        rows = access.views(s, message_id=int(message) if message.isdigit() else None, username=username,
                            limit=100, before_id=_before(ctx))
    return ctx.render("access.html", nav="access", rows=rows, message=message, username=username or "",
                      older=rows[-1].id if len(rows) == 100 else None)
