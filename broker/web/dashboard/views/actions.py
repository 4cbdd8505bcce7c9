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

#: the labels of the filter fields, as the list page shows them
FIELD_LABELS = {"since": "From", "until": "Until", "state": "State", "outcome": "Outcome"}


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


def _selected_ids(ctx: Ctx) -> list[int] | None:
    """The delivery ids the page showed the operator (field ``ids``: comma-separated), or None."""
    raw = ctx.field("ids")
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        return None
    return ids if 0 < len(ids) <= messagelist.BULK_CAP else None


@page(role=OPERATOR)
def bulk_retry(ctx: Ctx) -> Response:
    """Retry exactly the dead deliveries the list showed (their ids), never a wider selection.

    The filter travels along only to be checked and recorded: a filter that cannot be read refuses
    the action, and the audit entry names the filter, the ids shown and the number retried."""
    filters = MessageFilters.from_params(ctx.form)
    query = messagelist.urlencode_filters(filters)
    back = "/messages" + (f"?{query}" if query else "")
    errors = filters.errors()
    ids = _selected_ids(ctx)
    if errors or ids is None:
        why = "; ".join(f"{FIELD_LABELS.get(k, k)}: {v}" for k, v in errors.items()) or "no deliveries were selected"
        ctx.flash(f"Nothing retried: {why}.", "warn")
        return ctx.redirect(back)
    n = ctx.broker.queue.retry(ids)
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, "queue.bulk_retry",
                     {"filter": filters.params(), "ids": ids, "shown": len(ids), "count": n})
    ctx.broker.wake_worker()
    if n == len(ids):
        ctx.flash(f"{n} dead deliveries queued again.")
    else:
        ctx.flash(f"{n} of {len(ids)} dead deliveries queued again; the others were no longer dead.", "warn")
    return ctx.redirect(back)
