"""Numbers for the overview: messages per state, operation and zender; throughput and latency over the
last hour and day; health of every target; dead letters that need attention.

Windows are read through the received_at index; a day of messages is bucketed in Python (portable
between SQLite and PostgreSQL), reading at most ``SAMPLE_CAP`` rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from broker.queue import tables as qt
from broker.queue.tables import Circuit, Delivery
from broker.store.tables import Message

SAMPLE_CAP = 200_000


@dataclass
class Series:
    labels: list[str]
    counts: list[int]
    faults: list[int]
    p50: list[float | None]
    p95: list[float | None]


if TYPE_CHECKING:  # Row takes one type per column from SQLAlchemy 2.1 on: the alias exists for mypy only
    #: a sampled message: received_at, duration_ms, outcome, state, operation, zender_applicatie
    Sample = Row[datetime, float | None, str, str, str | None, str | None]


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def series(rows: Sequence[Sample], start: datetime, step: timedelta, n: int, label_format: str) -> Series:
    """Buckets of ``rows`` (received_at, duration_ms, outcome, ...) from ``start``, ``n`` of ``step``."""
    buckets: list[list[float]] = [[] for _ in range(n)]
    counts, faults = [0] * n, [0] * n
    naive = bool(rows) and rows[0][0].tzinfo is None  # SQLite hands back naive UTC
    origin = start.astimezone(UTC).replace(tzinfo=None) if naive else start
    seconds = step.total_seconds()
    for received, duration, outcome, *_ in rows:
        i = int((received - origin).total_seconds() // seconds)
        if 0 <= i < n:
            counts[i] += 1
            faults[i] += outcome != "ok"
            if duration is not None:
                buckets[i].append(duration)
    return Series(
        labels=[(start + step * i).strftime(label_format) for i in range(n)],
        counts=counts, faults=faults,
        p50=[_pct(b, 50) for b in buckets], p95=[_pct(b, 95) for b in buckets],
    )


def _grouped(values: Iterable[str | None]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for value in values:
        key = value or "—"
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]


def overview(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """Everything on the overview; the messages of the last day are read once, in one indexed range."""
    now = now or datetime.now(UTC)
    day_ago = now - timedelta(days=1)
    rows = session.connection().execute(  # Core rows: no ORM bookkeeping for a day of messages
        select(Message.received_at, Message.duration_ms, Message.outcome, Message.state, Message.operation,
               Message.zender_applicatie)
        .where(Message.received_at >= day_ago).order_by(Message.received_at.desc()).limit(SAMPLE_CAP)
    ).all()
    hour_start = (now - timedelta(minutes=59)).replace(second=0, microsecond=0)
    day_start = (now - timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    cut = hour_start.astimezone(UTC).replace(tzinfo=None) if rows and rows[0][0].tzinfo is None else hour_start
    hour_rows = [r for r in rows if r[0] >= cut]
    return {
        "now": now,
        "last_hour": len(hour_rows),
        "last_day": len(rows),
        "sampled": len(rows) >= SAMPLE_CAP,
        "hour": series(hour_rows, hour_start, timedelta(minutes=1), 60, "%H:%M"),
        "day": series(rows, day_start, timedelta(hours=1), 24, "%H:00"),
        "by_state": {"hour": _grouped(r[3] for r in hour_rows), "day": _grouped(r[3] for r in rows)},
        "by_operation": {"hour": _grouped(r[4] for r in hour_rows), "day": _grouped(r[4] for r in rows)},
        "by_zender": {"hour": _grouped(r[5] for r in hour_rows), "day": _grouped(r[5] for r in rows)},
        "open_now": dict(session.execute(select(Delivery.state, func.count())
                                         .where(Delivery.state.in_(qt.OPEN_STATES + (qt.DEAD,)))
                                         .group_by(Delivery.state)).all()),
        "targets": targets(session),
        "dead": dead_letters(session),
    }


def range_series(session: Session, start: datetime, end: datetime, step: timedelta, n: int,
                 labels: list[str]) -> tuple[Series, bool]:
    """Throughput and latency of the messages received in [start, end); True when the sample was capped."""
    rows = session.connection().execute(
        select(Message.received_at, Message.duration_ms, Message.outcome)
        .where(Message.received_at >= start, Message.received_at < end)
        .order_by(Message.received_at.desc()).limit(SAMPLE_CAP)).all()
    found = series(rows, start, step, n, "%H:%M")  # type: ignore[arg-type]
    found.labels = labels
    return found, len(rows) >= SAMPLE_CAP


def targets(session: Session) -> list[dict[str, Any]]:
    by_target: dict[str, dict[str, int]] = {}
    for target, state, n in session.execute(
            select(Delivery.target, Delivery.state, func.count()).group_by(Delivery.target, Delivery.state)):
        by_target.setdefault(target, {})[state] = n
    circuits = {c.target: c for c in session.execute(select(Circuit)).scalars()}
    out = []
    for name in sorted(set(by_target) | set(circuits)):
        counts = by_target.get(name, {})
        c = circuits.get(name)
        last = session.execute(select(Delivery.last_error).where(
            Delivery.target == name, Delivery.state == qt.DEAD).order_by(Delivery.id.desc()).limit(1)
        ).scalar_one_or_none() if counts.get(qt.DEAD) else None
        out.append({
            "name": name, "circuit": c.state if c else "closed", "failures": c.failures if c else 0,
            "last_error": (c.last_error if c and c.last_error else None) or last,
            "backlog": sum(counts.get(s, 0) for s in qt.OPEN_STATES), "dead": counts.get(qt.DEAD, 0),
            "delivered": counts.get(qt.DELIVERED, 0),
        })
    return out


def dead_letters(session: Session, limit: int = 15) -> list[dict[str, Any]]:
    stmt = (select(Delivery.id, Delivery.message_id, Delivery.target, Delivery.operation, Delivery.ordering_key,
                   Delivery.attempts, Delivery.last_error, Delivery.finished_at)
            .where(Delivery.state == qt.DEAD).order_by(Delivery.id.desc()).limit(limit))
    return [dict(r._mapping) for r in session.execute(stmt)]
