"""``used_nonces``: the WS-Security UsernameToken nonces accepted within their window, shared by every
broker process, so that a token replayed to another process is refused too (broker.intake.callers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.tables import Base


class UsedNonce(Base):
    __tablename__ = "used_nonces"

    nonce: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
