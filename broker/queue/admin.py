"""Reading the queue for operators: counts, filtered lists, one delivery with its attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from broker.queue import tables as t
from broker.queue.tables import Circuit, Delivery, DeliveryAttempt
from broker.store.tables import Message

#: a SELECT that the filters narrow (over deliveries, possibly joined with messages)
S = TypeVar("S", bound=Select)


@dataclass
class Filters:
    state: str | None = None
    operation: str | None = None
    zender: str | None = None
    zaak: str | None = None
    target: str | None = None
    since: datetime | None = None

    def apply(self, stmt: S) -> S:
        if self.state:
            stmt = stmt.where(Delivery.state == self.state)
        if self.operation:
            stmt = stmt.where(Delivery.operation == self.operation)
        if self.target:
            stmt = stmt.where(Delivery.target == self.target)
        if self.zaak:
            stmt = stmt.where(Delivery.ordering_key == self.zaak)
        if self.zender:
            stmt = stmt.where(Message.zender_applicatie == self.zender)
        if self.since:
            stmt = stmt.where(Delivery.created_at >= self.since)
        return stmt


def waiting_behind(session: Session, d: Delivery, hold_dead: bool = True) -> dict[str, Any] | None:
    """The earlier delivery of the same zaak to the same target that this one waits for, if any
    (deliveries of one zaak go in the order received; a dead one holds the rest with on_dead: hold)."""

    if d.state not in (t.PENDING, t.RETRYING) or not d.ordering_key:
        return None
    blocking = t.OPEN_STATES + ((t.DEAD,) if hold_dead else ())
    row = session.execute(
        select(Delivery.id, Delivery.state).where(
            Delivery.target == d.target, Delivery.ordering_key == d.ordering_key, Delivery.id < d.id,
            Delivery.state.in_(blocking)).order_by(Delivery.id).limit(1)
    ).first()
    return {"id": row.id, "state": row.state} if row else None


def status(session: Session) -> dict[str, Any]:
    by_state = dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
    by_target: dict[str, dict[str, int]] = {}
    for target, state, n in session.execute(
        select(Delivery.target, Delivery.state, func.count()).group_by(Delivery.target, Delivery.state)
    ):
        by_target.setdefault(target, {})[state] = n
    circuits = {c.target: {"state": c.state, "failures": c.failures, "last_error": c.last_error}
                for c in session.execute(select(Circuit)).scalars()}
    return {"deliveries": by_state, "targets": by_target, "circuits": circuits}


def listing(session: Session, filters: Filters, limit: int = 50, before_id: int | None = None,
            hold_dead: bool = True) -> list[dict[str, Any]]:
    stmt = select(Delivery, Message).join(Message, Message.id == Delivery.message_id)
    stmt = filters.apply(stmt)
    if before_id:
        stmt = stmt.where(Delivery.id < before_id)
    stmt = stmt.order_by(Delivery.id.desc()).limit(limit)
    out = []
    for d, m in session.execute(stmt):
        out.append({
            "id": d.id, "message_id": d.message_id, "target": d.target, "mode": d.mode, "state": d.state,
            "operation": d.operation, "zaak": d.ordering_key, "zender": m.zender_applicatie,
            "referentienummer": m.referentienummer, "attempts": d.attempts,
            "next_attempt_at": d.next_attempt_at, "last_error": d.last_error, "note": d.note,
            "waiting_behind": waiting_behind(session, d, hold_dead),
        })
    return out


def matching_ids(session: Session, filters: Filters) -> list[int]:
    stmt = filters.apply(select(Delivery.id).join(Message, Message.id == Delivery.message_id))
    return [i for (i,) in session.execute(stmt)]


def show(session: Session, delivery_id: int, hold_dead: bool = True) -> dict[str, Any] | None:
    d = session.get(Delivery, delivery_id)
    if d is None:
        return None
    attempts = session.execute(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id).order_by(DeliveryAttempt.id)
    ).scalars().all()
    return {
        "id": d.id, "message_id": d.message_id, "target": d.target, "mode": d.mode, "primary": d.primary,
        "state": d.state, "operation": d.operation, "zaak": d.ordering_key, "attempts": d.attempts,
        "created_at": d.created_at, "next_attempt_at": d.next_attempt_at, "finished_at": d.finished_at,
        "lease_owner": d.lease_owner, "lease_expires_at": d.lease_expires_at, "last_error": d.last_error,
        "target_answer": d.target_answer, "steps": d.steps, "note": d.note,
        "waiting_behind": waiting_behind(session, d, hold_dead),
        "history": [
            {"number": a.number, "worker": a.worker, "started_at": a.started_at, "outcome": a.outcome,
             "error": a.error, "duration_ms": a.duration_ms, "target_answer": a.target_answer}
            for a in attempts
        ],
    }
