"""Operator actions on deliveries: retry, cancel, and a bulk retry or cancel of what a filter selects.

Each action and its audit entry are recorded together; the worker is woken so a retried delivery
goes out at once. The queue keeps the action on each delivery too (its timeline).
"""

from __future__ import annotations

from starlette.responses import Response

from broker.queue.tables import Delivery
from broker.web.dashboard import audit, messagelist
from broker.web.dashboard.messagelist import MessageFilters
from broker.web.dashboard.tables import OPERATOR
from broker.web.dashboard.views.common import Ctx, page

#: the labels of the filter fields, as the list page shows them
FIELD_LABELS = {"since": "From", "until": "Until", "state": "State", "outcome": "Outcome",
                "delivery": "Delivery state"}


def _delivery_message(ctx: Ctx, delivery_id: int) -> int | None:
    with ctx.db.read() as s:
        row = s.get(Delivery, delivery_id)
        return row.message_id if row is not None else None


def back(ctx: Ctx, fallback: str) -> Response:
    """To the page the form came from (a path inside the dashboard only), else ``fallback``."""
    where = ctx.field("back")
    if where == ctx.base or where.startswith(ctx.base + "/"):  # the page's own address, prefix and all
        where = where[len(ctx.base):] or "/"
    if where.startswith("/") and not where.startswith("//") and "\\" not in where:
        return ctx.redirect(where)
    return ctx.redirect(fallback)


def _one(ctx: Ctx, action: str) -> Response:
    """Retry or cancel the delivery in the path, recorded in the audit log."""
    delivery_id = ctx.request.path_params["delivery_id"]
    message_id = _delivery_message(ctx, delivery_id)
    if message_id is None:
        return ctx.not_found(ctx.t("No delivery {id}.", id=delivery_id))
    n = getattr(ctx.broker.queue, action)([delivery_id], actor=ctx.actor)
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, f"queue.{action}", {"ids": [delivery_id], "count": n, "message_id": message_id})
    if n and action == "retry":
        ctx.broker.wake_worker()
    if action == "retry":
        text = "Delivery {id} queued again." if n else "Delivery {id} was not in a state to retry."
    else:
        text = "Delivery {id} cancelled." if n else "Delivery {id} could not be cancelled."
    ctx.flash(ctx.t(text, id=delivery_id), "ok" if n else "warn")
    return back(ctx, f"/messages/{message_id}")


@page(role=OPERATOR)
def retry(ctx: Ctx) -> Response:
    return _one(ctx, "retry")


@page(role=OPERATOR)
def cancel(ctx: Ctx) -> Response:
    return _one(ctx, "cancel")


def selected_ids(ctx: Ctx) -> list[int] | None:
    """The delivery ids the page showed the operator (field ``ids``: comma-separated), or None."""
    raw = ctx.field("ids")
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        return None
    return ids if 0 < len(ids) <= messagelist.BULK_CAP else None


def _bulk(ctx: Ctx, action: str) -> Response:
    """Retry or cancel exactly the dead deliveries the list showed (their ids), never a wider selection.

    The filter travels along only to be checked and recorded: a filter that cannot be read refuses
    the action, and the audit entry names the filter, the ids shown and the number acted on."""
    filters = MessageFilters.from_params(ctx.form)
    query = messagelist.urlencode_filters(filters)
    where = "/messages" + (f"?{query}" if query else "")
    errors = filters.errors()
    ids = selected_ids(ctx)
    if errors or ids is None:
        why = "; ".join(f"{ctx.t(FIELD_LABELS.get(k, k))}: {v}" for k, v in errors.items()) \
            or ctx.t("no deliveries were selected")
        nothing = "Nothing retried: {why}." if action == "retry" else "Nothing cancelled: {why}."
        ctx.flash(ctx.t(nothing, why=why), "warn")
        return ctx.redirect(where)
    n = getattr(ctx.broker.queue, action)(ids, actor=ctx.actor)
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, f"queue.bulk_{action}",
                     {"filter": filters.params(), "ids": ids, "shown": len(ids), "count": n})
    if action == "retry":
        ctx.broker.wake_worker()
        done, partly = "{n} dead deliveries queued again.", "{n} of {shown} dead deliveries queued again; " \
                                                              "the others were no longer dead."
    else:
        done, partly = "{n} dead deliveries cancelled.", "{n} of {shown} dead deliveries cancelled; " \
                                                         "the others were no longer dead."
    if n == len(ids):
        ctx.flash(ctx.t(done, n=n))
    else:
        ctx.flash(ctx.t(partly, n=n, shown=len(ids)), "warn")
    return back(ctx, where)


@page(role=OPERATOR)
def bulk_retry(ctx: Ctx) -> Response:
    return _bulk(ctx, "retry")


@page(role=OPERATOR)
def bulk_cancel(ctx: Ctx) -> Response:
    return _bulk(ctx, "cancel")
