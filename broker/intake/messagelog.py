"""Writing the message log: one row per request with the broker's answer (broker.store.tables)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from sqlalchemy import bindparam, delete, func, insert, inspect, select, update
from sqlalchemy.orm import Session

from broker.errors import StufError
from broker.store.db import Executor
from broker.store.inserts import Insert
from broker.store.tables import Message, MessagePayload
from broker.stuf import soap, xmlsafe
from broker.stuf.stuurgegevens import Stuurgegevens


def dedupe_key(sg: Stuurgegevens) -> str | None:
    if not sg.referentienummer or sg.zender is None:
        return None
    return f"{sg.zender.key}|{sg.referentienummer}"


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def body_hash(body: etree._Element) -> str:
    """The hash that makes a resend in another envelope the same message: the StUF body in exclusive
    canonical form, so the envelope (SOAP 1.1 or 1.2, its prefixes, MTOM) and namespace declarations
    the body does not use do not count; prefixes, attributes in any order and the text do. Raises
    StUF055 for a body that has no canonical form (a relative namespace URI)."""
    return content_hash(xmlsafe.canonical(body))


def legacy_body_hash(body: etree._Element) -> str:
    """The hash stored before body_hash: inclusive c14n, which also counted the envelope's namespace
    declarations. Only compared with a message stored by such a version."""
    return content_hash(etree.tostring(body, method="c14n"))


def body_hashes(body: etree._Element) -> Callable[[], tuple[str, ...]]:
    """The request's body hashes (body_hash, legacy_body_hash), computed on the first call only: they
    are needed only when a stored message under the same key is not this request byte for byte
    (about 60 µs of canonical XML for an 11.5 KB creeerZaak, saved on every other message). Empty
    for a body that has no canonical form: only a byte-identical resend is then the same message."""
    found: list[tuple[str, ...]] = []

    def hashes() -> tuple[str, ...]:
        if not found:
            try:
                found.append((body_hash(body), legacy_body_hash(body)))
            except (StufError, etree.C14NError):
                found.append(())
        return found[0]
    return hashes


def stored_body_hash(session: Session, message: Message) -> str | None:
    """body_hash of a stored message's request, read again from its payload; None when the payload
    is gone (purged after the retention period), or it is not a readable SOAP message (it failed
    before it was read) or has no canonical form."""
    stored = payload(session, message.id)
    if stored is None or not stored.request:
        return None
    try:
        request = soap.parse_request(stored.request, stored.request_content_type or "", message.soap_action)
        return body_hash(request.body_element)
    except Exception:  # what could not be read then cannot be now: not the same message
        return None


def same_request(session: Session, rec: Record, existing: Message) -> bool:
    """Whether ``existing`` (stored under the same key) is ``rec`` again: Record.same_content, with the
    stored request's body hash read from ``session`` only when it is needed."""
    return rec.same_content(existing.request_hash, functools.partial(stored_body_hash, session, existing))


