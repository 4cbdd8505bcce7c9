"""Operator actions on deliveries: retry, cancel, and a bulk retry of what a filter selects.

Each action and its audit entry are recorded together; the worker is woken so a retried delivery
goes out at once.
"""

from __future__ import annotations

from starlette.responses import Response

from broker.queue.tables import Delivery
from broker.web.dashboard import audit, messagelist
from broker.web.dashboard.messagelist import MessageFilters
from broker.web.dashboard.tables import OPERATOR
from broker.web.dashboard.views.common import Ctx, page


def _delivery_message(ctx: Ctx, delivery_id: int) -> int | None:
    with ctx.db.read() as s:
        row = s.get(Delivery, delivery_id)
        return row.message_id if row is not None else None


def _back(ctx: Ctx, message_id: int | None) -> Response:
    back = ctx.field("back")
    if back.startswith("/") and not back.startswith("//"):
        return ctx.redirect(back)
    return ctx.redirect(f"/messages/{message_id}" if message_id else "/")


def _one(ctx: Ctx, action: str, done: str, refused: str) -> Response:
    """Retry or cancel the delivery in the path, recorded in the audit log."""
    delivery_id = ctx.request.path_params["delivery_id"]
    message_id = _delivery_message(ctx, delivery_id)
    if message_id is None:
        return ctx.not_found(f"No delivery {delivery_id}.")
    n = getattr(ctx.broker.queue, action)([delivery_id])
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, f"queue.{action}", {"ids": [delivery_id], "count": n, "message_id": message_id})
    if n and action == "retry":
        ctx.broker.wake_worker()
    ctx.flash(f"Delivery {delivery_id} {done}." if n else f"Delivery {delivery_id} {refused}.", "ok" if n else "warn")
    return _back(ctx, message_id)


@page(role=OPERATOR)
def retry(ctx: Ctx) -> Response:
    return _one(ctx, "retry", "queued again", "was not in a state to retry")


@page(role=OPERATOR)
def cancel(ctx: Ctx) -> Response:
    return _one(ctx, "cancel", "cancelled", "could not be cancelled")


@page(role=OPERATOR)
def bulk_retry(ctx: Ctx) -> Response:
    filters = MessageFilters.from_params(ctx.form)
    with ctx.db.read() as s:
        ids = messagelist.dead_deliveries_of(s, filters)
    n = ctx.broker.queue.retry(ids) if ids else 0
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, "queue.bulk_retry", {"filter": filters.params(), "ids": ids[:1000], "count": n})
    ctx.broker.wake_worker()
    ctx.flash(f"{n} dead deliveries queued again.")
    query = messagelist.urlencode_filters(filters)
    return ctx.redirect("/messages" + (f"?{query}" if query else ""))
