"""One target over time, for its page: backlog, delivery rate, error rate and latency per bucket of a
time range; its circuit, whether an operator paused it, its last errors and its dead deliveries.

Attempts and deliveries of the range are read once each (at most SAMPLE_CAP rows) and bucketed in
Python, as the overview does with messages. The backlog at a moment is the number of deliveries
created before it and not finished by then (delivered, dead or cancelled).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from broker.queue import tables as qt
from broker.queue.tables import Circuit, Delivery, DeliveryAttempt, TargetPause
from broker.web.dashboard.ranges import Range

SAMPLE_CAP = 200_000


def _utc(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def history(session: Session, target: str | None, rng: Range) -> dict[str, list]:
    """Per bucket: delivered, failed (retry or dead) attempts, latency p50/p95 of attempts, and backlog
    at the bucket's end. ``target`` None: every target together."""
    n = rng.buckets
    seconds = rng.step.total_seconds()
    delivered, failed = [0] * n, [0] * n
    durations: list[list[float]] = [[] for _ in range(n)]
    attempts = select(DeliveryAttempt.finished_at, DeliveryAttempt.outcome, DeliveryAttempt.duration_ms).where(
        DeliveryAttempt.finished_at >= rng.start, DeliveryAttempt.finished_at < rng.end)
    if target is not None:
        attempts = attempts.join(Delivery, Delivery.id == DeliveryAttempt.delivery_id).where(Delivery.target == target)
    for finished, outcome, duration in session.execute(attempts.limit(SAMPLE_CAP)):
        i = int((_utc(finished) - rng.start).total_seconds() // seconds)  # type: ignore[operator]
        if 0 <= i < n:
            if outcome == "delivered":
                delivered[i] += 1
            else:
                failed[i] += 1
            if duration is not None:
                durations[i].append(duration)
    open_ = select(Delivery.created_at, Delivery.finished_at).where(
        Delivery.created_at < rng.end, or_(Delivery.finished_at.is_(None), Delivery.finished_at >= rng.start))
    if target is not None:
        open_ = open_.where(Delivery.target == target)
    change = [0] * (n + 1)  # +1 from the bucket a delivery was created in, -1 from the one it finished in
    for created, finished in session.execute(open_.limit(SAMPLE_CAP)):
        change[max(0, int((_utc(created) - rng.start).total_seconds() // seconds))] += 1  # type: ignore[operator]
        if finished is not None:
            change[min(n, max(0, int((_utc(finished) - rng.start).total_seconds() // seconds)))] -= 1  # type: ignore[operator]
    backlog, running = [], 0
    for i in range(n):
        running += change[i]
        backlog.append(running)
    return {
        "delivered": delivered, "failed": failed, "backlog": backlog,
        "p50": [_pct(d, 50) for d in durations], "p95": [_pct(d, 95) for d in durations],
        "error_rate": [round(100 * f / (f + d), 1) if f + d else None for f, d in zip(failed, delivered, strict=True)],
    }


def summary(session: Session, target: str) -> dict[str, Any]:
    counts = dict(session.execute(select(Delivery.state, func.count()).where(Delivery.target == target)
                                  .group_by(Delivery.state)).all())
    circuit = session.get(Circuit, target)
    pause = session.get(TargetPause, target)
    errors = session.execute(
        select(DeliveryAttempt.finished_at, DeliveryAttempt.error, DeliveryAttempt.outcome, Delivery.id,
               Delivery.message_id)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.target == target, DeliveryAttempt.error.is_not(None))
        .order_by(DeliveryAttempt.id.desc()).limit(10)).all()
    dead_ids = list(session.execute(select(Delivery.id).where(Delivery.target == target, Delivery.state == qt.DEAD)
                                    .order_by(Delivery.id).limit(10_000)).scalars())
    held = sum(counts.get(s, 0) for s in (qt.PENDING, qt.RETRYING))
    return {
        "name": target, "counts": counts,
        "backlog": sum(counts.get(s, 0) for s in qt.OPEN_STATES), "held": held,
        "dead": counts.get(qt.DEAD, 0), "delivered": counts.get(qt.DELIVERED, 0),
        "circuit": circuit.state if circuit else "closed", "failures": circuit.failures if circuit else 0,
        "circuit_error": circuit.last_error if circuit else None,
        "probe_at": _utc(circuit.probe_at) if circuit else None,
        "paused": {"at": _utc(pause.paused_at), "by": pause.paused_by, "reason": pause.reason} if pause else None,
        "last_errors": [{"at": _utc(at), "error": error, "outcome": outcome, "delivery": did, "message": mid}
                        for at, error, outcome, did, mid in errors],
        "dead_ids": dead_ids,
    }


def paused_targets(session: Session) -> dict[str, dict[str, Any]]:
    return {p.target: {"at": _utc(p.paused_at), "by": p.paused_by, "reason": p.reason}
            for p in session.execute(select(TargetPause)).scalars()}
