"""The message list (filters, keyset pages, a search by BSN, a CSV export) and one message in detail
(with a download of the raw request)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC

from starlette.responses import Response, StreamingResponse

from broker.store.tables import Message, MessagePayload
from broker.web.dashboard import access, audit, bsnindex, messagedetail, messagelist, targetview
from broker.web.dashboard.messagelist import MessageFilters
from broker.web.dashboard.tables import OPERATOR, VIEWER
from broker.web.dashboard.views.common import SECURITY_HEADERS, Ctx, page

#: the most rows one CSV export holds
EXPORT_CAP = 100_000
EXPORT_COLUMNS = ("id", "received_at", "operation", "berichtcode", "answer_berichtcode", "foutcode",
                  "zender_applicatie", "zaak_identificatie", "referentienummer", "state", "outcome", "duration_ms")


def _errors(ctx: Ctx, filters: MessageFilters) -> dict[str, str]:
    errors = filters.errors()
    if filters.bsnhash and ctx.masked:
        errors["bsnhash"] = ctx.t("your role may not search by BSN")
    return errors


@page(role=VIEWER)
def listing(ctx: Ctx) -> Response:
    """The filtered list; a filter that cannot be read is shown at its field and nothing is listed."""
    params = ctx.request.query_params
    filters = MessageFilters.from_params(params)
    try:
        limit = int(params.get("limit", messagelist.PAGE))
    except ValueError:
        limit = messagelist.PAGE
    errors = _errors(ctx, filters)
    result = messagelist.Page(rows=[], next_cursor=None, prev_cursor=None)
    bulk_ids: list[int] = []
    deliveries: dict[int, list[dict]] = {}
    paused: dict[str, dict] = {}
    if not errors:
        with ctx.db.read() as s:
            result = messagelist.page(s, filters, after=params.get("after"), before=params.get("before"),
                                      limit=limit)
            deliveries = messagelist.deliveries_of(s, [r["id"] for r in result.rows])
            paused = targetview.paused_targets(s)
            if ctx.principal.can(OPERATOR):
                bulk_ids = messagelist.dead_deliveries_of(s, filters)
        if filters.bsnhash and result.rows:  # who was shown in which messages a person appears
            with ctx.db.write() as s:
                for row in result.rows:
                    access.record_view(s, ctx.principal.username, row["id"], "bsn search")
    for row in result.rows:
        row["zaak_identificatie"] = ctx.text(row["zaak_identificatie"])
        row["referentienummer"] = ctx.text(row["referentienummer"])
        row["deliveries"] = deliveries.get(row["id"], [])
        for d in row["deliveries"]:  # held while its target is paused
            d["paused"] = d["target"] in paused and d["state"] in ("pending", "retrying")
    return ctx.render("messages.html", status=400 if errors else 200, nav="messages", page=result,
                      filters=filters, errors=errors, query=filters.params(), limit=limit,
                      bulk_ids=bulk_ids, bulk_cap=messagelist.BULK_CAP, states=messagelist.STATES,
                      outcomes=messagelist.OUTCOMES, operations=ctx.dashboard.operations,
                      targets=sorted(ctx.broker.queue.targets), delivery_states=messagelist.DELIVERY_STATES,
                      live=not filters.bsnhash and not errors)


@page(role=OPERATOR)
def bsn_search(ctx: Ctx) -> Response:
    """A search by BSN (a form, so the BSN never stands in an address or a log): the keyed hash of the
    BSN selects the messages; the search is an access to personal data and is audited."""
    bsn = bsnindex.normalise(ctx.field("bsn"))
    if bsn is None:
        ctx.flash(ctx.t("BSN: not a valid BSN (nine digits that pass the 11-proef)."), "warn")
        return ctx.redirect("/messages")
    complete = bsnindex.catch_up(ctx.db, ctx.dashboard.bsn_key)
    digest = bsnindex.digest(ctx.dashboard.bsn_key, bsn)
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, "search.bsn", {"complete": complete})
    if not complete:
        ctx.flash(ctx.t("The BSN index is still being built; older messages may be missing. Search again shortly."),
                  "warn")
    return ctx.redirect("/messages?" + messagelist.urlencode(MessageFilters(bsnhash=digest).params()))


@page(role=VIEWER)
def export(ctx: Ctx) -> Response:
    """The filtered list as CSV: metadata only (no request, answer or personal data), at most EXPORT_CAP rows."""
    filters = MessageFilters.from_params(ctx.request.query_params)
    errors = _errors(ctx, filters)
    if errors:
        return ctx.render("error.html", status=400, title=ctx.t("Nothing exported"),
                          message="; ".join(f"{k}: {v}" for k, v in errors.items()))
    masked = ctx.masked
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, "messages.export", {"filter": filters.visible(), "bsn_search": bool(filters.bsnhash)})

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS + ("deliveries",))
        after = None
        written = 0
        while written < EXPORT_CAP:
            with ctx.db.read() as s:
                chunk = messagelist.page(s, filters, after=after, limit=messagelist.MAX_PAGE)
                deliveries = messagelist.deliveries_of(s, [r["id"] for r in chunk.rows])
            for r in chunk.rows:
                values = [r.get(c) for c in EXPORT_COLUMNS]
                values[1] = r["received_at"].replace(tzinfo=r["received_at"].tzinfo or UTC).isoformat()
                if masked:
                    values[7], values[8] = ctx.text(values[7]), ctx.text(values[8])
                values.append(" ".join(f"{d['target']}:{d['state']}" for d in deliveries.get(r["id"], [])))
                writer.writerow(["" if v is None else v for v in values])
            written += len(chunk.rows)
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if chunk.next_cursor is None:
                return
            after = chunk.next_cursor

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers={
        **SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="messages.csv"'})


@page(role=VIEWER)
def detail(ctx: Ctx) -> Response:
    message_id = ctx.request.path_params["message_id"]
    with ctx.db.read() as s:
        found = messagedetail.load(s, message_id, masked=ctx.masked, t=ctx.t,
                                   hold_dead=ctx.broker.queue.policy.on_dead == "hold")
    if found is None:
        return ctx.not_found(ctx.t("No message {id}.", id=message_id))
    if not ctx.masked:
        with ctx.db.write() as s:
            access.record_view(s, ctx.principal.username, message_id, "detail")
    return ctx.render("message.html", nav="messages", d=found, m=found.message,
                      can_download=not ctx.masked and not found.purged)


@page(role=OPERATOR)
def raw(ctx: Ctx) -> Response:
    """The request as it was received (bytes and content type), for roles that see personal data;
    recorded in the access log."""
    message_id = ctx.request.path_params["message_id"]
    with ctx.db.read() as s:
        message = s.get(Message, message_id)
        payload = s.get(MessagePayload, message_id)
        data = payload.request if payload is not None else None
        content_type = (payload.request_content_type if payload is not None else None) or "text/xml"
    if message is None:
        return ctx.not_found(ctx.t("No message {id}.", id=message_id))
    if not data:
        return ctx.not_found(ctx.t("The payload of message {id} was purged after the retention period.",
                                   id=message_id))
    with ctx.db.write() as s:
        access.record_view(s, ctx.principal.username, message_id, "download")
    suffix = "mime" if content_type.lower().startswith("multipart/") else "xml"
    return Response(data, media_type=content_type, headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="message-{message_id}.{suffix}"'})
