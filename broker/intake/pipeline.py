"""One SOAP request, start to finish.

1. read the SOAP envelope (safe parsing, SOAP 1.1/1.2, MTOM)            → StUF055 when unreadable
2. which ZDS operation (body element, SOAPAction, content)              → StUF040/025/055
3. stuurgegevens checks of Tabel 4.1                                     → StUF010...037
4. validation of the body against the official schema                    → StUF055 with line and path
5. routing, then in one transaction: the primary target (when it is the embedded zaaksysteem), the
   message log row and the delivery rows                                 → Bv03/Bv02/La01/Du02
Duplicates (same zender and referentienummer) are detected when step 5 claims the unique key, or when
an earlier step fails: the stored answer again, or StUF016 when the content differs, or processing
anew when the earlier attempt failed on the broker's side (StUF 03.01 §4.4.3).
Any error on the way becomes a foutbericht in broker.stuf.faults; the request and the fault are logged
in a transaction of their own, so nothing is ever half stored.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

import structlog
from lxml import etree
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from broker.adapters.targets import DeliveryRequest, prepare_outside_transaction
from broker.bg import dispatch as bg_dispatch
from broker.bg.operations import BG_PORTS
from broker.config import BrokerSettings
from broker.errors import AdapterError, StufError
from broker.intake import answers, checks, messagelog, rules
from broker.intake.answers import HttpAnswer
from broker.intake.callers import Authenticator, Caller, Transport, authorise
from broker.intake.duplicates import Duplicates
from broker.intake.messagelog import Record
from broker.logging import CORRELATION_HEADER, correlation_id_from
from broker.model.ports import Context, Deferred, TooLargeForLoop
from broker.queue.engine import Queue, refresh_message_state
from broker.queue.tables import Delivery
from broker.routing.router import Leg, Router
from broker.store.db import Database, Executor
from broker.store.tables import Message
from broker.stuf import faults, soap
from broker.stuf import stuurgegevens as sgmod
from broker.stuf.berichten import bv03_envelope, bv03_of
from broker.stuf.schemas import SchemaSet, log_invalid_answer
from broker.stuf.spool import Shape
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem, answer_to
from broker.zds import dispatch, keys
from broker.zds.kern import SchemaModel
from broker.zds.request import ZdsAnswer, ZdsRequest

log = structlog.get_logger("broker.intake")
INTAKE = "intake"
#: how much of a request that is refused before it could be read is kept in the message log
GARBAGE_EXCERPT = 4096
#: called with (operation, outcome, seconds) when a request has its answer (broker.web.metrics)
Listener = Callable[[str | None, str, float], None]

#: a request body up to this size is handled on the event loop (parsing and validating it takes well
#: under a millisecond); a larger one in the handler pool, so that it never holds up other clients
ON_LOOP_BYTES = 256 * 1024

#: the questions that change nothing at an embedded target (geefZaakdocumentbewerken checks a document
#: out, genereer...Identificatie counts): answered from a read transaction
READS = frozenset({"geefZaakdetails", "geefZaakstatus", "geefLijstZaakdocumenten", "geefZaakdocumentLezen",
                   "geefBesluitdetails", "geefLijstBesluiten"})

#: the questions answered on the event loop from the embedded zaaksysteem on SQLite: each is about one
#: zaak or besluit, and costs what its answer holds (a zaak's rollen, statussen and the relations to its
#: documents and besluiten; no document content). The lists and a document's content are read in a
#: handler thread
ON_LOOP_READS = frozenset({"geefZaakdetails", "geefZaakstatus", "geefBesluitdetails"})
#: the most rows (a zaak's rollen, statussen, documents, besluiten; a besluit's documents) such a
#: question gathers on the event loop; a larger one is answered in a handler thread, so that its answer
#: (0.15-0.2 ms per row on the project's machine: a document's relation built, validated, written)
#: holds up no other client: a turn of the loop stays under about 10 ms (a zaak of 3,000 documents
#: took 0.6 s).
ON_LOOP_ROWS = 25

__all__ = ["Pipeline", "HttpAnswer", "INTAKE", "Begun", "ON_LOOP_BYTES", "ON_LOOP_ROWS", "READS"]


class _Defer(Exception):
    """A step would block the event loop before anything of the request is stored (a database read,
    a password hash): the request starts again in the handler pool."""


@dataclass
class Begun:
    """Where a request stands after the part that may run on an event loop: its answer; or its rows
    waiting for the group commit (``pending``, then ``then(result, error)`` is the next step); or
    blocking work (``rest``) that a thread must run to get the answer. :meth:`wait` drives it all in
    the calling thread; the web edge awaits ``pending`` and runs ``rest`` in its handler pool."""

    answer: HttpAnswer | None = None
    #: a thread's future, or (a write on the loop, ``Database.submit``'s ``on_loop``) the loop's own,
    #: which only the loop awaits
    pending: Future[Any] | asyncio.Future[Any] | None = None
    then: Callable[[Any, BaseException | None], Begun] | None = None
    rest: Callable[[], HttpAnswer] | None = None

    def wait(self) -> HttpAnswer:
        step = self
        while step.answer is None:
            if step.pending is not None:
                assert step.then is not None
                try:
                    result, error = step.pending.result(), None
                except Exception as exc:
                    result, error = None, exc
                step = step.then(result, error)
            else:
                assert step.rest is not None
                step = Begun(answer=step.rest())
        return step.answer

    async def drive(self, off_loop: Callable[[Callable[[], HttpAnswer]], Awaitable[HttpAnswer]]) -> HttpAnswer:
        """:meth:`wait` on an event loop: the group commit awaited (``pending``), what blocks (``rest``: a
        sync target, a fault to log, a database read) run by ``off_loop`` (a thread pool)."""
        step = self
        while step.answer is None:
            if step.pending is not None:
                assert step.then is not None
                try:
                    result, error = await asyncio.wrap_future(step.pending), None
                except Exception as exc:
                    result, error = None, exc
                step = step.then(result, error)
            else:
                assert step.rest is not None
                step = Begun(answer=await off_loop(step.rest))
        return step.answer

    def map(self, func: Callable[[HttpAnswer], HttpAnswer]) -> Begun:
        """The same steps, with ``func`` applied to the answer they end with."""
        if self.answer is not None:
            return Begun(answer=func(self.answer))
        if self.pending is not None:
            then = self.then
            assert then is not None
            return Begun(pending=self.pending, then=lambda r, e: then(r, e).map(func))
        rest = self.rest
        assert rest is not None
        return Begun(rest=lambda: func(rest()))

    def guard(self, on_error: Callable[[Exception], Begun]) -> Begun:
        """The same steps, where an exception raised by a later step becomes ``on_error``'s steps."""
        if self.answer is not None:
            return self
        if self.pending is not None:
            then = self.then
            assert then is not None

            def guarded_then(result: Any, error: BaseException | None) -> Begun:
                try:
                    step = then(result, error)
                except Exception as exc:
                    return on_error(exc)
                return step.guard(on_error)
            return Begun(pending=self.pending, then=guarded_then)
        rest = self.rest
        assert rest is not None

        def guarded_rest() -> HttpAnswer:
            try:
                return rest()
            except Exception as exc:
                return on_error(exc).wait()
        return Begun(rest=guarded_rest)