@dataclass
class Record:
    """Everything known about a request while it is handled; becomes a Message row."""

    port: str
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    request: bytes = b""
    #: the size as received, when ``request`` holds only an excerpt (refused garbage)
    request_size: int | None = None
    request_content_type: str | None = None
    soap_version: str | None = None
    soap_action: str | None = None
    operation: str | None = None
    dialect: str | None = None
    sg: Stuurgegevens | None = None
    #: sha256 of the request as received (content_hash), stored with it: a byte-identical resend has
    #: the same; the body's own hashes (body_hashes) are computed only when that is not enough
    request_hash: str | None = None
    body_hashes: Callable[[], tuple[str, ...]] | None = None
    zaak_identificatie: str | None = None
    object_identificatie: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    #: the request's correlation id (broker.logging), kept with the message
    correlation_id: str | None = None
    #: the tolerances (broker.zds.tolerances) this message was accepted under
    tolerances: list[str] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        """The columns of the messages row that describe the request."""
        sg = self.sg or Stuurgegevens()
        z, o = sg.zender, sg.ontvanger

        def clip(v: str | None, n: int) -> str | None:
            return v[:n] if v else None

        return {
            "received_at": self.received_at,
            "port": self.port,
            "operation": self.operation,
            "dialect": self.dialect,
            "soap_version": self.soap_version,
            "soap_action": clip(self.soap_action, 300),
            "berichtcode": clip(sg.berichtcode, 4),
            "zender_organisatie": z.organisatie if z else None,
            "zender_applicatie": z.applicatie if z else None,
            "zender_administratie": z.administratie if z else None,
            "zender_gebruiker": z.gebruiker if z else None,
            "ontvanger_organisatie": o.organisatie if o else None,
            "ontvanger_applicatie": o.applicatie if o else None,
            "referentienummer": clip(sg.referentienummer, 100),
            "cross_refnummer": clip(sg.crossRefnummer, 100),
            "tijdstip_bericht": clip(sg.tijdstipBericht, 20),
            "request_hash": self.request_hash,
            "zaak_identificatie": clip(self.zaak_identificatie, 40),
            "object_identificatie": clip(self.object_identificatie, 40),
            "request_size": self.request_size if self.request_size is not None else len(self.request),
            "correlation_id": self.correlation_id,
            "tolerances": ",".join(self.tolerances)[:200] or None,
        }

    def same_content(self, stored_hash: str | None,
                     stored_body_hash: Callable[[], str | None] | None = None) -> bool:
        """Whether a stored message (its ``request_hash``) is this request again (StUF 03.01 §4.4.3): the
        same bytes; or the same StUF body in another envelope, by the body hash an earlier version
        stored, or else by that of the stored request (``stored_body_hash``, read only when needed)."""
        if stored_hash is None:
            return False
        if stored_hash == self.request_hash:
            return True
        mine = self.body_hashes() if self.body_hashes is not None else ()
        if not mine:
            return False
        if stored_hash in mine:  # stored by a version that kept the body's hash
            return True
        theirs = stored_body_hash() if stored_body_hash is not None else None
        return theirs is not None and theirs == mine[0]

    def fill(self, row: Message) -> None:
        for name, value in self.values().items():
            setattr(row, name, value)


#: a new message's row and its payload row (on every message's path: broker.store.inserts)
_NEW_MESSAGES = Insert(Message.__table__)
_NEW_PAYLOADS = Insert(MessagePayload.__table__)


