"""Tables of the ZGW adapter (prefix ``zgw_``).

``zgw_steps``: the API calls a message has completed at the ZGW target, also when the intake called
the target itself (sync primary) and no delivery row records them; a message that is processed again
(resent after a server-side fault, or retried by an operator) resumes after its last completed call.
``zgw_counters``: the counters of identificaties generated from a template (genereer*Identificatie).
``zgw_own_writes``: the writes of a target that subscribes to the Notificaties API, not yet announced,
shared by every broker process (a notification may reach another process than the one that wrote):
``url`` is empty while the write is in flight (broker.adapters.zgw.own_writes).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.tables import Base, BigId


class ZgwStep(Base):
    __tablename__ = "zgw_steps"

    target: Mapped[str] = mapped_column(String(60), primary_key=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    result: Mapped[object | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ZgwCounter(Base):
    __tablename__ = "zgw_counters"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(BigId)


class ZgwOwnWrite(Base):
    __tablename__ = "zgw_own_writes"
    __table_args__ = (Index("ix_zgw_own_writes_target_url", "target", "url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(60))
    url: Mapped[str | None] = mapped_column(String(1000))
    #: the notification that announced it (a hash of its fields)
    claimed: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
