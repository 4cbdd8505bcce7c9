"""The message list: filters and keyset paging on (received_at, id), newest first.

No OFFSET and no COUNT over the filtered set: a page is "the next N after this cursor", which costs
the same on page 1 and page 10,000. Each single-column filter has an index that starts with that
column and continues with received_at (broker.store.tables), so the database walks one index in
order and stops after N+1 rows. The list reads ``messages`` only, never ``message_payloads``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from broker.queue import tables as qt
from broker.queue.tables import Delivery
from broker.store.tables import Message

PAGE = 50
MAX_PAGE = 200
#: columns the list shows (and the only ones it reads)
COLUMNS = (Message.id, Message.received_at, Message.operation, Message.berichtcode, Message.answer_berichtcode,
           Message.zender_applicatie, Message.zaak_identificatie, Message.referentienummer, Message.state,
           Message.outcome, Message.foutcode, Message.duration_ms)


@dataclass
class MessageFilters:
    state: str = ""
    operation: str = ""
    berichtcode: str = ""
    zender: str = ""
    zaak: str = ""
    referentienummer: str = ""
    outcome: str = ""
    since: str = ""  # ISO date or datetime (local input is taken as UTC)
    until: str = ""

    @classmethod
    def from_params(cls, params: Any) -> MessageFilters:
        return cls(**{f.name: (params.get(f.name) or "").strip()[:100] for f in fields(cls)})

    def params(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def any(self) -> bool:
        return bool(self.params())

    def apply(self, stmt):  # noqa: ANN001, ANN201 - a Select over messages
        if self.state:
            stmt = stmt.where(Message.state == self.state)
        if self.operation:
            stmt = stmt.where(Message.operation == self.operation)
        if self.berichtcode:
            stmt = stmt.where(Message.berichtcode == self.berichtcode)
        if self.zender:
            stmt = stmt.where(Message.zender_applicatie == self.zender)
        if self.zaak:
            stmt = stmt.where(Message.zaak_identificatie == self.zaak)
        if self.referentienummer:
            stmt = stmt.where(Message.referentienummer == self.referentienummer)
        if self.outcome:
            stmt = stmt.where(Message.outcome == self.outcome)
        since, until = parse_time(self.since), parse_time(self.until, end=True)
        if since is not None:
            stmt = stmt.where(Message.received_at >= since)
        if until is not None:
            stmt = stmt.where(Message.received_at < until)
        return stmt


def urlencode_filters(filters: MessageFilters) -> str:
    return urlencode(filters.params())


def parse_time(value: str, *, end: bool = False) -> datetime | None:
    """'2026-11-29' or '2026-11-29T14:30' (UTC); a bare date as ``until`` includes that whole day."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if end and len(value) <= 10:
        dt += timedelta(days=1)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def encode_cursor(received_at: datetime, message_id: int) -> str:
    raw = f"{_utc(received_at).isoformat()}|{message_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        when, _, ident = raw.partition("|")
        return _utc(datetime.fromisoformat(when)), int(ident)
    except (ValueError, UnicodeDecodeError):
        return None


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None  # older messages
    prev_cursor: str | None  # newer messages


def query(filters: MessageFilters, *, after: str | None = None, before: str | None = None,
          limit: int = PAGE) -> Select:
    """The SELECT of one page (``limit + 1`` rows, to know whether another page follows)."""
    stmt = filters.apply(select(*COLUMNS))
    older, newer = decode_cursor(after), decode_cursor(before)
    if newer is not None:
        t, i = newer
        # received_at >= t is the index range; the OR only decides ties inside it
        stmt = stmt.where(Message.received_at >= t, or_(Message.received_at > t, Message.id > i))
        stmt = stmt.order_by(Message.received_at.asc(), Message.id.asc())
    else:
        if older is not None:
            t, i = older
            stmt = stmt.where(Message.received_at <= t, or_(Message.received_at < t, Message.id < i))
        stmt = stmt.order_by(Message.received_at.desc(), Message.id.desc())
    return stmt.limit(limit + 1)


def page(session: Session, filters: MessageFilters, *, after: str | None = None, before: str | None = None,
         limit: int = PAGE) -> Page:
    """Up to ``limit`` messages older than cursor ``after`` (or newer than ``before``), newest first."""
    limit = max(1, min(limit, MAX_PAGE))
    newer = decode_cursor(before)
    older = decode_cursor(after) if newer is None else None
    rows = [dict(r._mapping) for r in session.execute(query(filters, after=after, before=before, limit=limit))]
    more = len(rows) > limit
    rows = rows[:limit]
    if newer is not None:
        rows.reverse()
        has_older, has_newer = True, more
    else:
        has_older, has_newer = more, older is not None
    return Page(
        rows=rows,
        next_cursor=encode_cursor(rows[-1]["received_at"], rows[-1]["id"]) if rows and has_older else None,
        prev_cursor=encode_cursor(rows[0]["received_at"], rows[0]["id"]) if rows and has_newer else None,
    )


def dead_deliveries_of(session: Session, filters: MessageFilters, cap: int = 10_000) -> list[int]:
    """Dead deliveries of the messages a filter selects (for a bulk retry), oldest first.

    ``state=dead`` is read as "the dead deliveries" rather than as the messages' own state column,
    which may still say "queued" for a message whose delivery died in a worker."""
    stmt = select(Delivery.id).where(Delivery.state == qt.DEAD)
    chosen = replace(filters, state="") if filters.state == qt.DEAD else filters
    if chosen.any():
        stmt = stmt.where(Delivery.message_id.in_(chosen.apply(select(Message.id))))
    return [i for (i,) in session.execute(stmt.order_by(Delivery.id).limit(cap))]


__all__ = ["MessageFilters", "Page", "page", "query", "dead_deliveries_of", "encode_cursor", "decode_cursor",
           "urlencode_filters"]