def _identify_invalid(rec: Record, operation: str, body: etree._Element) -> None:
    """The zaak a message that failed validation names, if it can be read: the message log keeps it,
    so that operators find the refused message by its zaak."""
    try:
        rec.zaak_identificatie = keys.zaak_identificatie(operation, body)
    except Exception:  # an invalid message may not have the shape the reader expects
        rec.zaak_identificatie = None


def _promises(legs: list[Leg]) -> bool:
    """Whether a question's log rows must be on disk before its answer goes out (Database.submit's
    ``durable``): only when they hold deliveries still to be made (a copy to a further target). The
    answer to a question acknowledges nothing; its log rows lost in a power cut harm no one."""
    return len(legs) > 1


def _state(legs: list[Leg]) -> str:
    """A new message's state: queued while a delivery is still to be made, else done."""
    return "queued" if legs[0].mode == "queued" or len(legs) > 1 else "done"


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _berichtcode(answer: ZdsAnswer) -> str | None:
    """The berichtcode of an answer: Bv03 for an acknowledgement (made without a tree)."""
    return "Bv03" if answer.acknowledgement else answers.berichtcode(answer.element)


@dataclass(slots=True)
class _SyncWrite:
    """A new sync message's work in the embedded zaaksysteem, for :meth:`Pipeline._deliver_together`:
    what :meth:`Pipeline._deliver_grouped`'s own ``work`` closes over."""

    rec: Record
    request: soap.SoapRequest
    delivery: DeliveryRequest
    legs: list[Leg]
    key: str | None
    zaaktype: str | None
    ordering_key: str | None
    start: float
    acknowledgement: HttpAnswer | None
    context: contextvars.Context


