"""The targets: a list, and per target a page with its history, circuit, last errors and controls
(pause and resume, retry all dead, cancel all dead), each control confirmed with its count and audited."""

from __future__ import annotations

from starlette.responses import Response

from broker.web.dashboard import audit, charts, overview, ranges, targetview
from broker.web.dashboard.tables import OPERATOR, VIEWER
from broker.web.dashboard.views.actions import back, selected_ids
from broker.web.dashboard.views.common import Ctx, page


def _known(ctx: Ctx, name: str) -> bool:
    if name in ctx.broker.queue.targets:
        return True
    with ctx.db.read() as s:
        return any(t["name"] == name for t in overview.targets(s))


@page(role=VIEWER)
def listing(ctx: Ctx) -> Response:
    with ctx.db.read() as s:
        rows = overview.targets(s)
        paused = targetview.paused_targets(s)
    names = {r["name"] for r in rows}
    for name in sorted(set(ctx.broker.queue.targets) - names):
        rows.append({"name": name, "circuit": "closed", "failures": 0, "last_error": None, "backlog": 0,
                     "dead": 0, "delivered": 0})
    for r in rows:
        r["last_error"] = ctx.text(r["last_error"])
        r["paused"] = paused.get(r["name"])
    return ctx.render("targets.html", nav="targets", targets=rows, live=True)


@page(role=VIEWER)
def show(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    if not _known(ctx, name):
        return ctx.not_found(ctx.t("No target {name}.", name=name))
    rng, range_errors = ranges.choose(ctx.request.query_params, default="1h")
    with ctx.db.read() as s:
        info = targetview.summary(s, name)
        hist = targetview.history(s, name, rng)
    info["circuit_error"] = ctx.text(info["circuit_error"])
    for e in info["last_errors"]:
        e["error"] = ctx.text(e["error"])
    labels = rng.labels()
    t = ctx.t
    svg = {
        "backlog": charts.bars(t("Backlog of {target}", target=name), labels, hist["backlog"]),
        "rate": charts.bars(t("Deliveries of {target} (failed attempts in red)", target=name), labels,
                            [d + f for d, f in zip(hist["delivered"], hist["failed"], strict=True)], hist["failed"]),
        "errors": charts.lines(t("Error rate of {target}", target=name), labels, {t("failed"): hist["error_rate"]},
                               unit="%"),
        "latency": charts.lines(t("Latency of {target}", target=name), labels, {"p50": hist["p50"], "p95": hist["p95"]}),
    }
    return ctx.render("target.html", nav="targets", t=info, svg=svg, rng=rng, range_errors=range_errors,
                      fixed=ranges.FIXED, live=True, range_query=rng.params())


def _target(ctx: Ctx) -> str | None:
    name = ctx.request.path_params["name"]
    return name if _known(ctx, name) else None


@page(role=OPERATOR)
def pause(ctx: Ctx) -> Response:
    name = _target(ctx)
    if name is None:
        return ctx.not_found(ctx.t("No target {name}.", name=ctx.request.path_params["name"]))
    reason = ctx.field("reason")[:300] or None
    done = ctx.broker.queue.pause(name, ctx.actor, reason)
    with ctx.db.write() as s:
        held = targetview.summary(s, name)["held"]
        audit.record(s, ctx.actor, "target.pause", {"target": name, "reason": reason, "held": held, "changed": done})
    ctx.flash(ctx.t("Target {name} paused: {n} deliveries are held until it is resumed.", name=name, n=held)
              if done else ctx.t("Target {name} was paused already.", name=name), "ok" if done else "warn")
    return back(ctx, f"/targets/{name}")


@page(role=OPERATOR)
def resume(ctx: Ctx) -> Response:
    name = _target(ctx)
    if name is None:
        return ctx.not_found(ctx.t("No target {name}.", name=ctx.request.path_params["name"]))
    with ctx.db.read() as s:  # counted before: once resumed, the worker starts on them at once
        held = targetview.summary(s, name)["held"]
    done = ctx.broker.queue.resume(name)
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, "target.resume", {"target": name, "released": held, "changed": done})
    if done:
        ctx.broker.wake_worker()
    ctx.flash(ctx.t("Target {name} resumed: {n} held deliveries go out now.", name=name, n=held)
              if done else ctx.t("Target {name} was not paused.", name=name), "ok" if done else "warn")
    return back(ctx, f"/targets/{name}")


def _all_dead(ctx: Ctx, action: str) -> Response:
    name = _target(ctx)
    if name is None:
        return ctx.not_found(ctx.t("No target {name}.", name=ctx.request.path_params["name"]))
    ids = selected_ids(ctx)
    if ids is None:
        ctx.flash(ctx.t("Nothing done: no deliveries were selected."), "warn")
        return ctx.redirect(f"/targets/{name}")
    with ctx.db.read() as s:  # only the ones of this target, whatever the form says
        mine = set(targetview.summary(s, name)["dead_ids"])
    ids = [i for i in ids if i in mine] or []
    n = getattr(ctx.broker.queue, action)(ids, actor=ctx.actor) if ids else 0
    with ctx.db.write() as s:
        audit.record(s, ctx.actor, f"target.{action}_dead", {"target": name, "ids": ids, "shown": len(ids), "count": n})
    if action == "retry" and n:
        ctx.broker.wake_worker()
    text = "{n} dead deliveries of {name} queued again." if action == "retry" else \
        "{n} dead deliveries of {name} cancelled."
    ctx.flash(ctx.t(text, n=n, name=name), "ok" if n == len(ids) else "warn")
    return ctx.redirect(f"/targets/{name}")


@page(role=OPERATOR)
def retry_dead(ctx: Ctx) -> Response:
    return _all_dead(ctx, "retry")


@page(role=OPERATOR)
def cancel_dead(ctx: Ctx) -> Response:
    return _all_dead(ctx, "cancel")
