"""Tables of the ZGW adapter (prefix ``zgw_``).

``zgw_steps``: the API calls a message has completed at the ZGW target, also when the intake called
the target itself (sync primary) and no delivery row records them; a message that is processed again
(resent after a server-side fault, or retried by an operator) resumes after its last completed call.
``zgw_counters``: the counters of identificaties generated from a template (genereer*Identificatie).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
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