class Pipeline:
    """The flow of one request; every collaborator is handed in by the composition root."""

    def __init__(self, *, settings: BrokerSettings, schemas: SchemaSet, schema_model: SchemaModel, db: Database,
                 router: Router, queue: Queue, own: Systeem, wake_worker: Callable[[], None],
                 authenticator: Authenticator) -> None:
        self.settings = settings
        self.authenticator = authenticator
        self.schemas = schemas
        self.schema_model = schema_model
        self.db = db
        self.router = router
        self.queue = queue
        self.own = own
        self.wake_worker = wake_worker
        self.duplicates = Duplicates(db)
        self.shape = Shape.from_limits(settings.limits)
        #: per sync remote target: the handler threads that may wait on it at once
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()
        self.listeners: list[Listener] = []
        #: called with the operation when an answer of ours does not conform to the schema
        self.invalid_answer_listeners: list[Callable[[str | None], None]] = []
        #: called with a tolerance's name when a message is accepted under it (broker.web.metrics)
        self.tolerance_listeners: list[Callable[[str], None]] = []
        #: whether a Bv03 with the broker's identity conforms (None: not yet checked)
        self._own_bv03: bool | None = None
        #: requests begun here: a delivery worker in the same process yields while it grows
        #: (broker.queue.worker); a count lost between threads does not matter, only that it moves
        self.begun = 0

    # -- entry point -------------------------------------------------------------------------
    def handle(self, port: str, body: bytes, content_type: str, soap_action: str | None,
               transport: Transport | None = None) -> HttpAnswer:
        """One request, in the calling thread; ``transport`` is what the edge knows of the caller's
        connection (None: a call from inside this process, which needs no proof). What it binds for
        its log lines (the correlation id, the stuurgegevens) stays with it, not with the caller."""
        return contextvars.copy_context().run(
            lambda: self.begin(port, body, content_type, soap_action, transport, on_loop=False).wait())

    def begin(self, port: str, body: bytes, content_type: str, soap_action: str | None,
              transport: Transport | None = None, *, on_loop: bool = True) -> Begun:
        """One request up to its first blocking step. ``on_loop``: the caller is an event loop, so
        nothing here may wait on the database or a target: a queued message is parsed, checked,
        validated and answered here, and its write handed to the group commit (``pending``); what
        would block becomes ``rest`` (a sync target, a fault to log), or, when it comes before anything
        is stored (a database read, a password check, a large body), the whole request in ``rest``."""
        self.begun += 1
        if on_loop and (len(body) > ON_LOOP_BYTES or self.settings.checks.tijdstip_increasing or (
                transport is not None and self.authenticator.may_block(transport, body))):
            # known before parsing: the request goes to a handler thread whole, and is parsed once there
            return Begun(rest=functools.partial(self.handle, port, body, content_type, soap_action, transport))
        start = time.perf_counter()
        # the bytes' hash tells a byte-identical resend (the body's canonical hash only when needed)
        rec = Record(port=port, request=body, request_content_type=content_type,
                     request_hash=messagelog.content_hash(body))
        version = "1.2" if content_type.lower().startswith("application/soap+xml") else "1.1"
        structlog.contextvars.clear_contextvars()
        # the caller's X-Correlation-ID when valid, else a new one: in every log line, kept with the message,
        # sent on to the targets and answered in the same header
        rec.correlation_id = correlation_id_from(transport.headers.get(CORRELATION_HEADER.lower())
                                                 if transport is not None else None)
        structlog.contextvars.bind_contextvars(port=port, correlation_id=rec.correlation_id)
        request: soap.SoapRequest | None = None

        def on_error(exc: Exception) -> Begun:  # the one place every error becomes a fault
            fault = functools.partial(self._fault, rec, exc, version, start, request)
            return Begun(rest=fault) if on_loop else Begun(answer=fault())

        try:
            t = time.perf_counter()
            request = soap.parse_request(body, content_type, soap_action, self.shape)
            version = rec.soap_version = request.version
            rec.soap_action = request.soap_action
            rec.timings["parse_ms"] = _ms(t)
            # the same StUF message in another envelope (SOAP version, prefixes, MTOM) is the same message
            rec.body_hashes = messagelog.body_hashes(request.body_element)
            # read first, so that a fault on the operation (StUF040/025/004) still mirrors the stuurgegevens
            rec.sg = sgmod.read(request.body_element)
            rules.check_first(request.body_element, rec.sg)  # StUF001/004/007, StUF043
            # the endpoint names the koppelvlak: /bg/... StUF-BG, /zds/... ZDS
            resolve = bg_dispatch.resolve if port in BG_PORTS else dispatch.resolve
            resolved = resolve(request.body_element, request.soap_action)
            rec.operation, rec.dialect = resolved.operation.name, resolved.dialect
            self._bind_log(rec)
            # who is calling, before anything of the message is processed (StUF052, HTTP 401)
            if transport is None:
                caller = Caller(None)
            else:
                if on_loop and self.authenticator.may_block(transport, body, request.headers):
                    raise _Defer()
                caller = self.authenticator.authenticate(transport, request.headers)
            checks.check_port(resolved, port)
            # (with the tijdstip check on, begin() sent the request to a thread before parsing it)
            last = self._last_tijdstip(rec.sg) if self.settings.checks.tijdstip_increasing else None
            checks.check(rec.sg, resolved, self.settings, last)
            self._authorise(caller, rec, request, on_loop)
            steps = self._process(rec, request, resolved, start, on_loop=on_loop).guard(on_error)
        except _Defer:
            structlog.contextvars.clear_contextvars()
            return Begun(rest=functools.partial(self.handle, port, body, content_type, soap_action, transport))
        except Exception as exc:
            steps = on_error(exc)
        return steps.map(functools.partial(self._answered, rec, start=start))

    def _check_answer(self, rec: Record, answer: ZdsAnswer) -> None:
        """An answer of ours that does not conform is logged (path, no values) and counted; then sent,
        or replaced by StUF058 (``checks.invalid_answers``)."""
        if self.settings.checks.invalid_answers == "fault":
            try:
                self.schemas.assert_answer_valid(answer.element)
            except StufError:
                self._count_invalid(rec)
                raise
            return
        problems = self.schemas.issues(answer.element)
        if problems:
            log_invalid_answer(problems)
            self._count_invalid(rec)

    def _count_invalid(self, rec: Record) -> None:
        for listener in self.invalid_answer_listeners:
            try:
                listener(rec.operation)
            except Exception:  # metrics never fail a request
                log.exception("an invalid-answer listener failed")

    def _authorise(self, caller: Caller, rec: Record, request: soap.SoapRequest, on_loop: bool) -> None:
        """The proven application is the zender and may send this operation (for this zaaktype)."""
        assert rec.sg is not None
        app = caller.application
        zaaktype = None
        if app is not None and app.zaaktypen is not None:
            zaaktype = keys.zaaktype_code(request.body_element)
            zaak_id = keys.zaak_identificatie(rec.operation or "", request.body_element)
            if zaaktype is None and zaak_id:
                if on_loop:
                    raise _Defer()
                with self.db.read() as session:
                    zaaktype = self.router.known_zaaktype(session, zaak_id)
        authorise(caller, rec.sg, rec.operation, zaaktype)
        if app is not None:
            structlog.contextvars.bind_contextvars(application=app.name)

    def _answered(self, rec: Record, http: HttpAnswer, *, start: float) -> HttpAnswer:
        """Tell the listeners (metrics) how a request ended; they never fail the request."""
        http.correlation_id = rec.correlation_id
        if self.listeners:
            outcome = "ok" if http.status < 400 else ("fault" if rec.sg is not None else "rejected")
            for listener in self.listeners:
                try:
                    listener(rec.operation, outcome, time.perf_counter() - start)
                except Exception:
                    log.exception("a pipeline listener failed")
        return http

    def _last_tijdstip(self, sg: Stuurgegevens) -> str | None:
        with self.db.read() as session:
            return messagelog.last_tijdstip(session, sg)

    def reject(self, port: str, content_type: str, error: StufError, correlation_id: str | None = None) -> HttpAnswer:
        """A request refused before its body was read (too large): the fault, logged without a payload."""
        rec = Record(port=port, request=b"", request_content_type=content_type)
        rec.correlation_id = correlation_id_from(correlation_id)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(port=port, correlation_id=rec.correlation_id)
        version = "1.2" if content_type.lower().startswith("application/soap+xml") else "1.1"
        start = time.perf_counter()
        return self._answered(rec, self._fault(rec, error, version, start, None), start=start)

    # -- steps -------------------------------------------------------------------------------
    def _process(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved, start: float,
                 existing: Message | None = None, *, on_loop: bool = False) -> Begun:
        assert rec.sg is not None  # read before any step that leads here
        key = messagelog.dedupe_key(rec.sg)
        t = time.perf_counter()
        try:
            self._validate(rec, request, resolved)
        except StufError as exc:
            _identify_invalid(rec, resolved.operation.name, request.body_element)
            # Tabel 4.1 order: a repeated (zender, referentienummer) comes before a schema error
            if key is not None and existing is None:
                if on_loop:  # the look reads the database: a handler thread goes on from here (the
                    # request is not parsed and validated again there)
                    return Begun(rest=functools.partial(self._earlier_answer_or_raise, rec, key, exc))
                return Begun(answer=self._earlier_answer_or_raise(rec, key, exc))
            raise
        rec.timings["validate_ms"] = _ms(t)
        return self._route(rec, request, resolved, start, existing, key, t, on_loop=on_loop)

    def _earlier_answer_or_raise(self, rec: Record, key: str, error: StufError) -> HttpAnswer:
        """The earlier answer when an invalid message is a resend of one answered before; else its error."""
        replay = self.duplicates.earlier_answer(rec, key)
        if replay is None:
            raise error
        return replay

    def _route(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved, start: float,
               existing: Message | None, key: str | None, t: float, *, on_loop: bool) -> Begun:
        """A valid message: its keys, its route, then its delivery. What reads the database first (the
        zaaktype of a known zaak, a person's afnemers) continues in a handler thread, as validated."""
        assert rec.sg is not None
        zreq = ZdsRequest(resolved, request.body_element, rec.sg, self.settings, self.schema_model)
        op = resolved.operation.name
        zaak_id = keys.zaak_identificatie(op, request.body_element)
        zaaktype = keys.zaaktype_code(request.body_element)
        distribution, person_key = self.router.distribution, None
        distributed = distribution is not None and distribution.applies(op, rec.sg.zender)  # a person source's mutation
        if on_loop and (distributed or (zaaktype is None and zaak_id and self.router.uses_zaaktypen)):
            return Begun(rest=lambda: self._route(rec, request, resolved, start, existing, key, t,
                                                  on_loop=False).wait())
        if zaaktype is None and zaak_id and self.router.uses_zaaktypen:
            with self.db.read() as session:
                zaaktype = self.router.known_zaaktype(session, zaak_id)
        if distributed:
            assert distribution is not None
            with self.db.read() as session:
                legs, person_key = distribution.plan(session, request.body_element)
        else:
            legs = self.router.plan(op, rec.sg.zender.applicatie if rec.sg.zender else None, zaaktype, rec.sg.zender)
        rec.zaak_identificatie = zaak_id
        rec.object_identificatie = keys.object_identificatie(op, request.body_element)
        ordering_key = zaak_id or rec.object_identificatie or person_key
        delivery = DeliveryRequest(zreq, b"", request.soap_action)
        primary = legs[0]
        remote = primary.mode == "sync" and not primary.target.shares_transaction
        if primary.mode == "sync" and not remote and not (op in READS and len(legs) == 1):
            # the embedded zaaksysteem's work joins the group commit with the message's rows; duplicates
            # are rare: instead of looking for one first, the unique (zender, referentienummer) key is
            # claimed by the insert, and a conflict fails this request's savepoint (see _failed)
            return self._deliver_grouped(rec, request, resolved, delivery, legs, key, existing, zaaktype,
                                         ordering_key, start, on_loop=on_loop)
        if (on_loop and not remote and op in ON_LOOP_READS and len(legs) == 1 and primary.mode == "sync"
                and self.db.is_sqlite):
            return self._read_on_loop(rec, request, resolved, delivery, legs, key, existing, zaaktype,
                                      ordering_key, start)
        if primary.mode != "queued" or remote:
            deliver = functools.partial(self._deliver, rec, request, resolved, delivery, legs, key, existing,
                                        zaaktype, ordering_key, remote, start)
            return Begun(rest=deliver) if on_loop else Begun(answer=deliver())
        # queued: the Bv03 is made before the write; the write joins other requests' in one transaction
        # and fsync (Database.submit), and the answer goes out once committed
        rec.timings["process_ms"] = _ms(t)
        sg = answer_to(rec.sg, "Bv03", self.own)
        answer = ZdsAnswer(functools.partial(bv03_of, sg))  # the tree only when something reads it
        answer.acknowledgement = True
        http = self._answer_http(rec, request, answer, start, self._bv03_http(rec, request, sg))
        rows: dict[str, Any] = dict(rec=rec, http=http, berichtcode="Bv03", legs=legs,
                                    key=key, existing=existing, zaaktype=zaaktype, ordering_key=ordering_key, t=t)
        write = functools.partial(self._write, **rows)
        then = self._once_stored(rec, request, resolved, key, existing, start, http, answer, wake=True,
                                 on_loop=on_loop)
        # a new message's rows may be written together with those of the others queued beside it
        batch = self._write_new if existing is None else None
        return Begun(pending=self.db.submit(write, batch=batch, item=rows, on_loop=on_loop), then=then)

    def _deliver_grouped(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved,
                         delivery: DeliveryRequest, legs: list[Leg], key: str | None, existing: Message | None,
                         zaaktype: str | None, ordering_key: str | None, start: float, *, on_loop: bool) -> Begun:
        """A sync primary that shares the broker's transaction (the embedded zaaksysteem): its work, the
        message row and the deliveries join other requests' writes in one transaction and one fsync
        (Database.submit), in an ORM session of their own on the group's connection. The work runs
        where the group is committed, with this request's log fields: begun on the event loop (a small
        message), on SQLite by the loop itself, without a hand-off to the committer thread and back;
        else on the committer thread. It may run twice (a group is retried with savepoints when one
        request's write fails): it changes nothing but the database and files stored under their own
        hash."""
        assert rec.sg is not None
        primary, zender = legs[0], rec.sg.zender
        context = contextvars.copy_context()
        prepare_outside_transaction(primary.target, delivery)
        acknowledgement = self._acknowledgement(rec, request)

        def work(conn: Connection) -> tuple[HttpAnswer, ZdsAnswer]:
            t = time.perf_counter()
            # the session joins the group's transaction: its commit does not end it. A failure (also
            # inside a flush) fails the group's first run, which has no savepoints; the group commit then
            # runs each request again in a savepoint of its own (there the session's commit releases a
            # savepoint of the session's own), so that only this request's writes are rolled back
            with Session(bind=conn) as session:
                answer = primary.target.deliver(delivery, Context(session=session, zender=zender,
                                                                  prepared=delivery.zds.prepared))
                http = self._store(session, rec, request, answer, legs, key, existing, zaaktype, ordering_key,
                                   t, start, acknowledgement=acknowledgement)
                session.commit()
            return http, answer

        def then(result: tuple[HttpAnswer, ZdsAnswer] | None, error: BaseException | None) -> Begun:
            if error is None:
                assert result is not None
                http, answer = result
                self._handled(rec, answer, wake=len(legs) > 1)
                return Begun(answer=http)
            assert isinstance(error, Exception)
            failed = functools.partial(self._failed, error, rec, request, resolved, key, existing, False, start)
            return Begun(rest=failed) if on_loop else Begun(answer=failed())
        # a new message's work may be done together with that of the others beside it in the group
        item = _SyncWrite(rec, request, delivery, legs, key, zaaktype, ordering_key, start, acknowledgement, context)
        batch = self._deliver_together if existing is None else None
        return Begun(pending=self.db.submit(lambda conn: context.run(work, conn), batch=batch, item=item,
                                            on_loop=on_loop), then=then)

    def _deliver_together(self, conn: Connection, items: list[_SyncWrite]) -> list[tuple[HttpAnswer, ZdsAnswer]]:
        """The work of several new sync messages into the embedded zaaksysteem (:meth:`_deliver_grouped`)
        at once, on the group's connection: the target's work of each in one ORM session (each in its
        own log context; their new zaken inserted together, ports.Deferred), then the message and
        delivery rows of them all, a statement per table instead of one per message (each message's
        process time in its log row is the batch's up to its answer). Any failure fails them all: the
        group commit then runs each message's own work, in a savepoint of its own."""
        t = time.perf_counter()
        with Session(bind=conn) as session:  # joins the group's transaction (see _deliver_grouped)
            deferred = Deferred()
            results = [i.context.run(i.legs[0].target.deliver, i.delivery, Context(
                session=session, deferred=deferred, zender=i.rec.sg.zender if i.rec.sg else None,
                prepared=i.delivery.zds.prepared)) for i in items]
            deferred.flush()
            session.commit()
        https = []
        for i, answer in zip(items, results, strict=True):
            i.rec.timings["process_ms"] = _ms(t)
            https.append(i.context.run(self._answer_http, i.rec, i.request, answer, i.start, i.acknowledgement))
        ids = self._write_new(conn, [dict(rec=i.rec, http=http, berichtcode=_berichtcode(answer), legs=i.legs,
                                          key=i.key, zaaktype=i.zaaktype, ordering_key=i.ordering_key, t=t)
                                     for i, http, answer in zip(items, https, results, strict=True)])
        for http, message_id in zip(https, ids, strict=True):
            http.message_id = message_id
        return list(zip(https, results, strict=True))

    def _deliver(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved,
                 delivery: DeliveryRequest, legs: list[Leg], key: str | None, existing: Message | None,
                 zaaktype: str | None, ordering_key: str | None, remote: bool, start: float) -> HttpAnswer:
        """A remote sync primary, called outside any transaction; or a question to the embedded
        zaaksysteem (``READS``), answered from a read transaction (no write lock) with its log rows in
        the group commit. Blocking: runs in a handler thread. (A write into the embedded zaaksysteem
        goes to :meth:`_deliver_grouped`.)"""
        try:
            if remote:
                delivery.raw = etree.tostring(request.body_element)
                http, answer = self._remote_primary(rec, request, delivery, legs, key, existing, ordering_key,
                                                    zaaktype, start)
            else:
                answer, http, rows = self._answer_question(rec, request, delivery, legs, key, existing, zaaktype,
                                                           ordering_key, start)
                http.message_id = self.db.grouped(functools.partial(self._write, **rows), durable=_promises(legs))
        except Exception as exc:
            return self._failed(exc, rec, request, resolved, key, existing, remote, start)
        self._handled(rec, answer, wake=len(legs) > 1)
        return http

    def _answer_question(self, rec: Record, request: soap.SoapRequest, delivery: DeliveryRequest, legs: list[Leg],
                         key: str | None, existing: Message | None, zaaktype: str | None, ordering_key: str | None,
                         start: float, *, on_loop: bool = False) -> tuple[ZdsAnswer, HttpAnswer, dict[str, Any]]:
        """A question to the embedded zaaksysteem, answered from a read transaction (no write lock): the
        answer, its HTTP form, and its log rows for the group commit (:meth:`_write`'s keyword
        arguments). ``on_loop``: a zaak or besluit with more than ``ON_LOOP_ROWS`` rows to gather raises
        TooLargeForLoop before it is read."""
        assert rec.sg is not None
        t = time.perf_counter()
        with self.db.read() as session:
            ctx = Context(session=session, zender=rec.sg.zender, loop_budget=ON_LOOP_ROWS if on_loop else None)
            answer = legs[0].target.deliver(delivery, ctx)
        rec.timings["process_ms"] = _ms(t)
        http = self._answer_http(rec, request, answer, start)
        rows = dict(rec=rec, http=http, berichtcode=answers.berichtcode(answer.element), legs=legs, key=key,
                    existing=existing, zaaktype=zaaktype, ordering_key=ordering_key, t=t)
        return answer, http, rows

    def _read_on_loop(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved,
                      delivery: DeliveryRequest, legs: list[Leg], key: str | None, existing: Message | None,
                      zaaktype: str | None, ordering_key: str | None, start: float) -> Begun:
        """A question about one zaak or besluit to the embedded zaaksysteem on SQLite
        (``ON_LOOP_READS``), on the event loop: a read transaction in WAL mode waits for no writer; its
        log rows then join the group commit (``pending``), as a queued message's do. No handler thread
        is involved unless it fails (the fault is made in one) or the zaak or besluit has more than
        ``ON_LOOP_ROWS`` rows to gather (the whole request then goes to one)."""
        try:
            answer, http, rows = self._answer_question(rec, request, delivery, legs, key, existing, zaaktype,
                                                       ordering_key, start, on_loop=True)
        except TooLargeForLoop:
            raise _Defer() from None  # nothing stored yet: the whole request goes to a handler thread
        except Exception as exc:
            return Begun(rest=functools.partial(self._failed, exc, rec, request, resolved, key, existing, False,
                                                start))
        # a new question's log rows may be written together with those of the others beside it
        pending = self.db.submit(functools.partial(self._write, **rows), batch=self._write_new if existing is None
                                 else None, item=rows, on_loop=True, durable=_promises(legs))
        return Begun(pending=pending, then=self._once_stored(rec, request, resolved, key, existing, start, http,
                                                             answer, wake=False, on_loop=True))

    def _once_stored(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved, key: str | None,
                     existing: Message | None, start: float, http: HttpAnswer, answer: ZdsAnswer, *, wake: bool,
                     on_loop: bool) -> Callable[[int | None, BaseException | None], Begun]:
        """The step after a message's rows were handed to the group commit: ``http`` with the message's
        id; or, when the write failed, what :meth:`_failed` makes of it (in a handler thread when the
        caller is the event loop: it may read the database)."""
        def then(message_id: int | None, error: BaseException | None) -> Begun:
            if error is None:
                assert message_id is not None
                http.message_id = message_id
                self._handled(rec, answer, wake=wake)
                return Begun(answer=http)
            assert isinstance(error, Exception)
            failed = functools.partial(self._failed, error, rec, request, resolved, key, existing, False, start)
            return Begun(rest=failed) if on_loop else Begun(answer=failed())
        return then

    def _handled(self, rec: Record, answer: ZdsAnswer, *, wake: bool) -> None:
        if wake:  # deliveries are waiting
            self.wake_worker()
        log.info("message handled", outcome="ok",
                 answer=_berichtcode(answer),
                 duration_ms=round(rec.timings["total_ms"], 2))

    def _failed(self, exc: Exception, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved,
                key: str | None, existing: Message | None, remote: bool, start: float) -> HttpAnswer:
        """A write or a sync delivery failed: a duplicate's answer when the message turns out to be a
        repeat, else the exception goes on to become a fault."""
        if isinstance(exc, IntegrityError):
            if key is None:
                raise exc
            return self._after_conflict(rec, request, resolved, key, start)
        # A repeated message may fail in the target before its duplicate key is claimed (creeerZaak:
        # "zaak bestaat al"); then the earlier answer, or StUF016, is the right answer. A remote
        # primary is called after the key is claimed: the row found then is this request's own, and
        # processing it again would call the failing target a second time.
        if key is None or existing is not None or remote:
            raise exc
        if self.duplicates.find(key) is None:
            raise exc
        return self._after_conflict(rec, request, resolved, key, start)

    def _validate(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved) -> None:
        """The schema (StUF055) and the semantic rules (broker.intake.rules), with the tolerances the
        zender is granted; those the message needed are recorded and counted."""
        assert rec.sg is not None
        tolerated = rules.Tolerated(self.authenticator.applications.tolerances_of(rec.sg.zender))
        rules.validate(self.schemas, request.body_element, resolved.operation.name, tolerated)
        rules.check(request.body_element, resolved.operation.name, rec.sg, tolerated)
        rec.tolerances = tolerated.applied
        for name in tolerated.applied:
            log.info("accepted under a tolerance", tolerance=name)
            for listener in self.tolerance_listeners:
                try:
                    listener(name)
                except Exception:  # metrics never fail a request
                    log.exception("a tolerance listener failed")

    def _store(self, executor: Executor, rec: Record, request: soap.SoapRequest, answer: ZdsAnswer,
               legs: list[Leg], key: str | None, existing: Message | None, zaaktype: str | None,
               ordering_key: str | None, t: float, start: float,
               acknowledgement: HttpAnswer | None = None) -> HttpAnswer:
        """The answered message and its deliveries, in the transaction of ``executor``.
        ``acknowledgement``: the request's Bv03 made beforehand (:meth:`_acknowledgement`), the answer
        when the target acknowledges."""
        rec.timings["process_ms"] = _ms(t)
        http = self._answer_http(rec, request, answer, start, acknowledgement)
        berichtcode = _berichtcode(answer)
        http.message_id = self._write(executor, rec=rec, http=http, berichtcode=berichtcode,
                                      legs=legs, key=key, existing=existing, zaaktype=zaaktype,
                                      ordering_key=ordering_key, t=t)
        return http

    def _bv03_http(self, rec: Record, request: soap.SoapRequest, sg: Stuurgegevens) -> HttpAnswer:
        """A Bv03 with the answer stuurgegevens ``sg`` in its envelope, written as text
        (berichten.bv03_envelope): a queued message's answer, or a kennisgeving's made beforehand.

        Its values are the request's stuurgegevens, which passed the schema, and the broker's own
        (identity, a new referentienummer and the time): the answer is checked against the schema once
        for the broker's identity (:meth:`_own_bv03_conforms`), not for every message. When it does
        not conform, each Bv03 is made as a tree and checked as any other answer."""
        if self.settings.checks.validate_answers and not self._own_bv03_conforms():
            return self._enveloped(rec, request, ZdsAnswer(functools.partial(bv03_of, sg)))
        return HttpAnswer(200, bv03_envelope(sg, request.version), soap.content_type(request.version))

    def _own_bv03_conforms(self) -> bool:
        """Whether a Bv03 with the broker's identity as its zender conforms to the schema (once)."""
        if self._own_bv03 is None:
            probe = Stuurgegevens(berichtcode="Lk01", zender=Systeem("ORG", "APP"), referentienummer="REF0001")
            problems = self.schemas.issues(bv03_of(answer_to(probe, "Bv03", self.own)))
            if problems:
                log.warning("the broker's identity makes Bv03 answers that do not conform; each is checked",
                            problems=[str(p) for p in problems[:3]])
            self._own_bv03 = not problems
        return self._own_bv03

    def _acknowledgement(self, rec: Record, request: soap.SoapRequest) -> HttpAnswer | None:
        """A kennisgeving's Bv03 in its envelope (:meth:`_bv03_http`), made before the target's transaction: it
        depends on the request alone. None for other messages, or when making it failed (then it is
        made, and fails, in the transaction, as any other answer)."""
        assert rec.sg is not None
        if rec.sg.berichtcode != "Lk01":
            return None
        try:
            return self._bv03_http(rec, request, answer_to(rec.sg, "Bv03", self.own))
        except Exception:
            return None

    def _write(self, executor: Executor, *, rec: Record, http: HttpAnswer, berichtcode: str | None,
               legs: list[Leg], key: str | None, existing: Message | None, zaaktype: str | None,
               ordering_key: str | None, t: float) -> int:
        """The rows of an answered message: the message log and the deliveries (database writes only:
        a group commit may run this twice). Its message id."""
        primary = legs[0]
        if self.router.uses_zaaktypen:
            self.router.remember_zaaktype(executor, rec.zaak_identificatie, zaaktype)
        message_id = messagelog.store_answered(
            executor, rec, key, existing.id if existing is not None else None,
            answer=http.body, answer_content_type=http.content_type, answer_berichtcode=berichtcode,
            http_status=http.status, state=_state(legs))
        self.queue.add(executor, message_id, legs, rec.operation or "", ordering_key,
                       primary_done=primary.mode == "sync", t0=t)
        return message_id

    def _write_new(self, executor: Executor, messages: list[dict[str, Any]]) -> list[int]:
        """:meth:`_write` for several new messages (the keyword arguments of each: queued messages, and
        questions answered from the embedded zaaksysteem) at once: each table's rows in one statement.
        Their message ids, in order."""
        if self.router.uses_zaaktypen:
            for m in messages:
                self.router.remember_zaaktype(executor, m["rec"].zaak_identificatie, m["zaaktype"])
        ids = messagelog.store_answered_many(executor, [messagelog.Answered(
            m["rec"], m["key"], m["http"].body, m["http"].content_type, m["berichtcode"], m["http"].status,
            _state(m["legs"])) for m in messages])
        queued: list[tuple[int, list, str, str | None]] = []
        delivered: list[tuple[int, list, str, str | None, float | None]] = []
        for message_id, m in zip(ids, messages, strict=True):
            if m["legs"][0].mode == "sync":  # answered here: its primary delivered
                delivered.append((message_id, m["legs"], m["rec"].operation or "", m["ordering_key"], m["t"]))
            else:
                queued.append((message_id, m["legs"], m["rec"].operation or "", m["ordering_key"]))
        if queued:
            self.queue.add_queued(executor, queued)
        if delivered:
            self.queue.add_delivered(executor, delivered)
        return ids

    def _after_conflict(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved,
                        key: str, start: float) -> HttpAnswer:
        """The (zender, referentienummer) of this message is taken: the stored answer, StUF016, or,
        when the earlier attempt failed on our side, processing again in place of that attempt."""
        with self.db.read() as session:
            existing = messagelog.find_duplicate(session, key)
            if existing is None:  # the conflict was about something else (e.g. a concurrent zaak)
                raise
            replay = self.duplicates.replay(session, rec, existing)
        if replay is not None:
            return replay
        rec.timings = {k: v for k, v in rec.timings.items() if k == "parse_ms"}
        return self._process(rec, request, resolved, start, existing=existing).wait()

    def _answer_http(self, rec: Record, request: soap.SoapRequest, answer: ZdsAnswer, start: float,
                     acknowledgement: HttpAnswer | None = None) -> HttpAnswer:
        """The HTTP answer; ``acknowledgement``: the request's Bv03 made beforehand
        (:meth:`_acknowledgement`), taken when the target acknowledged."""
        rec.zaak_identificatie = answer.zaak_identificatie or rec.zaak_identificatie
        rec.object_identificatie = answer.object_identificatie or rec.object_identificatie
        if acknowledgement is not None and answer.acknowledgement:
            http = replace(acknowledgement)
        else:
            http = self._enveloped(rec, request, answer)
        rec.timings["total_ms"] = _ms(start)
        return http

    def _enveloped(self, rec: Record, request: soap.SoapRequest, answer: ZdsAnswer) -> HttpAnswer:
        """The answer checked (``checks.validate_answers``) and in its envelope."""
        if self.settings.checks.validate_answers:  # before MTOM moves inhoud into xop:Include parts
            self._check_answer(rec, answer)
        return answers.envelope_bytes(request, answer.element, self.settings.soap.binary_answers)

    def _finish_ok(self, session: Session, row: Message, rec: Record, request: soap.SoapRequest, answer: ZdsAnswer,
                   start: float) -> HttpAnswer:
        http = self._answer_http(rec, request, answer, start)
        messagelog.finish(
            session, row, rec,
            answer=http.body, answer_content_type=http.content_type,
            answer_berichtcode=answers.berichtcode(answer.element), http_status=http.status, error=None,
        )
        refresh_message_state(session, row.id)
        http.message_id = row.id
        return http

    def _remote_primary(self, rec: Record, request: soap.SoapRequest, delivery: DeliveryRequest, legs: list[Leg],
                        key: str | None, existing: Message | None, ordering_key: str | None, zaaktype: str | None,
                        start: float) -> tuple[HttpAnswer, ZdsAnswer]:
        """A primary target outside the broker's database: the message and its deliveries are stored
        first, the target is called outside any transaction, then its answer is recorded. Should the
        broker stop in between, the lease of the primary delivery runs out and a worker delivers it."""
        slots = self._sync_slots(legs[0].target.name)
        if not slots.acquire(blocking=False):  # before anything is stored: the sender may simply resend
            # a synchronous message (Fo02) gets StUF049, "the synchronous process is not available"
            code = "StUF049" if faults.fault_kind(rec.port) == "Fo02" else "StUF058"
            raise StufError(code, f"Het doelsysteem {legs[0].target.name} is bezet; probeer het later opnieuw",
                            f"al {self.settings.server.sync_slots()} verzoeken wachten op dit doelsysteem "
                            "(server.sync_calls_per_target)", plek="server")
        try:
            return self._call_remote(rec, request, delivery, legs, key, existing, ordering_key, zaaktype, start)
        finally:
            slots.release()

    def _sync_slots(self, target: str) -> threading.BoundedSemaphore:
        with self._slots_lock:
            found = self._slots.get(target)
            if found is None:
                found = self._slots[target] = threading.BoundedSemaphore(self.settings.server.sync_slots())
            return found

    def _call_remote(self, rec: Record, request: soap.SoapRequest, delivery: DeliveryRequest, legs: list[Leg],
                     key: str | None, existing: Message | None, ordering_key: str | None, zaaktype: str | None,
                     start: float) -> tuple[HttpAnswer, ZdsAnswer]:
        op = delivery.zds.operation.name
        with self.db.write() as session:
            row = messagelog.claim(session, rec, key, existing)
            rows = self.queue.enqueue(session, row.id, legs, op, ordering_key, lease_owner=INTAKE)
            message_id, primary_id = row.id, rows[0].id
        delivery.message_id = message_id
        t = time.perf_counter()
        try:
            with self.queue.held_by_intake(primary_id):
                answer = legs[0].target.deliver(delivery, Context(zender=delivery.zds.stuurgegevens.zender,
                                                                  message_id=message_id))
        except Exception as exc:
            self.queue.failed_in_intake(primary_id, t, exc)
            raise
        rec.timings["process_ms"] = _ms(t)
        with self.db.write() as session:
            row = session.get_one(Message, message_id)
            self.queue.delivered_in_intake(session, session.get_one(Delivery, primary_id), t)
            self.router.remember_zaaktype(session, rec.zaak_identificatie, zaaktype)
            http = self._finish_ok(session, row, rec, request, answer, start)
        return http, answer

    def _fault(self, rec: Record, exc: Exception, version: str, start: float,
               request: soap.SoapRequest | None) -> HttpAnswer:
        error = faults.to_stuf_error(exc)
        if isinstance(exc, AdapterError):  # the target's failure, kept on its delivery: no traceback
            log.warning("the target failed", error=str(exc)[:300])
        elif not isinstance(exc, StufError):
            log.exception("processing failed", error_type=type(exc).__name__)
        kind = faults.fault_kind(rec.port)
        if isinstance(exc, SQLAlchemyError) and kind == "Fo03":  # R-SG-13: not stored, so no Bv03
            error = StufError("StUF046", "Het bericht kan niet worden opgeslagen",
                              "de database van de broker is niet beschikbaar; stuur het bericht later opnieuw",
                              plek="server")
        fo = faults.fo_bericht(kind, error, rec.sg, self.own)
        env = soap.fault_envelope(version, error, fo)
        body = soap.to_bytes(env)
        status = error.http_status or 500
        http = HttpAnswer(status, body, soap.content_type(version))
        rec.timings["total_ms"] = _ms(start)
        if (request is None or status == 401) and len(rec.request) > GARBAGE_EXCERPT:
            # not a SOAP message, or from a caller that proved nothing: its metadata and its start are
            # kept (what the operator needs to see what it was), not all of it
            rec.request_size, rec.request = len(rec.request), rec.request[:GARBAGE_EXCERPT]
        key = messagelog.dedupe_key(rec.sg) if rec.sg and error.code != "StUF016" else None

        def log_fault(conn: Connection) -> int:
            # in the group commit: a fault shares its transaction and fsync with other requests' writes
            # (hostile or broken traffic would otherwise pay, and make others wait for, one each); it
            # may run twice (a group is retried with savepoints), so it only writes to the database.
            # A new message (the usual fault) gets its two rows in two plain statements; a resend of one
            # stored before goes through the ORM, to reuse its row when it is the same request
            earlier = messagelog.duplicate_id(conn, key) if key is not None else None
            if earlier is None:
                return messagelog.store_fault(conn, rec, key, answer=body, answer_content_type=http.content_type,
                                              answer_berichtcode=kind, http_status=status, error=error)
            with Session(bind=conn) as session:
                existing = session.get(Message, earlier)
                stored_key = key
                if existing is not None and (
                    not messagelog.same_request(session, rec, existing) or existing.outcome not in ("fault", "pending")
                ):
                    existing, stored_key = None, None
                row = messagelog.claim(session, rec, stored_key, existing)
                messagelog.finish(session, row, rec, answer=body, answer_content_type=http.content_type,
                                  answer_berichtcode=kind, http_status=status, error=error)
                session.commit()  # (joins the group's transaction: its commit does not end it)
                return row.id

        try:
            http.message_id = self.db.grouped(log_fault)
        except SQLAlchemyError:
            log.exception("could not log a fault")
        log.info("message handled", outcome="fault", foutcode=error.code, plek=error.plek,
                 duration_ms=round(rec.timings["total_ms"], 2))
        return http

    def _bind_log(self, rec: Record) -> None:
        sg = rec.sg or Stuurgegevens()
        structlog.contextvars.bind_contextvars(
            operation=rec.operation,
            berichtcode=sg.berichtcode,
            referentienummer=sg.referentienummer,
            zender=sg.zender.applicatie if sg.zender else None,
            soap_action=rec.soap_action,
        )

