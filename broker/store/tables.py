"""Tables of the message log (every request and the broker's answer).

Metadata (``messages``) and payloads (``message_payloads``) are separate tables: lists and filters
never touch the XML, and the retention purge can drop payloads while keeping the metadata.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    #: every broker class is mapped to a Table (DeclarativeBase types it as any FromClause)
    __table__: ClassVar[Table]


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    port: Mapped[str] = mapped_column(String(40))
    operation: Mapped[str | None] = mapped_column(String(60))
    dialect: Mapped[str | None] = mapped_column(String(8))
    soap_version: Mapped[str | None] = mapped_column(String(4))
    soap_action: Mapped[str | None] = mapped_column(String(300))
    berichtcode: Mapped[str | None] = mapped_column(String(4))
    answer_berichtcode: Mapped[str | None] = mapped_column(String(4))
    zender_organisatie: Mapped[str | None] = mapped_column(String(200))
    zender_applicatie: Mapped[str | None] = mapped_column(String(50))
    zender_administratie: Mapped[str | None] = mapped_column(String(50))
    zender_gebruiker: Mapped[str | None] = mapped_column(String(100))
    ontvanger_organisatie: Mapped[str | None] = mapped_column(String(200))
    ontvanger_applicatie: Mapped[str | None] = mapped_column(String(50))
    referentienummer: Mapped[str | None] = mapped_column(String(100), index=True)
    cross_refnummer: Mapped[str | None] = mapped_column(String(100))
    tijdstip_bericht: Mapped[str | None] = mapped_column(String(20))
    #: (zender, referentienummer) of messages that carry both; unique: StUF016 / replay of the answer
    dedupe_key: Mapped[str | None] = mapped_column(String(500), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    zaak_identificatie: Mapped[str | None] = mapped_column(String(40), index=True)
    object_identificatie: Mapped[str | None] = mapped_column(String(40))
    #: "ok" (answered as asked), "fault" (answered with a foutbericht), "rejected" (refused before reading)
    outcome: Mapped[str] = mapped_column(String(12))
    #: delivery state of the whole message: "done", "queued", "partial", "dead", ... (see broker.queue)
    state: Mapped[str] = mapped_column(String(12), default="done")
    foutcode: Mapped[str | None] = mapped_column(String(10))
    fout_plek: Mapped[str | None] = mapped_column(String(6))
    fout_omschrijving: Mapped[str | None] = mapped_column(String(200))
    http_status: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float | None]
    timings: Mapped[dict | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    replays: Mapped[int] = mapped_column(Integer, default=0)
    request_size: Mapped[int | None] = mapped_column(Integer)
    answer_size: Mapped[int | None] = mapped_column(Integer)
    payload_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: the correlation id of the request (the caller's X-Correlation-ID, or one the broker made)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    #: the tolerances (broker.zds.tolerances) the message was accepted under, comma-separated
    tolerances: Mapped[str | None] = mapped_column(String(200))

    # Every index costs on each insert: the single-column filters of the dashboard are served by these
    # composites (column first, then time), the rest by received_at.
    __table_args__ = (
        Index("ix_messages_zender_received", "zender_applicatie", "received_at"),
        Index("ix_messages_operation_received", "operation", "received_at"),
        Index("ix_messages_state_received", "state", "received_at"),
    )


class MessagePayload(Base):
    __tablename__ = "message_payloads"

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    request: Mapped[bytes | None] = mapped_column(LargeBinary)
    request_content_type: Mapped[str | None] = mapped_column(String(300))
    answer: Mapped[bytes | None] = mapped_column(LargeBinary)
    answer_content_type: Mapped[str | None] = mapped_column(String(300))
