"""Tables of the delivery queue.

``deliveries``: one row per (message, target). ``delivery_attempts``: one row per try, with the
target's answer or error (the dashboard's timeline). ``circuits``: the breaker state of each target,
shared by every broker process. ``target_pauses``: targets an operator paused (their queued
deliveries are held). ``delivery_events``: operator actions on a delivery (retry, cancel), for its
timeline. (``zaak_routes`` lives with the
routing, broker.routing.tables.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.tables import Base, BigId

#: delivery states
PENDING = "pending"
IN_PROGRESS = "in_progress"
DELIVERED = "delivered"
RETRYING = "retrying"  # failed, another attempt is scheduled
DEAD = "dead"
CANCELLED = "cancelled"
STATES = (PENDING, IN_PROGRESS, DELIVERED, RETRYING, DEAD, CANCELLED)
OPEN_STATES = (PENDING, IN_PROGRESS, RETRYING)


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(60))
    mode: Mapped[str] = mapped_column(String(8))  # sync | queued
    primary: Mapped[bool] = mapped_column(default=False)
    operation: Mapped[str | None] = mapped_column(String(60))
    #: per-zaak ordering: deliveries with the same key to the same target go in id order
    ordering_key: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: retries and max age count from here: creation, or the moment an operator revived it
    age_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    #: the target's answer to the last attempt (kept for dead letters)
    target_answer: Mapped[str | None] = mapped_column(Text)
    #: completed steps of a multi-call adapter: {step name: recorded result}
    steps: Mapped[dict | None] = mapped_column(JSON)
    #: why a delivery waits or went dead, for operators ("held behind delivery 41", ...)
    note: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        # a claim's order (migration 0009: with ``id``, PostgreSQL stops at the claim's limit)
        Index("ix_deliveries_due", "state", "next_attempt_at", "id"),
        Index("ix_deliveries_order", "target", "ordering_key", "id"),
        # a target's deliveries by state; wider since migration 0009, so that PostgreSQL's planner takes
        # ix_deliveries_open_order (below) for the claim's zaak-order check even without statistics
        Index("ix_deliveries_target_state", "target", "state", "ordering_key", "id"),
        # and, on PostgreSQL only (migration 0008), ix_deliveries_open_order: (target, ordering_key, id)
        # of the open and dead deliveries, for the claim's check for an earlier open delivery of a zaak
    )


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(12))  # delivered | retry | dead
    error: Mapped[str | None] = mapped_column(Text)
    target_answer: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None]


class Circuit(Base):
    __tablename__ = "circuits"

    target: Mapped[str] = mapped_column(String(60), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="closed")  # closed | open | half_open
    failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    probe_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TargetPause(Base):
    """A paused target: workers claim none of its deliveries until an operator resumes it."""

    __tablename__ = "target_pauses"

    target: Mapped[str] = mapped_column(String(60), primary_key=True)
    paused_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paused_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(300))


class DeliveryEvent(Base):
    """An operator's action on a delivery (``retry``, ``cancel``), shown in the message's timeline."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(300))
