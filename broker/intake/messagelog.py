"""Writing the message log: one row per request with the broker's answer (broker.store.tables)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from broker.errors import StufError
from broker.store.tables import Message, MessagePayload
from broker.stuf.stuurgegevens import Stuurgegevens


def dedupe_key(sg: Stuurgegevens) -> str | None:
    if not sg.referentienummer or sg.zender is None:
        return None
    return f"{sg.zender.key}|{sg.referentienummer}"


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass
class Record:
    """Everything known about a request while it is handled; becomes a Message row."""

    port: str
    received_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    request: bytes = b""
    request_content_type: str | None = None
    soap_version: str | None = None
    soap_action: str | None = None
    operation: str | None = None
    dialect: str | None = None
    sg: Stuurgegevens | None = None
    request_hash: str | None = None
    zaak_identificatie: str | None = None
    object_identificatie: str | None = None
    case_model: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def fill(self, row: Message) -> None:
        sg = self.sg or Stuurgegevens()
        z, o = sg.zender, sg.ontvanger
        row.received_at = self.received_at
        row.port = self.port
        row.operation = self.operation
        row.dialect = self.dialect
        row.soap_version = self.soap_version
        row.soap_action = (self.soap_action or None) and self.soap_action[:300]
        row.berichtcode = (sg.berichtcode or None) and sg.berichtcode[:4]
        row.zender_organisatie = z.organisatie if z else None
        row.zender_applicatie = z.applicatie if z else None
        row.zender_administratie = z.administratie if z else None
        row.zender_gebruiker = z.gebruiker if z else None
        row.ontvanger_organisatie = o.organisatie if o else None
        row.ontvanger_applicatie = o.applicatie if o else None
        row.referentienummer = (sg.referentienummer or None) and sg.referentienummer[:100]
        row.cross_refnummer = (sg.crossRefnummer or None) and sg.crossRefnummer[:100]
        row.tijdstip_bericht = (sg.tijdstipBericht or None) and sg.tijdstipBericht[:20]
        row.request_hash = self.request_hash
        row.zaak_identificatie = (self.zaak_identificatie or None) and self.zaak_identificatie[:40]
        row.object_identificatie = (self.object_identificatie or None) and self.object_identificatie[:40]
        row.request_size = len(self.request)


def find_duplicate(session: Session, key: str) -> Message | None:
    return session.execute(select(Message).where(Message.dedupe_key == key)).scalar_one_or_none()


def payload(session: Session, message_id: int) -> MessagePayload | None:
    return session.get(MessagePayload, message_id)


def claim(session: Session, rec: Record, key: str | None, existing: Message | None = None) -> Message:
    """Insert (or, for a retry after a server-side fault, reuse) the row for this request."""
    if existing is not None:
        # ``existing`` may come from an earlier (closed) read session: work on this session's copy
        row = session.get(Message, inspect(existing).identity[0])
        row.attempts = (row.attempts or 1) + 1
    else:
        row = Message(dedupe_key=key, outcome="pending", state="done", http_status=0, attempts=1, replays=0)
        session.add(row)
    rec.fill(row)
    session.flush()
    return row


def finish(
    session: Session,
    row: Message,
    rec: Record,
    *,
    answer: bytes,
    answer_content_type: str,
    answer_berichtcode: str | None,
    http_status: int,
    error: StufError | None,
    state: str = "done",
) -> None:
    rec.fill(row)
    row.answer_berichtcode = answer_berichtcode
    row.http_status = http_status
    row.outcome = "fault" if error is not None else "ok"
    if http_status in (413, 415) or (error is not None and rec.operation is None):
        row.outcome = "rejected" if rec.sg is None else row.outcome
    row.state = state
    row.foutcode = error.code if error else None
    row.fout_plek = error.plek if error else None
    row.fout_omschrijving = error.omschrijving[:200] if error else None
    row.duration_ms = round(rec.timings.get("total_ms", 0.0), 3)
    row.timings = {k: round(v, 3) for k, v in rec.timings.items()}
    row.answer_size = len(answer)
    pl = session.get(MessagePayload, row.id)
    if pl is None:
        pl = MessagePayload(message_id=row.id)
        session.add(pl)
    pl.request = rec.request
    pl.request_content_type = rec.request_content_type
    pl.answer = answer
    pl.answer_content_type = answer_content_type
    pl.case_model = json.dumps(rec.case_model, ensure_ascii=False, default=str) if rec.case_model else None
