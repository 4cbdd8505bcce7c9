"""The delivery queue: enqueue, claim, run, retry, dead letters, per-zaak order, circuit breakers.

Claiming: a worker selects due deliveries and marks them ``in_progress`` with a lease (owner and
expiry) in one transaction. On PostgreSQL the select takes row locks with ``FOR UPDATE SKIP LOCKED``,
so any number of broker processes on any number of hosts share one queue; on SQLite the broker's
write lock serialises the claim. A worker that dies loses its lease; :meth:`Queue.release_expired`
hands the delivery to the next worker.

Order: a delivery waits while an earlier delivery of the same zaak (``ordering_key``) to the same
target is still open, and, with ``on_dead: hold``, while such a delivery is dead. A kennisgeving to a
subscriber (target ``subscriber:...``, broker.adapters.subscriber) also waits until the primary
delivery of its message is delivered: a subscriber is told of a change once it is made.

Failures: the target says whether an error is worth a retry (``Target.retryable``); a fault caused by
the message's content (``plek`` client: an unknown zaak, zaaktype or status, a document over the size
limit) never is, whatever the target says: the sender must change the message. Retryable errors
are retried with exponential backoff and full jitter until ``max_attempts`` or ``max_age_seconds``;
then, and at once for permanent errors, the delivery is dead, with the target's answer kept.
A target may also say that a message is no longer wanted (an error with ``withdrawn`` set: a StUF-BG
afnemer whose afnemerindicatie was removed, broker.adapters.afnemer): nothing is sent, the delivery is
cancelled.
"""

from __future__ import annotations

import contextvars
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Protocol, overload

import structlog
from sqlalchemy import Integer, String, bindparam, case, exists, func, insert, literal_column, or_, select, update
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from broker.adapters.afnemer import Afnemers
from broker.adapters.subscriber import PREFIX as SUBSCRIBER
from broker.adapters.subscriber import Subscribers
from broker.adapters.targets import DeliveryRequest, Target, prepare_outside_transaction
from broker.errors import AdapterError, StufError
from broker.model.ports import Context, Deferred
from broker.queue import tables as t
from broker.queue.tables import Circuit, Delivery, DeliveryAttempt, DeliveryEvent, TargetPause
from broker.routing.config import DeliveryPolicy
from broker.store import requests
from broker.store.db import Database, Executor
from broker.store.inserts import Insert
from broker.store.requests import StoredRequest
from broker.store.tables import Message, MessagePayload

log = structlog.get_logger("broker.queue")


_NEW_DELIVERIES = Insert(Delivery.__table__)  # a queued message's deliveries (broker.store.inserts)
_NEW_ATTEMPTS = Insert(DeliveryAttempt.__table__)  # a claim's attempts delivered together
_INSERT_ATTEMPT = insert(DeliveryAttempt.__table__)
#: made once, Core statements on the tables (not the mapped classes): every attempt runs them, and
#: building a statement or going through the ORM layer costs more than running it
_DELIVERIES = Delivery.__table__.c
#: what the attempts of a claim start from, in one query: each claimed delivery, its message's
#: correlation id and stored request, and the state of its target's circuit
_CLAIMED = (select(_DELIVERIES.id, _DELIVERIES.state, _DELIVERIES.lease_owner, _DELIVERIES.target,
                   _DELIVERIES.message_id, _DELIVERIES.steps, _DELIVERIES.attempts, Message.correlation_id,
                   Circuit.state.label("circuit"), *requests.COLUMNS)
            .join(Message, Message.id == _DELIVERIES.message_id)
            .outerjoin(Circuit, Circuit.target == _DELIVERIES.target)
            .outerjoin(MessagePayload, MessagePayload.message_id == _DELIVERIES.message_id)
            .where(_DELIVERIES.id.in_(bindparam("ids", expanding=True))))
_CIRCUIT_STATES = select(Circuit.__table__.c.target, Circuit.__table__.c.state)
_CIRCUIT_STATE = select(Circuit.__table__.c.state).where(Circuit.__table__.c.target == bindparam("target"))
_PAUSED = select(TargetPause.__table__.c.target)
_BUSY = (select(func.count()).select_from(Delivery.__table__)
         .where(_DELIVERIES.target == bindparam("target"), _DELIVERIES.state == t.IN_PROGRESS))
_CLAIM = (update(Delivery.__table__).where(_DELIVERIES.id.in_(bindparam("ids", expanding=True)))
          .values(state=t.IN_PROGRESS, lease_owner=bindparam("worker"), lease_expires_at=bindparam("expires"),
                  attempts=func.coalesce(_DELIVERIES.attempts, 0) + 1))
#: who holds these claimed deliveries (read in the transaction that then marks them delivered)
_LEASES = (select(_DELIVERIES.id, _DELIVERIES.lease_owner)
           .where(_DELIVERIES.id.in_(bindparam("ids", expanding=True)), _DELIVERIES.state == t.IN_PROGRESS))
#: claimed deliveries, delivered (in the same transaction as the target's work)
_DELIVERED = (update(Delivery.__table__)
              .where(_DELIVERIES.id.in_(bindparam("ids", expanding=True)))
              .values(state=t.DELIVERED, finished_at=bindparam("now"), note=None, last_error=None,
                      lease_owner=None, lease_expires_at=None))


