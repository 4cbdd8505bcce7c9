"""The message list (filters, keyset pages) and one message in detail."""

from __future__ import annotations

from starlette.responses import Response

from broker.web.dashboard import access, messagedetail, messagelist
from broker.web.dashboard.messagelist import MessageFilters
from broker.web.dashboard.tables import OPERATOR, VIEWER
from broker.web.dashboard.views.common import Ctx, page


@page(role=VIEWER)
def listing(ctx: Ctx) -> Response:
    """The filtered list; a filter that cannot be read is shown at its field and nothing is listed."""
    params = ctx.request.query_params
    filters = MessageFilters.from_params(params)
    try:
        limit = int(params.get("limit", messagelist.PAGE))
    except ValueError:
        limit = messagelist.PAGE
    errors = filters.errors()
    result = messagelist.Page(rows=[], next_cursor=None, prev_cursor=None)
    bulk_ids: list[int] = []
    if not errors:
        with ctx.db.read() as s:
            result = messagelist.page(s, filters, after=params.get("after"), before=params.get("before"),
                                      limit=limit)
            if ctx.principal.can(OPERATOR):
                bulk_ids = messagelist.dead_deliveries_of(s, filters)
    for row in result.rows:
        row["zaak_identificatie"] = ctx.text(row["zaak_identificatie"])
        row["referentienummer"] = ctx.text(row["referentienummer"])
    return ctx.render("messages.html", status=400 if errors else 200, nav="messages", page=result,
                      filters=filters, errors=errors, query=filters.params(), limit=limit,
                      bulk_ids=bulk_ids, bulk_cap=messagelist.BULK_CAP, states=messagelist.STATES,
                      outcomes=messagelist.OUTCOMES, operations=ctx.dashboard.operations)


@page(role=VIEWER)
def detail(ctx: Ctx) -> Response:
    message_id = ctx.request.path_params["message_id"]
    with ctx.db.read() as s:
        found = messagedetail.load(s, message_id, masked=ctx.masked)
    if found is None:
        return ctx.not_found(f"No message {message_id}.")
    if not ctx.masked:
        with ctx.db.write() as s:
            access.record_view(s, ctx.principal.username, message_id, "detail")
    return ctx.render("message.html", nav="messages", d=found, m=found.message)
