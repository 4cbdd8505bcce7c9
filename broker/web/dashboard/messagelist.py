"""The message list: filters and keyset paging on (received_at, id), newest first.

No OFFSET and no COUNT over the filtered set: a page is "the next N after this cursor", which costs
the same on page 1 and page 10,000. Each single-column filter has an index that starts with that
column and continues with received_at (broker.store.tables), so the database walks one index in
order and stops after N+1 rows. The list reads ``messages`` only, never ``message_payloads``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from broker.queue import tables as qt
from broker.queue.tables import Delivery
from broker.store.tables import Message
from broker.web.dashboard.tables import MessageBsn

PAGE = 50
MAX_PAGE = 200
#: the operators' time zone: a time typed without an offset is read in it
LOCAL = ZoneInfo("Europe/Amsterdam")
#: a SELECT that the message filters narrow (over messages, or joined with them)
S = TypeVar("S", bound=Select)
STATES = ("done", "queued", "partial", "dead")
#: the states of a delivery, for the "delivery state" filter
DELIVERY_STATES = qt.STATES
OUTCOMES = ("ok", "fault", "rejected")
#: the longest selection a bulk action takes in one go
BULK_CAP = 10_000


class FilterError(ValueError):
    """A filter value that cannot be read; the list and the bulk actions refuse it, never ignore it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

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
    since: str = ""  # a date or date and time, ISO or Dutch notation; without an offset in Europe/Amsterdam
    until: str = ""
    target: str = ""  # messages with a delivery to this target
    delivery: str = ""  # messages with a delivery in this state (to ``target`` when given)
    #: the keyed hash of a BSN (broker.web.dashboard.bsnindex), never the BSN itself
    bsnhash: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, object] | None) -> MessageFilters:
        """From query parameters or a form (a field that is not text, e.g. a file, counts as empty)."""
        values = {f.name: params.get(f.name) if params is not None else None for f in fields(cls)}
        return cls(**{name: v.strip()[:100] if isinstance(v, str) else "" for name, v in values.items()})

    def visible(self) -> dict[str, str]:
        """The filters to show in the form (the hash of a BSN is not something to show or type)."""
        return {k: v for k, v in self.params().items() if k != "bsnhash"}

    def params(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def any(self) -> bool:
        return bool(self.params())

    def errors(self) -> dict[str, str]:
        """Field name -> why its value cannot be used; empty when every filter can be applied."""
        found: dict[str, str] = {}
        if self.state and self.state not in STATES:
            found["state"] = f"unknown state {self.state!r}; one of {', '.join(STATES)}"
        if self.outcome and self.outcome not in OUTCOMES:
            found["outcome"] = f"unknown outcome {self.outcome!r}; one of {', '.join(OUTCOMES)}"
        if self.delivery and self.delivery not in DELIVERY_STATES:
            found["delivery"] = f"unknown delivery state {self.delivery!r}; one of {', '.join(DELIVERY_STATES)}"
        if self.bsnhash and not re.fullmatch(r"[0-9a-f]{64}", self.bsnhash):
            found["bsnhash"] = "not a search by BSN of this dashboard; search again"
        bounds: dict[str, datetime | None] = {}
        for name, end in (("since", False), ("until", True)):
            try:
                bounds[name] = parse_time(getattr(self, name), end=end)
            except FilterError as exc:
                found[name] = exc.message
        since, until = bounds.get("since"), bounds.get("until")
        if since is not None and until is not None and since >= until:
            found["until"] = "lies before (or at) From: nothing can match"
        return found

    def apply(self, stmt: S) -> S:
        """Add the filters to a SELECT over messages; a value that cannot be read raises FilterError."""
        problems = self.errors()
        if problems:
            field, message = next(iter(problems.items()))
            raise FilterError(field, message)
        if self.state:
            stmt = stmt.where(Message.state == self.state)
        if self.operation:
            stmt = stmt.where(Message.operation == self.operation)
        if self.berichtcode:
            stmt = stmt.where(Message.berichtcode == self.berichtcode)
        if self.zender:
            stmt = stmt.where(Message.zender_applicatie == self.zender)
        # part of the value, any case: an operator seldom has the whole identification at hand
        if self.zaak:
            stmt = stmt.where(Message.zaak_identificatie.icontains(self.zaak, autoescape=True))
        if self.referentienummer:
            stmt = stmt.where(Message.referentienummer.icontains(self.referentienummer, autoescape=True))
        if self.target or self.delivery:
            conditions = [Delivery.message_id == Message.id]
            if self.target:
                conditions.append(Delivery.target == self.target)
            if self.delivery:
                conditions.append(Delivery.state == self.delivery)
            stmt = stmt.where(exists().where(*conditions))
        if self.bsnhash:
            stmt = stmt.where(Message.id.in_(select(MessageBsn.message_id).where(MessageBsn.digest == self.bsnhash)))
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


_DUTCH = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_FORMATS = "a date as 2026-12-06 or 06-12-2026, optionally with a time (2026-12-06 05:32, 06-12-2026 05:32)"


def parse_time(value: str, *, end: bool = False) -> datetime | None:
    """A moment from what an operator typed, in UTC; None for an empty value; FilterError otherwise.

    ISO (``2026-12-06``, ``2026-12-06T05:32``, with seconds, ``Z`` or an offset such as ``+01:00``) and
    Dutch notation (``06-12-2026``, ``6-12-2026 05:32``, also with ``/`` or ``.``). A time without an
    offset is local time (Europe/Amsterdam). A bare date as the end of a range includes that whole day.
    """
    value = value.strip()
    if not value:
        return None
    field = "until" if end else "since"
    dutch = _DUTCH.fullmatch(value)
    try:
        if dutch:
            day, month, year, hour, minute, second = dutch.groups()
            only_date = hour is None
            moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        else:
            only_date = len(value) <= 10
            if only_date:
                moment = datetime.combine(date.fromisoformat(value), time())
            else:
                # a "+" of an offset arrives as a space when a URL was typed without encoding it
                moment = datetime.fromisoformat(re.sub(r"(:\d{2}(?:\.\d+)?) (\d{2}:?\d{2})$", r"\1+\2", value))
    except ValueError:
        raise FilterError(field, f"cannot read {value!r} as a date; use {_FORMATS}") from None
    if end and only_date:
        moment += timedelta(days=1)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.astimezone(UTC)


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


def deliveries_of(session: Session, message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The deliveries (target, state) of the messages on a page, for its target and delivery columns."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not message_ids:
        return found
    stmt = (select(Delivery.message_id, Delivery.id, Delivery.target, Delivery.state)
            .where(Delivery.message_id.in_(message_ids)).order_by(Delivery.id))
    for message_id, delivery_id, target, state in session.execute(stmt):
        found.setdefault(message_id, []).append({"id": delivery_id, "target": target, "state": state})
    return found


def dead_deliveries_of(session: Session, filters: MessageFilters, cap: int = BULK_CAP) -> list[int]:
    """Dead deliveries of the messages a filter selects (for a bulk retry), oldest first.

    A filter that cannot be read raises FilterError: a bulk action never runs on a wider selection.

    ``state=dead`` is read as "the dead deliveries" rather than as the messages' own state column,
    which may still say "queued" for a message whose delivery died in a worker."""
    stmt = select(Delivery.id).where(Delivery.state == qt.DEAD)
    if filters.target:  # the dead deliveries to that target, not every dead one of its messages
        stmt = stmt.where(Delivery.target == filters.target)
    chosen = replace(filters, state="") if filters.state == qt.DEAD else filters
    if chosen.any():
        stmt = stmt.where(Delivery.message_id.in_(chosen.apply(select(Message.id))))
    return [i for (i,) in session.execute(stmt.order_by(Delivery.id).limit(cap))]


__all__ = ["MessageFilters", "FilterError", "parse_time", "Page", "page", "query", "dead_deliveries_of",
           "deliveries_of", "encode_cursor", "decode_cursor", "urlencode_filters"]