def _answered(rec: Record, key: str | None, answer: bytes, answer_content_type: str, answer_berichtcode: str | None,
              http_status: int, state: str, error: StufError | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The messages row and the payload row of a request answered (with a fault when ``error``), the
    values :func:`finish` gives an ORM row."""
    values = rec.values() | {
        "dedupe_key": key,
        "answer_berichtcode": answer_berichtcode,
        "http_status": http_status,
        "outcome": _outcome(rec, http_status, error),
        "state": state,
        "foutcode": error.code if error else None,
        "fout_plek": error.plek if error else None,
        "fout_omschrijving": error.omschrijving[:200] if error else None,
        "duration_ms": round(rec.timings.get("total_ms", 0.0), 3),
        "timings": {k: round(v, 3) for k, v in rec.timings.items()},
        "answer_size": len(answer),
    }
    payload = {
        "request": rec.request,
        "request_content_type": rec.request_content_type,
        "answer": answer,
        "answer_content_type": answer_content_type,
    }
    return values, payload


def _outcome(rec: Record, http_status: int, error: StufError | None) -> str:
    """ok, fault, or rejected (not a StUF message: no stuurgegevens, refused before it was read)."""
    outcome = "fault" if error is not None else "ok"
    if http_status in (413, 415) or (error is not None and rec.operation is None):
        return "rejected" if rec.sg is None else outcome
    return outcome


def store_answered(session: Executor, rec: Record, key: str | None, existing_id: int | None, *, answer: bytes,
                   answer_content_type: str, answer_berichtcode: str | None, http_status: int, state: str) -> int:
    """The row of a request answered without a fault, written in as few statements as possible
    (it is on every message's path): one insert (or update, when a resend replaces an earlier
    server-side failure) of the metadata and one of the payload."""
    values, payload = _answered(rec, key, answer, answer_content_type, answer_berichtcode, http_status, state)
    messages, payloads = Message.__table__, MessagePayload.__table__
    if existing_id is None:
        return _insert_new(session, values, payload)
    session.execute(update(messages).where(messages.c.id == existing_id)
                    .values(attempts=messages.c.attempts + 1, **values))
    session.execute(delete(payloads).where(payloads.c.message_id == existing_id))
    session.execute(insert(payloads).values(message_id=existing_id, **payload))
    return existing_id


@dataclass(slots=True)
class Answered:
    """A new message answered without a fault, for :func:`store_answered_many`."""

    rec: Record
    key: str | None
    answer: bytes
    answer_content_type: str
    answer_berichtcode: str | None
    http_status: int
    state: str


def store_answered_many(session: Executor, answered: list[Answered]) -> list[int]:
    """:func:`store_answered` for several new messages at once: all messages rows in one statement,
    all payload rows in another (on PostgreSQL one round trip each instead of one per message). Their
    ids, in order."""
    rows = [_answered(a.rec, a.key, a.answer, a.answer_content_type, a.answer_berichtcode, a.http_status, a.state)
            for a in answered]
    ids = _NEW_MESSAGES.rows_with_ids(session, [values | {"attempts": 1, "replays": 0} for values, _ in rows])
    _NEW_PAYLOADS.rows(session, [payload | {"message_id": i} for (_, payload), i in zip(rows, ids, strict=True)])
    return ids


def store_fault(session: Executor, rec: Record, key: str | None, *, answer: bytes, answer_content_type: str,
                answer_berichtcode: str | None, http_status: int, error: StufError) -> int:
    """The rows of a request answered with a fault, new (no earlier row of it to reuse): one insert of
    the metadata and one of the payload, as :func:`store_answered` (what :func:`claim` and
    :func:`finish` write through the ORM, in six statements, for the rare resend that reuses a row)."""
    values, payload = _answered(rec, key, answer, answer_content_type, answer_berichtcode, http_status, "done",
                                error)
    return _insert_new(session, values, payload)


def _insert_new(session: Executor, values: dict[str, Any], payload: dict[str, Any]) -> int:
    """A new message's row and its payload row, two statements; its id. The parameters travel apart
    from the statements, so their compiled forms are cached."""
    message_id = _NEW_MESSAGES.rows_with_ids(session, [values | {"attempts": 1, "replays": 0}])[0]
    _NEW_PAYLOADS.rows(session, [payload | {"message_id": message_id}])
    return message_id


_DUPLICATE = select(Message.__table__.c.id).where(Message.__table__.c.dedupe_key == bindparam("key"))


def duplicate_id(session: Executor, key: str) -> int | None:
    """The id of the message stored under ``key``, if any (a plain statement: a new key, the usual
    case, loads no ORM object)."""
    return session.execute(_DUPLICATE, {"key": key}).scalar_one_or_none()


def find_duplicate(session: Session, key: str) -> Message | None:
    found = duplicate_id(session, key)
    return session.get(Message, found) if found is not None else None


def payload(session: Session, message_id: int) -> MessagePayload | None:
    return session.get(MessagePayload, message_id)


def claim(session: Session, rec: Record, key: str | None, existing: Message | None = None) -> Message:
    """Insert (or, for a retry after a server-side fault, reuse) the row for this request, with the
    request itself: queued deliveries enqueued with it may run before the answer is recorded."""
    row: Message | None = None
    if existing is not None:
        # ``existing`` may come from an earlier (closed) read session: work on this session's copy
        identity = inspect(existing).identity
        row = session.get(Message, identity[0]) if identity is not None else None
    if row is not None:
        row.attempts = (row.attempts or 1) + 1
    else:  # a new request, or the earlier row is gone (purged) since it was read
        row = Message(dedupe_key=key, outcome="pending", state="done", http_status=0, attempts=1, replays=0)
        session.add(row)
    rec.fill(row)
    session.flush()
    if session.get(MessagePayload, row.id) is None and rec.request:
        session.add(MessagePayload(message_id=row.id, request=rec.request,
                                   request_content_type=rec.request_content_type))
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
    row.outcome = _outcome(rec, http_status, error)
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


def count_replay(session: Session, message_id: int) -> None:
    """One more time the stored answer of ``message_id`` was sent for a repeat."""
    session.execute(update(Message).where(Message.id == message_id)
                    .values(replays=func.coalesce(Message.replays, 0) + 1))


def last_tijdstip(session: Session, sg: Stuurgegevens) -> str | None:
    """The latest tijdstipBericht of an answered message of this zender (StUF019), other than the
    same referentienummer (a resend of the same message is exempt)."""
    if sg.zender is None or not sg.zender.applicatie:
        return None
    stmt = select(func.max(Message.tijdstip_bericht)).where(
        Message.zender_applicatie == sg.zender.applicatie,
        Message.zender_organisatie.is_(None) if sg.zender.organisatie is None
        else Message.zender_organisatie == sg.zender.organisatie,
        Message.outcome == "ok",
    )
    if sg.referentienummer:
        stmt = stmt.where(Message.referentienummer != sg.referentienummer)
    return session.execute(stmt).scalar_one_or_none()
