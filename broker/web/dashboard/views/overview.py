"""The overview: is everything flowing? Live (the page refreshes itself), over a chosen time range."""

from __future__ import annotations

from starlette.responses import Response

from broker.web.dashboard import charts, messagelist, ranges, targetview
from broker.web.dashboard.messagelist import MessageFilters
from broker.web.dashboard.overview import overview, range_series
from broker.web.dashboard.tables import OPERATOR, VIEWER
from broker.web.dashboard.views.common import Ctx, page


@page(role=VIEWER)
def show(ctx: Ctx) -> Response:
    rng, range_errors = ranges.choose(ctx.request.query_params, default="24h")
    labels = rng.labels()
    with ctx.db.read() as s:
        data = overview(s)
        chosen, sampled = range_series(s, rng.start, rng.end, rng.step, rng.buckets, labels)
        queue = targetview.history(s, None, rng)
        paused = targetview.paused_targets(s)
        dead_ids = (messagelist.dead_deliveries_of(s, MessageFilters(state="dead"))
                    if ctx.principal.can(OPERATOR) else [])
    for t in data["targets"]:
        t["last_error"] = ctx.text(t["last_error"])
        t["paused"] = paused.get(t["name"])
    for d in data["dead"]:
        d["last_error"] = ctx.text(d["last_error"])
    _ = ctx.t
    svg = {
        "throughput": charts.bars(_("Messages received"), labels, chosen.counts, chosen.faults),
        "latency": charts.lines(_("Latency of the answers"), labels, {"p50": chosen.p50, "p95": chosen.p95}),
        "backlog": charts.bars(_("Deliveries waiting"), labels, queue["backlog"]),
        "rate": charts.bars(_("Delivery attempts (failed in red)"), labels,
                            [d + f for d, f in zip(queue["delivered"], queue["failed"], strict=True)], queue["failed"]),
    }
    return ctx.render("overview.html", nav="overview", data=data, svg=svg, dead_ids=dead_ids, rng=rng,
                      range_errors=range_errors, fixed=ranges.FIXED, sampled=sampled, live=True)