def _message_state() -> Any:
    """A message is queued while any delivery is open, dead when one is dead, done otherwise: one
    statement for any number of messages (those without deliveries keep their state)."""
    messages = Message.__table__
    mine = _DELIVERIES.message_id == messages.c.id
    has = exists().where(mine)
    return (update(messages)
            .where(messages.c.id.in_(bindparam("message_ids", expanding=True)), has)
            .values(state=case((exists().where(mine, _DELIVERIES.state.in_(t.OPEN_STATES)), "queued"),
                               (exists().where(mine, _DELIVERIES.state == t.DEAD), "dead"),
                               else_="done")))


_SET_MESSAGE_STATE = _message_state()


@cache
def _due(hold_dead: bool, blocked: bool, row_locks: bool, state: str, limit: int) -> Any:
    """The select of a claim, made once for each of its forms (a claim runs many times a second, and
    building it costs more than running it): due deliveries in ``state``, the longest due first, up
    to ``limit``. One state at a time, in the order of the index on (state, next_attempt_at, id): the
    database reads the index from its start and stops at ``limit`` rows that may go, instead of
    reading and sorting every due delivery (on SQLite, with 4,200 due: 3.8 ms a claim, now 0.17 ms).
    A delivery waits behind an open (``hold_dead``: or dead) earlier delivery of its zaak to its target;
    a subscriber's waits until its message's primary delivery is delivered; ``blocked``: deliveries to
    the ``:blocked`` targets (circuit open, paused) are left; ``row_locks``: PostgreSQL's
    ``FOR UPDATE SKIP LOCKED``, so that workers on other hosts skip what this one claims."""
    deliveries = Delivery.__table__
    earlier, primary = deliveries.alias("earlier"), deliveries.alias("primary_delivery")
    holding = t.OPEN_STATES + ((t.DEAD,) if hold_dead else ())
    waits = exists().where(earlier.c.target == _DELIVERIES.target, earlier.c.ordering_key == _DELIVERIES.ordering_key,
                           earlier.c.id < _DELIVERIES.id, earlier.c.state.in_([_sql_text(s) for s in holding]))
    change_made = exists().where(primary.c.message_id == _DELIVERIES.message_id, primary.c.primary.is_(True),
                                 primary.c.state == _sql_text(t.DELIVERED))
    # the states, the subscribers' prefix and the limit written into the SQL: PostgreSQL plans a
    # statement it has prepared (psycopg prepares one that runs often) without the values of its
    # parameters, and without the prefix it ran the subscriber subquery for every due delivery; written
    # here once, not by SQLAlchemy at each execution (literal_execute: a twentieth of a delivery's CPU)
    stmt = (select(_DELIVERIES.id, _DELIVERIES.target, _DELIVERIES.next_attempt_at)
            .where(_DELIVERIES.state == _sql_text(state),
                   _DELIVERIES.next_attempt_at <= bindparam("now"),
                   or_(_DELIVERIES.ordering_key.is_(None), ~waits),
                   or_(~_DELIVERIES.target.startswith(_sql_text(SUBSCRIBER)), change_made))
            .order_by(_DELIVERIES.next_attempt_at, _DELIVERIES.id)
            .limit(literal_column(str(int(limit)), Integer)))
    if blocked:
        stmt = stmt.where(_DELIVERIES.target.not_in(bindparam("blocked", expanding=True)))
    if row_locks:
        stmt = stmt.with_for_update(skip_locked=True, of=deliveries)
    return stmt


def _sql_text(value: str) -> Any:
    """A constant text of the broker's own (no quote in it) as an SQL literal."""
    assert "'" not in value
    return literal_column(f"'{value}'", String)


@dataclass(frozen=True)
class _Shared:
    """A claimed delivery to a target in the broker's own transaction, ready for the group commit."""
    delivery_id: int
    worker: str
    target: Target
    request: DeliveryRequest
    message_id: int
    steps: dict
    attempt: int
    started: datetime
    t0: float
    context: contextvars.Context


class Requests(Protocol):
    """Where the queue gets a delivery's request from (broker.intake.rebuild.StoredRequests)."""

    def from_stored(self, message_id: int, stored: StoredRequest | None, *, raw: bool = True) -> DeliveryRequest: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def worker_id(kind: str = "worker") -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"


@dataclass
class Outcome:
    delivery_id: int
    result: str  # delivered | retry | dead | skipped | cancelled
    error: str | None = None


@overload
def _aware(dt: datetime) -> datetime: ...
@overload
def _aware(dt: datetime | None) -> datetime | None: ...
def _aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the queue stores is UTC."""
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt


class _Grouped:
    """A delivery's work prepared for the group commit: committed (``future`` set), then its outcome read."""

    def __init__(self, work: Callable[[Connection], bool], outcome: Callable[[Future[bool]], Outcome],
                 attempt: int, *, batch: Callable[[Connection, list[Any]], list[bool]] | None = None,
                 item: object = None) -> None:
        self.work, self.read, self.attempt = work, outcome, attempt
        self.batch, self.item = batch, item
        self.future: Future[bool] | None = None
        #: the delivery's log fields, bound when its outcome is read
        self.context = contextvars.Context()

    def outcome(self) -> Outcome:
        assert self.future is not None, "committed first"
        return self.read(self.future)


