"""The overview: is everything flowing?"""

from __future__ import annotations

from starlette.responses import Response

from broker.web.dashboard import charts, messagelist
from broker.web.dashboard.messagelist import MessageFilters
from broker.web.dashboard.overview import overview
from broker.web.dashboard.tables import OPERATOR, VIEWER
from broker.web.dashboard.views.common import Ctx, page


@page(role=VIEWER)
def show(ctx: Ctx) -> Response:
    with ctx.db.read() as s:
        data = overview(s)
        dead_ids = (messagelist.dead_deliveries_of(s, MessageFilters(state="dead"))
                    if ctx.principal.can(OPERATOR) else [])
    for t in data["targets"]:
        t["last_error"] = ctx.text(t["last_error"])
    for d in data["dead"]:
        d["last_error"] = ctx.text(d["last_error"])
    hour, day = data["hour"], data["day"]
    svg = {
        "hour_throughput": charts.bars("Messages per minute, last hour", hour.labels, hour.counts, hour.faults),
        "day_throughput": charts.bars("Messages per hour, last day", day.labels, day.counts, day.faults),
        "hour_latency": charts.lines("Latency per minute, last hour", hour.labels, {"p50": hour.p50, "p95": hour.p95}),
        "day_latency": charts.lines("Latency per hour, last day", day.labels, {"p50": day.p50, "p95": day.p95}),
    }
    return ctx.render("overview.html", nav="overview", data=data, svg=svg, dead_ids=dead_ids)
