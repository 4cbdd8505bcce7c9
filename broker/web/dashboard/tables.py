"""Tables of the dashboard: accounts, the audit log of actions, and the access log of message views.

``message_bsns`` is the keyed-hash index of BSNs for the search by BSN.
``message_views`` keeps who saw which message's personal data unmasked, and when (AVG
accountability). It has no foreign key to ``messages``: the record outlives a purged message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.tables import Base, BigId

VIEWER = "viewer"
OPERATOR = "operator"
ADMINISTRATOR = "administrator"
ROLES = (VIEWER, OPERATOR, ADMINISTRATOR)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    #: bumped when the password changes: sessions that carry an older value end
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: the interface language ("nl", "en"); None: Dutch
    language: Mapped[str | None] = mapped_column(String(5))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict | None] = mapped_column(JSON)


class MessageView(Base):
    __tablename__ = "message_views"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[int] = mapped_column(BigId)
    #: what was shown: "detail" (the message page), "preview" (a mapping preview on this message)
    what: Mapped[str] = mapped_column(String(20))

    __table_args__ = (
        Index("ix_message_views_message", "message_id", "at"),
        Index("ix_message_views_at", "at"),
    )


class MessageBsn(Base):
    """A BSN found in a message, as a keyed hash (HMAC-SHA256 with a key of the broker's): a search by
    BSN finds the message without the index holding a clear-text copy (broker.web.dashboard.bsnindex)."""

    __tablename__ = "message_bsns"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class SearchWatermark(Base):
    """How far an on-demand index has read the message log (the last message id indexed)."""

    __tablename__ = "search_watermarks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigId)