class Queue:
    def __init__(self, db: Database, policy: DeliveryPolicy, targets: dict[str, Target],
                 requests: Requests) -> None:
        self.db = db
        self.policy = policy
        self.targets = targets
        self.requests = requests
        #: the subscribed applications (applications.yaml), targets beside those of routes.yaml
        self.subscribers: Subscribers | None = None
        #: the StUF-BG afnemers (applications.yaml, broker.adapters.afnemer), targets too
        self.afnemers: Afnemers | None = None
        self._held: set[int] = set()  # sync deliveries the intake of this process is making now
        self._held_lock = threading.Lock()
        #: held by the one thread of this process that claims, or prepares and commits deliveries in
        #: the broker's transaction (run_many)
        self._drain_work = threading.Lock()
        self._keeper: threading.Thread | None = None
        #: called with (target, outcome, seconds) when a delivery attempt ends (broker.web.metrics); not
        #: for a primary served in the request's own transaction (the request's metrics count it)
        self.listeners: list[Callable[[str, str, float], None]] = []

    # -- enqueue -------------------------------------------------------------------------------
    def enqueue(self, session: Session, message_id: int, legs: list, operation: str,
                ordering_key: str | None, *, lease_owner: str | None = None) -> list[Delivery]:
        """Delivery rows for every leg of a message; sync legs are leased to the intake at once."""
        now = utcnow()
        rows = []
        for leg in legs:
            sync = leg.mode == "sync"
            row = Delivery(
                message_id=message_id, target=leg.target.name, mode=leg.mode, primary=leg.primary,
                operation=operation, ordering_key=ordering_key, attempts=1 if sync else 0,
                state=t.IN_PROGRESS if sync else t.PENDING, created_at=now, age_from=now,
                next_attempt_at=now, steps={},
                lease_owner=lease_owner if sync else None,
                lease_expires_at=now + timedelta(seconds=self.policy.lease_seconds) if sync else None,
            )
            session.add(row)
            rows.append(row)
        session.flush()
        return rows

    def add(self, session: Executor, message_id: int, legs: list, operation: str, ordering_key: str | None,
            *, primary_done: bool, t0: float | None = None) -> None:
        """The delivery rows of a message whose primary target was served in the request's own
        transaction (or that is queued entirely), inserted through broker.store.inserts (this is on
        every message's path). A primary delivered here gets its attempt recorded at once."""
        if primary_done:
            self.add_delivered(session, [(message_id, legs, operation, ordering_key, t0)])
        else:
            self.add_queued(session, [(message_id, legs, operation, ordering_key)])

    def add_delivered(self, session: Executor,
                      messages: list[tuple[int, list, str, str | None, float | None]]) -> None:
        """The delivery rows of several messages ((message id, legs, operation, ordering key, t0)) whose
        primary target was served in the request's own transaction, numbered in the order of their legs,
        in one statement; the attempts of those primaries in another (``t0``: when the work began)."""
        now = utcnow()
        rows: list[dict[str, object]] = []
        delivered: list[float | None | bool] = []  # per row: False, or the t0 of a primary delivered
        for message_id, legs, operation, ordering_key, t0 in messages:
            for leg in legs:
                rows.append(_delivery_row(message_id, leg, operation, ordering_key, now, done=leg.primary))
                delivered.append(t0 if leg.primary else False)
        ids = _NEW_DELIVERIES.rows_with_ids(session, rows)
        _NEW_ATTEMPTS.rows(session, [dict(
            delivery_id=delivery_id, number=1, worker="intake", started_at=now, finished_at=now,
            outcome="delivered", duration_ms=round((time.perf_counter() - t0) * 1000, 3) if t0 else None)
            for delivery_id, t0 in zip(ids, delivered, strict=True) if t0 is not False])

    def add_queued(self, session: Executor, messages: list[tuple[int, list, str, str | None]]) -> None:
        """The delivery rows of several queued messages ((message id, legs, operation, ordering key)),
        all in one statement."""
        now = utcnow()
        rows = [_delivery_row(message_id, leg, operation, ordering_key, now, done=False)
                for message_id, legs, operation, ordering_key in messages for leg in legs]
        _NEW_DELIVERIES.rows(session, rows)

    def delivered_in_intake(self, session: Session, row: Delivery, t0: float) -> None:
        """A sync delivery the intake made itself (in the request's transaction for the embedded target)."""
        self._record(session, row, "intake", row.attempts or 1, utcnow(), t0, "delivered", None, None)
        self._circuit(session, row.target, ok=True) if not self.targets[row.target].shares_transaction else None

    @contextmanager
    def held_by_intake(self, delivery_id: int) -> Iterator[None]:
        """Keep the lease of a sync delivery alive while the intake waits on its target, so that no
        worker takes it over (and calls the target a second time) when the call outlasts the lease."""
        with self._held_lock:
            self._held.add(delivery_id)
            if self._keeper is None:
                self._keeper = threading.Thread(target=self._keep_leases, name="intake-leases", daemon=True)
                self._keeper.start()
        try:
            yield
        finally:
            with self._held_lock:
                self._held.discard(delivery_id)

    def _keep_leases(self) -> None:
        interval = max(0.2, self.policy.lease_seconds / 3)
        while True:
            time.sleep(interval)
            with self._held_lock:
                ids = list(self._held)
                if not ids:
                    self._keeper = None
                    return
            try:
                with self.db.write() as s:
                    s.execute(update(Delivery).where(Delivery.id.in_(ids), Delivery.state == t.IN_PROGRESS)
                              .values(lease_expires_at=utcnow() + timedelta(seconds=self.policy.lease_seconds)))
            except SQLAlchemyError:
                log.warning("could not renew the leases of the intake", exc_info=True)

    def failed_in_intake(self, delivery_id: int, t0: float, exc: BaseException) -> None:
        """The primary target refused or failed a sync delivery: the sender hears it in the answer.
        The delivery is dead (an operator may retry it); the circuit counts the failure."""
        with self.db.write() as s:
            row = s.get(Delivery, delivery_id)
            if row is None:
                return
            target = self.target(row.target)
            error = _describe(exc)
            self._record(s, row, "intake", row.attempts or 1, utcnow(), t0, "dead", error,
                         getattr(exc, "target_answer", None))
            row.state = t.DEAD
            row.note = "answered to the sender with a fault"
            if target is not None and target.retryable(exc):
                self._circuit(s, row.target, ok=False, error=error)
            refresh_message_state(s, row.message_id)

    # -- claiming ------------------------------------------------------------------------------
    def claim(self, worker: str, limit: int | None = None) -> list[int]:
        """Due deliveries, up to ``limit``, leased to ``worker``; by one thread of the process at a time
        (:meth:`run_many`)."""
        now = utcnow()
        with self._drain_work, self.db.write() as s:
            circuits: dict[str, str] = {target: state for target, state in s.execute(_CIRCUIT_STATES)}
            blocked = [name for name, state in circuits.items() if state == "open"]
            blocked += list(s.execute(_PAUSED).scalars())  # paused by an operator
            probing = {name for name, state in circuits.items() if state == "half_open"}
            limit = limit or self.policy.batch_size
            params: dict[str, Any] = {"now": now}
            if blocked:
                params["blocked"] = blocked
            rows = [row for state in (t.PENDING, t.RETRYING)
                    for row in s.execute(_due(self.policy.on_dead == "hold", bool(blocked), not self.db.is_sqlite,
                                              state, limit), params)]
            rows.sort(key=lambda row: (_aware(row.next_attempt_at), row.id))
            claimed = []
            probed: set[str] = set()
            for delivery_id, target, _ in rows[:limit]:
                if target in probing:  # a half-open circuit lets one delivery through, to probe
                    if target in probed or s.execute(_BUSY, {"target": target}).scalar_one():
                        continue
                    probed.add(target)
                claimed.append(delivery_id)
            if claimed:  # one statement for the claim (rows loaded into the ORM cost more than the query)
                s.execute(_CLAIM, {"ids": claimed, "worker": worker,
                                   "expires": now + timedelta(seconds=self.policy.lease_seconds)})
            return claimed

    # -- running -------------------------------------------------------------------------------
    def run(self, delivery_id: int, worker: str) -> Outcome:
        """One attempt of a claimed delivery. Its log lines carry the delivery, its message and target and
        the message's correlation id, which the target's HTTP requests carry too (broker.adapters.http)."""
        return self.run_many([delivery_id], worker)[0]

    def run_many(self, delivery_ids: list[int], worker: str,
                 stopping: Callable[[], bool] | None = None) -> list[Outcome]:
        """One attempt of each claimed delivery (a claim holds at most one delivery per target and
        ordering key, so they do not depend on one another). Deliveries to a target that works in the
        broker's own transaction (the embedded zaaksysteem) go to the group commit together: one
        transaction and one fsync for all of them, each in a savepoint of its own; the others are
        attempted one after another first. Once ``stopping()`` says so, the rest is left unattempted
        (their leases run out; another worker, or this one restarted, takes them).

        One thread of the process at a time claims, or prepares and commits its claim's deliveries in
        the broker's transaction (:attr:`_drain_work`): that work holds the interpreter, and the write
        lock of every process while it commits; with two threads doing it at once, each held the write
        lock longer while it waited for the interpreter (two `worker` processes of two threads drained
        15 % slower than with one thread each, docs/performance.md). Deliveries to other targets, which
        wait on those targets, still run side by side."""
        outcomes: dict[int, Outcome] = {}
        with self.db.engine.connect() as conn:  # the claimed rows and their messages, in one query
            claimed = {row.id: row for row in conn.execute(_CLAIMED, {"ids": list(delivery_ids)})}
        in_transaction = [d for d in delivery_ids if self._in_broker_transaction(claimed.get(d))]
        shared = set(in_transaction)
        elsewhere = [d for d in delivery_ids if d not in shared]
        for delivery_id in elsewhere:
            if stopping is not None and stopping():
                break
            begun = self._begin(delivery_id, claimed.get(delivery_id), worker)
            assert not isinstance(begun, _Grouped), "a target outside the broker's transaction"
            outcomes[delivery_id] = begun
        grouped: list[tuple[int, _Grouped]] = []
        if in_transaction and not (stopping is not None and stopping()):
            with self._drain_work:
                for delivery_id in in_transaction:
                    if stopping is not None and stopping():
                        break
                    begun = self._begin(delivery_id, claimed.get(delivery_id), worker)
                    if isinstance(begun, _Grouped):  # prepared for the group commit: committed below
                        grouped.append((delivery_id, begun))
                    else:
                        outcomes[delivery_id] = begun
                # one group, committed by this thread (which would only wait for the committer thread)
                futures = self.db.commit_here([(work.work, work.batch, work.item) for _, work in grouped])
            for (_, work), future in zip(grouped, futures, strict=True):
                work.future = future
        for delivery_id, work in grouped:
            outcomes[delivery_id] = work.context.run(self._ended_grouped, work)
        return [outcomes[d] for d in delivery_ids if d in outcomes]

    def _in_broker_transaction(self, row: Any) -> bool:
        """Whether a claimed delivery (its row, as :meth:`run_many` read it) goes to a target that
        works in the broker's transaction."""
        target = self.target(row.target) if row is not None else None
        return target is not None and target.shares_transaction

    def _begin(self, delivery_id: int, row: Any, worker: str) -> Outcome | _Grouped:
        """A claimed delivery's attempt (with its log fields bound): its outcome, or its work prepared
        for the group commit (whose ``context`` holds the log fields)."""
        if row is None or row.state != t.IN_PROGRESS or row.lease_owner != worker:
            return Outcome(delivery_id, "skipped")
        target_name, message_id, steps, attempt = row.target, row.message_id, dict(row.steps or {}), row.attempts
        with structlog.contextvars.bound_contextvars(delivery_id=delivery_id, message_id=message_id,
                                                     target=target_name, correlation_id=row.correlation_id):
            # claimed while another attempt opened the circuit (of this claim, of another thread or
            # process, since the claim was read): left alone
            if row.circuit == "open" or self._opened_since_read(target_name):
                return self._put_back(delivery_id, worker)
            begun = self._attempt(delivery_id, worker, target_name, message_id, steps, attempt,
                                  requests.from_row(row))
            if isinstance(begun, Outcome):
                return self._ended(begun, attempt)
            begun.context = contextvars.copy_context()
            return begun

    def _opened_since_read(self, target_name: str) -> bool:
        """Whether the circuit of a target outside the broker's transaction is open now: read again
        before each of its attempts, which costs a query beside a call to the target, so that a claim
        of many deliveries to a target that goes down stops calling it once the circuit opens. Not
        for a target in the broker's transaction (no query per delivery of the drain)."""
        target = self.target(target_name)
        if target is None or target.shares_transaction:
            return False
        with self.db.engine.connect() as conn:
            return conn.execute(_CIRCUIT_STATE, {"target": target_name}).scalar_one_or_none() == "open"

    def _ended(self, outcome: Outcome, attempt: int) -> Outcome:
        ended = log.info if outcome.result in ("delivered", "skipped", "cancelled") else log.warning
        ended("delivery attempt ended", outcome=outcome.result, attempt=attempt)
        return outcome

    def _ended_grouped(self, work: _Grouped) -> Outcome:
        return self._ended(work.outcome(), work.attempt)

    def _put_back(self, delivery_id: int, worker: str) -> Outcome:
        """A claimed delivery whose target's circuit opened before its attempt began: back in the queue,
        its attempt not counted; a claim takes it again once the circuit lets deliveries through."""
        with self.db.write() as s:
            row = s.get(Delivery, delivery_id)
            if row is None or row.state != t.IN_PROGRESS or row.lease_owner != worker:
                return Outcome(delivery_id, "skipped")
            row.attempts = max(0, (row.attempts or 0) - 1)
            row.state = t.RETRYING if row.attempts else t.PENDING
            row.lease_owner, row.lease_expires_at = None, None
        log.info("delivery put back: the circuit is open")
        return Outcome(delivery_id, "skipped")

    def target(self, name: str) -> Target | None:
        """The target of routes.yaml, or the subscriber, of this name."""
        found = self.targets.get(name)
        if found is None and self.subscribers is not None:
            found = self.subscribers.get(name)
        if found is None and self.afnemers is not None:
            return self.afnemers.get(name)
        return found

    def _attempt(self, delivery_id: int, worker: str, target_name: str, message_id: int, steps: dict,
                 attempt: int, stored: StoredRequest | None) -> Outcome | _Grouped:
        """The attempt's outcome; or, for a target in the broker's own transaction, its work prepared
        for the group commit."""
        target = self.target(target_name)
        started = utcnow()
        t0 = time.perf_counter()
        if target is None:
            return self._finish(delivery_id, worker, attempt, started, t0, None,
                                StufError("StUF058", f"Onbekend doel {target_name}", plek="client"), False)
        try:
            # the message as bytes only for a target that forwards it (not one in the broker's transaction)
            request = self.requests.from_stored(message_id, stored, raw=not target.shares_transaction)
        except Exception as exc:  # a stored message that no longer reads is permanent
            return self._finish(delivery_id, worker, attempt, started, t0, None, exc, False)
        if target.shares_transaction:
            prepare_outside_transaction(target, request)
            return self._submit(delivery_id, worker, target_name, target, request, message_id, steps, attempt,
                                started, t0)
        ctx = Context(session=None, zender=request.zds.stuurgegevens.zender, message_id=message_id,
                      steps=steps, record_step=lambda name, result: self._save_step(delivery_id, name, result))
        try:
            target.deliver(request, ctx)
        except Exception as exc:
            return self._finish(delivery_id, worker, attempt, started, t0, target, exc, None)
        return self._finish(delivery_id, worker, attempt, started, t0, target, None, None)

    def _submit(self, delivery_id: int, worker: str, target_name: str, target: Target, request: DeliveryRequest,
                message_id: int, steps: dict, attempt: int, started: datetime, t0: float) -> _Grouped:
        """The delivery to a target that works in the broker's transaction, in the group commit. The
        deliveries next to each other in a group go through :meth:`_deliver_together` at once; should
        that fail, the group runs again with each delivery's work in a savepoint of its own, so that a
        failure rolls back that delivery's writes alone. The work runs in the worker's thread, in the
        claim's transaction (with this delivery's log fields), and may run twice, so it only writes to
        the database."""
        item = _Shared(delivery_id, worker, target, request, message_id, steps, attempt, started, t0,
                       contextvars.copy_context())

        def outcome(future: Future[bool]) -> Outcome:
            try:
                done = future.result()
            except Exception as exc:  # every failure is recorded on the delivery
                return self._finish(delivery_id, worker, attempt, started, t0, target, exc, None)
            if not done:
                return Outcome(delivery_id, "skipped")
            self._notify(target_name, "delivered", time.perf_counter() - t0)
            return Outcome(delivery_id, "delivered")
        return _Grouped(lambda conn: self._deliver_together(conn, [item])[0], outcome, attempt,
                        batch=self._deliver_together, item=item)

    def _deliver_together(self, conn: Connection, items: list[_Shared]) -> list[bool]:
        """Deliveries to targets in the broker's transaction, on the group's connection, each marked
        delivered only if its worker still holds it (a lease lost: nothing is done, False), then the
        target's work for each (in one ORM session; in that delivery's log context), their attempts
        and their messages' states: a statement per table for all of them, not one per delivery.
        Any failure fails them all (the group commit then runs each on its own, in a savepoint)."""
        now = utcnow()
        owners = dict(conn.execute(_LEASES, {"ids": [i.delivery_id for i in items]}).all())
        mine = [owners.get(i.delivery_id) == i.worker for i in items]
        held = [i for i, ok in zip(items, mine) if ok]
        if not held:
            return mine
        conn.execute(_DELIVERED, {"ids": [i.delivery_id for i in held], "now": now})
        # the session joins the group's transaction (its commit does not end that transaction; in a
        # savepoint of the group commit, it releases a savepoint of the session's own)
        with Session(bind=conn) as s:
            deferred = Deferred()  # e.g. the new zaken of them all, inserted together
            for i in held:
                ctx = Context(session=s, deferred=deferred, zender=i.request.zds.stuurgegevens.zender,
                              message_id=i.message_id, steps=i.steps, prepared=i.request.zds.prepared)
                i.context.run(i.target.deliver, i.request, ctx)
            deferred.flush()
            s.commit()
        finished = utcnow()
        _NEW_ATTEMPTS.rows(conn, [{
            "delivery_id": i.delivery_id, "number": i.attempt, "worker": i.worker, "started_at": i.started,
            "finished_at": finished, "outcome": "delivered", "error": None, "target_answer": None,
            "duration_ms": round((time.perf_counter() - i.t0) * 1000, 3)} for i in held])
        refresh_message_states(conn, {i.message_id for i in held})
        return mine

    def _save_step(self, delivery_id: int, name: str, result: object) -> None:
        with self.db.write() as s:
            row = s.get(Delivery, delivery_id)
            if row is not None:
                steps = dict(row.steps or {})
                steps[name] = result
                row.steps = steps

    def _finish(self, delivery_id: int, worker: str, attempt: int, started: datetime, t0: float,
                target: Target | None, exc: BaseException | None, retryable: bool | None) -> Outcome:
        with self.db.write() as s:
            row = s.get(Delivery, delivery_id)
            if row is None or row.lease_owner != worker or row.state != t.IN_PROGRESS:
                log.warning("lease lost before the outcome was recorded", delivery_id=delivery_id)
                return Outcome(delivery_id, "skipped")
            if exc is None:
                self._record(s, row, worker, attempt, started, t0, "delivered", None, None)
                self._circuit(s, row.target, ok=True)
                return Outcome(delivery_id, "delivered")
            if getattr(exc, "withdrawn", False):  # no longer wanted (an afnemerindicatie removed): nothing sent
                self._record(s, row, worker, attempt, started, t0, "cancelled", str(exc), None)
                row.state, row.finished_at, row.note = t.CANCELLED, utcnow(), str(exc)[:300]
                s.flush()
                refresh_message_state(s, row.message_id)
                return Outcome(delivery_id, "cancelled", str(exc))
            if retryable is None:
                retryable = target.retryable(exc) if target is not None else False
            retryable = retryable and not content_fault(exc)
            error = _describe(exc)
            answer = getattr(exc, "target_answer", None)
            if not isinstance(exc, (StufError, AdapterError)):
                log.error("delivery failed unexpectedly", delivery_id=delivery_id, target=row.target,
                          error_type=type(exc).__name__)
            too_old = utcnow() - _aware(row.age_from) > timedelta(seconds=self.policy.max_age_seconds)
            if retryable and row.attempts < self.policy.max_attempts and not too_old:
                delay = self.backoff(row.attempts)
                row.next_attempt_at = utcnow() + timedelta(seconds=delay)
                self._record(s, row, worker, attempt, started, t0, "retry", error, answer)
                row.state = t.RETRYING
                self._circuit(s, row.target, ok=False, error=error)
                return Outcome(delivery_id, "retry", error)
            reason = ("permanent error" if not retryable else
                      "too old" if too_old else f"{row.attempts} attempts")
            self._record(s, row, worker, attempt, started, t0, "dead", error, answer)
            row.state = t.DEAD
            row.note = f"dead: {reason}"[:300]
            if retryable:
                self._circuit(s, row.target, ok=False, error=error)
            return Outcome(delivery_id, "dead", error)

    def backoff(self, attempts: int) -> float:
        """Exponential backoff with full jitter (between half and all of the exponential delay)."""
        base = min(self.policy.backoff_max_seconds, self.policy.backoff_initial_seconds * 2 ** max(0, attempts - 1))
        return random.uniform(base / 2, base)

    def _record(self, s: Session, row: Delivery, worker: str, attempt: int, started: datetime, t0: float,
                outcome: str, error: str | None, answer: str | None) -> None:
        now = utcnow()
        seconds = time.perf_counter() - t0
        s.execute(_INSERT_ATTEMPT, {"delivery_id": row.id, "number": attempt, "worker": worker, "started_at": started,
                                 "finished_at": now, "outcome": outcome, "error": error, "target_answer": answer,
                                 "duration_ms": round(seconds * 1000, 3)})
        self._notify(row.target, outcome, seconds)
        row.last_error = error
        if answer is not None:
            row.target_answer = answer
        if outcome == "delivered":
            row.state = t.DELIVERED
            row.finished_at = now
            row.note = None
        elif outcome == "dead":
            row.state = t.DEAD
            row.finished_at = now
        else:
            row.state = t.RETRYING
        row.lease_owner = None
        row.lease_expires_at = None
        s.flush()
        refresh_message_state(s, row.message_id)

    def _notify(self, target: str, outcome: str, seconds: float) -> None:
        for listener in self.listeners:
            try:
                listener(target, outcome, seconds)
            except Exception:  # metrics never fail a delivery
                log.exception("a queue listener failed")

    # -- circuit breaker -----------------------------------------------------------------------
    def ensure_circuits(self) -> None:
        """One circuit row per target, created up front so workers only ever update (and lock) it."""
        with self.db.write() as s:
            known = set(s.execute(select(Circuit.target)).scalars())
            for name in [*self.targets, *(self.subscribers.names() if self.subscribers is not None else []),
                         *(self.afnemers.names() if self.afnemers is not None else [])]:
                if name not in known:
                    s.add(Circuit(target=name, state="closed", failures=0))
        # two processes starting together may both try; the loser's insert fails harmlessly

    def _circuit(self, s: Session, target: str, *, ok: bool, error: str | None = None) -> None:
        stmt = select(Circuit).where(Circuit.target == target)
        if not self.db.is_sqlite:
            stmt = stmt.with_for_update()
        c = s.execute(stmt).scalar_one_or_none()
        now = utcnow()
        if c is None:
            return
        if ok:
            if c.state != "closed":
                log.info("circuit closed", target=target)
            c.state, c.failures, c.opened_at, c.probe_at = "closed", 0, None, None
        else:
            c.failures = (c.failures or 0) + 1
            c.last_error = error
            if c.state == "half_open" or c.failures >= self.policy.circuit_failure_threshold:
                if c.state != "open":
                    log.warning("circuit opened", target=target, failures=c.failures)
                c.state = "open"
                c.opened_at = now
                c.probe_at = now + timedelta(seconds=self.policy.circuit_open_seconds)
        c.updated_at = now

    def probe_circuits(self) -> int:
        """Open circuits whose wait is over become half-open: one delivery may probe the target."""
        with self.db.write() as s:
            result = s.execute(
                update(Circuit).where(Circuit.state == "open", Circuit.probe_at <= utcnow())
                .values(state="half_open", updated_at=utcnow())
            )
            n = result.rowcount if isinstance(result, CursorResult) else 0  # an UPDATE: a CursorResult
        return n or 0

    # -- housekeeping --------------------------------------------------------------------------
    def release_expired(self) -> int:
        """Deliveries whose worker stopped renewing its lease go back to the queue."""
        now = utcnow()
        with self.db.write() as s:
            rows = list(s.execute(select(Delivery).where(
                Delivery.state == t.IN_PROGRESS, Delivery.lease_expires_at < now)).scalars())
            for row in rows:
                log.warning("lease expired; delivery released", delivery_id=row.id, owner=row.lease_owner)
                s.add(DeliveryAttempt(delivery_id=row.id, number=row.attempts, worker=row.lease_owner,
                                      started_at=_aware(row.lease_expires_at) or now, finished_at=now,
                                      outcome="retry", error="lease expired (worker stopped)"))
                row.state = t.RETRYING
                row.lease_owner = None
                row.lease_expires_at = None
                row.next_attempt_at = now
                row.last_error = "lease expired (worker stopped)"
            return len(rows)

    def renew(self, delivery_id: int, worker: str) -> None:
        with self.db.write() as s:
            s.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.lease_owner == worker)
                      .values(lease_expires_at=utcnow() + timedelta(seconds=self.policy.lease_seconds)))

    # -- operator actions ----------------------------------------------------------------------
    def retry(self, ids: list[int], actor: str = "operator") -> int:
        """Revive dead, cancelled or waiting deliveries: due now, with a fresh attempt budget. The
        action is kept on each delivery (``delivery_events``) for its timeline."""
        now = utcnow()
        with self.db.write() as s:
            rows = list(s.execute(select(Delivery).where(
                Delivery.id.in_(ids), Delivery.state.in_((t.DEAD, t.CANCELLED, t.RETRYING)))).scalars())
            for row in rows:
                s.add(DeliveryEvent(delivery_id=row.id, at=now, actor=actor[:120], action="retry",
                                    note=f"was {row.state}"))
                row.state, row.attempts, row.next_attempt_at, row.age_from = t.PENDING, 0, now, now
                row.note = "retried by an operator"
                row.finished_at = None
                refresh_message_state(s, row.message_id)
            return len(rows)

    def cancel(self, ids: list[int], actor: str = "operator") -> int:
        now = utcnow()
        with self.db.write() as s:
            rows = list(s.execute(select(Delivery).where(
                Delivery.id.in_(ids), Delivery.state.in_((t.PENDING, t.RETRYING, t.DEAD)))).scalars())
            for row in rows:
                s.add(DeliveryEvent(delivery_id=row.id, at=now, actor=actor[:120], action="cancel",
                                    note=f"was {row.state}"))
                row.state = t.CANCELLED
                row.finished_at = now
                row.note = "cancelled by an operator"
                refresh_message_state(s, row.message_id)
            return len(rows)

    def pause(self, target: str, actor: str, reason: str | None = None) -> bool:
        """Hold the queued deliveries of ``target``: no worker claims them until :meth:`resume`.
        A delivery already in progress finishes. False when it was paused already."""
        with self.db.write() as s:
            if s.get(TargetPause, target) is not None:
                return False
            s.add(TargetPause(target=target, paused_at=utcnow(), paused_by=actor[:120],
                              reason=(reason or None) and reason[:300]))
        log.info("target paused", target=target)
        return True

    def resume(self, target: str) -> bool:
        with self.db.write() as s:
            row = s.get(TargetPause, target)
            if row is None:
                return False
            s.delete(row)
        log.info("target resumed", target=target)
        return True

    def purge_payloads(self, older_than_days: int | None = None) -> int:
        """Drop raw XML of messages older than the retention; their metadata and deliveries stay.
        Messages with open deliveries keep their payload (it is needed to deliver them)."""

        days = self.policy.retention_days if older_than_days is None else older_than_days
        if days <= 0 and older_than_days is None:
            return 0
        cutoff = utcnow() - timedelta(days=days)
        with self.db.write() as s:
            open_msgs = select(Delivery.message_id).where(Delivery.state.in_(t.OPEN_STATES))
            ids = [i for (i,) in s.execute(select(Message.id).where(
                Message.received_at < cutoff, Message.payload_purged_at.is_(None),
                Message.id.not_in(open_msgs)))]
            answers = 0
            for chunk in range(0, len(ids), 500):
                part = ids[chunk:chunk + 500]
                s.query(MessagePayload).filter(MessagePayload.message_id.in_(part)).delete(synchronize_session=False)
                s.execute(update(Message).where(Message.id.in_(part)).values(payload_purged_at=utcnow()))
                # the targets' answers may quote the message (personal data): they go with it; errors stay
                deliveries = select(Delivery.id).where(Delivery.message_id.in_(part))
                answers += _rowcount(s.execute(update(Delivery).where(Delivery.message_id.in_(part),
                                                                      Delivery.target_answer.is_not(None))
                                               .values(target_answer=None)))
                answers += _rowcount(s.execute(update(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(deliveries),
                                                                             DeliveryAttempt.target_answer.is_not(None))
                                               .values(target_answer=None)))
        log.info("payloads purged", messages=len(ids), target_answers=answers, older_than_days=days)
        return len(ids)


def _delivery_row(message_id: int, leg: Any, operation: str, ordering_key: str | None, now: datetime, *,
                  done: bool) -> dict[str, object]:
    """A deliveries row for one leg (broker.routing.router.Leg) of a message."""
    return dict(
        message_id=message_id, target=leg.target.name, mode=leg.mode, primary=leg.primary,
        operation=operation, ordering_key=ordering_key, attempts=1 if done else 0,
        state=t.DELIVERED if done else t.PENDING, created_at=now, age_from=now, next_attempt_at=now,
        finished_at=now if done else None, steps={},
    )


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


def refresh_message_state(s: Session, message_id: int) -> None:
    """A message is queued while any delivery is open, dead when one is dead, done otherwise."""
    s.flush()  # the session's own changes first: Core statements do not flush it
    refresh_message_states(s, [message_id])


def refresh_message_states(executor: Executor, message_ids: Iterable[int]) -> None:
    """:func:`refresh_message_state` for several messages, in one statement."""
    ids = list(message_ids)
    if ids:
        executor.execute(_SET_MESSAGE_STATE, {"message_ids": ids})


def content_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is a fault of the message's content (StUF plek client), which no retry mends."""
    fault = exc if isinstance(exc, StufError) else getattr(exc, "fault", None)
    return isinstance(fault, StufError) and fault.plek == "client"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, StufError):
        return f"{exc.code} ({exc.plek}): {exc.omschrijving}" + (f" — {exc.details}" if exc.details else "")
    return f"{type(exc).__name__}: {exc}"[:2000]


__all__ = ["Queue", "Outcome", "refresh_message_state", "worker_id", "utcnow"]
