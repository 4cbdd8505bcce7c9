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

import time
from dataclasses import dataclass

import structlog
from lxml import etree
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from broker.adapters.targets import DeliveryRequest
from broker.errors import AdapterError, StufError
from broker.intake import checks, messagelog
from broker.intake.messagelog import Record
from broker.model.ports import Context
from broker.queue.engine import refresh_message_state
from broker.queue.tables import Delivery
from broker.store.tables import Message
from broker.stuf import faults, mtom, ns, soap
from broker.stuf import stuurgegevens as sgmod
from broker.stuf.berichten import bv03
from broker.stuf.stuurgegevens import Stuurgegevens
from broker.zds import dispatch, keys
from broker.zds.request import ZdsAnswer, ZdsRequest
from broker.zds.xmlutil import child

log = structlog.get_logger("broker.intake")
INTAKE = "intake"
_BINAIRE_INHOUD = ("inhoud",)


@dataclass
class HttpAnswer:
    status: int
    body: bytes
    content_type: str
    message_id: int | None = None


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


class Pipeline:
    def __init__(self, broker) -> None:  # noqa: ANN001 - broker.runtime.Broker (import cycle)
        self.broker = broker
        #: called with (operation, outcome, seconds) when a request has its answer (broker.web.metrics)
        self.listeners: list = []

    # -- entry point -------------------------------------------------------------------------
    def handle(self, port: str, body: bytes, content_type: str, soap_action: str | None) -> HttpAnswer:
        start = time.perf_counter()
        rec = Record(port=port, request=body, request_content_type=content_type)
        rec.request_hash = messagelog.content_hash(body)
        version = "1.2" if content_type.lower().startswith("application/soap+xml") else "1.1"
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(port=port)
        request: soap.SoapRequest | None = None
        try:
            t = time.perf_counter()
            request = soap.parse_request(body, content_type, soap_action)
            version = rec.soap_version = request.version
            rec.soap_action = request.soap_action
            rec.timings["parse_ms"] = _ms(t)
            # the same StUF message in another envelope (SOAP version, prefixes, MTOM) is the same message
            rec.request_hash = messagelog.content_hash(etree.tostring(request.body_element, method="c14n"))
            # read first, so that a fault on the operation (StUF040/025/004) still mirrors the stuurgegevens
            rec.sg = sgmod.read(request.body_element)
            resolved = dispatch.resolve(request.body_element, request.soap_action)
            rec.operation, rec.dialect = resolved.operation.name, resolved.dialect
            self._bind_log(rec)
            checks.check_port(resolved, port)
            settings = self.broker.settings.broker
            last = self._last_tijdstip(rec.sg) if settings.checks.tijdstip_increasing else None
            checks.check(rec.sg, resolved, settings, last)
            return self._answered(rec, self._process(rec, request, resolved, start), start)
        except Exception as exc:  # noqa: BLE001 - the one place every error becomes a fault
            return self._answered(rec, self._fault(rec, exc, version, start, request), start)

    def _answered(self, rec: Record, http: HttpAnswer, start: float) -> HttpAnswer:
        """Tell the listeners (metrics) how a request ended; they never fail the request."""
        if self.listeners:
            outcome = "ok" if http.status < 400 else ("fault" if rec.sg is not None else "rejected")
            for listener in self.listeners:
                try:
                    listener(rec.operation, outcome, time.perf_counter() - start)
                except Exception:  # noqa: BLE001
                    log.exception("a pipeline listener failed")
        return http

    def _last_tijdstip(self, sg: Stuurgegevens) -> str | None:
        """The latest tijdstipBericht of this zender (StUF019); a resend of the same message is exempt."""
        from sqlalchemy import func, select

        if sg.zender is None or not sg.zender.applicatie:
            return None
        with self.broker.db.read() as session:
            stmt = select(func.max(Message.tijdstip_bericht)).where(
                Message.zender_applicatie == sg.zender.applicatie,
                Message.zender_organisatie.is_(None) if sg.zender.organisatie is None
                else Message.zender_organisatie == sg.zender.organisatie,
                Message.outcome == "ok",
            )
            if sg.referentienummer:
                stmt = stmt.where(Message.referentienummer != sg.referentienummer)
            return session.execute(stmt).scalar_one_or_none()

    def reject(self, port: str, content_type: str, error: StufError) -> HttpAnswer:
        """A request refused before its body was read (too large): the fault, logged without a payload."""
        rec = Record(port=port, request=b"", request_content_type=content_type)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(port=port)
        version = "1.2" if content_type.lower().startswith("application/soap+xml") else "1.1"
        start = time.perf_counter()
        return self._answered(rec, self._fault(rec, error, version, start, None), start)

    # -- steps -------------------------------------------------------------------------------
    def _process(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved, start: float,
                 existing=None) -> HttpAnswer:  # noqa: ANN001 - a Message row being processed again
        b = self.broker
        key = messagelog.dedupe_key(rec.sg)
        t = time.perf_counter()
        try:
            b.schemas.assert_valid(request.body_element)
        except StufError:
            # Tabel 4.1 order: a repeated (zender, referentienummer) comes before a schema error
            if key is not None and existing is None:
                replay = self._check_duplicate(rec, key, start)
                if replay is not None:
                    return replay
            raise
        rec.timings["validate_ms"] = _ms(t)
        zreq = ZdsRequest(resolved, request.body_element, rec.sg, b.settings.broker, b.schema_model)
        op = resolved.operation.name
        zaak_id = keys.zaak_identificatie(op, request.body_element)
        zaaktype = keys.zaaktype_code(request.body_element)
        if zaaktype is None and zaak_id and b.router.uses_zaaktypen:
            with b.db.read() as session:
                zaaktype = b.router.known_zaaktype(session, zaak_id)
        legs = b.router.plan(op, rec.sg.zender.applicatie if rec.sg.zender else None, zaaktype)
        rec.zaak_identificatie = zaak_id
        rec.object_identificatie = keys.object_identificatie(op, request.body_element)
        ordering_key = zaak_id or rec.object_identificatie
        delivery = DeliveryRequest(zreq, b"", request.soap_action)
        primary = legs[0]
        remote = primary.mode == "sync" and not primary.target.shares_transaction
        try:
            if remote:
                delivery.raw = etree.tostring(request.body_element)
                http, answer = self._remote_primary(rec, request, delivery, legs, key, existing, ordering_key, zaaktype, start)
            else:
                # Duplicates are rare: instead of looking for one first, the unique (zender,
                # referentienummer) key is claimed by the insert; a conflict rolls the whole
                # transaction back and is handled below.
                transaction = b.db.write() if primary.mode == "sync" else b.db.write_connection()
                with transaction as session:
                    t = time.perf_counter()
                    if primary.mode == "sync":
                        answer = primary.target.deliver(delivery, Context(session=session, zender=rec.sg.zender))
                    else:
                        answer = ZdsAnswer(bv03(rec.sg, b.own))
                    rec.timings["process_ms"] = _ms(t)
                    if b.router.uses_zaaktypen:
                        b.router.remember_zaaktype(session, zaak_id, zaaktype)
                    http = self._answer_http(rec, request, answer, start)
                    queued = primary.mode == "queued" or len(legs) > 1
                    http.message_id = messagelog.store_answered(
                        session, rec, key, existing.id if existing is not None else None,
                        answer=http.body, answer_content_type=http.content_type,
                        answer_berichtcode=_berichtcode(answer.element), http_status=http.status,
                        state="queued" if queued else "done")
                    b.queue.add(session, http.message_id, legs, op, ordering_key,
                                primary_done=primary.mode == "sync", t0=t)
        except IntegrityError:
            if key is None:
                raise
            return self._after_conflict(rec, request, resolved, key, start)
        except Exception:
            # A repeated message may fail in the target before its duplicate key is claimed (creeerZaak:
            # "zaak bestaat al"); then the earlier answer, or StUF016, is the right answer. A remote
            # primary is called after the key is claimed: the row found then is this request's own, and
            # processing it again would call the failing target a second time.
            if key is None or existing is not None or remote:
                raise
            with b.db.read() as session:
                if messagelog.find_duplicate(session, key) is None:
                    raise
            return self._after_conflict(rec, request, resolved, key, start)
        if len(legs) > 1 or primary.mode == "queued":
            b.wake_worker()
        log.info("message handled", outcome="ok", answer=_berichtcode(answer.element),
                 duration_ms=round(rec.timings["total_ms"], 2))
        return http

    def _check_duplicate(self, rec: Record, key: str, start: float) -> HttpAnswer | None:
        """For a message that failed early: the stored answer of an identical earlier one, or StUF016."""
        with self.broker.db.read() as session:
            existing = messagelog.find_duplicate(session, key)
            return self._replay(session, rec, existing, start) if existing is not None else None

    def _after_conflict(self, rec: Record, request: soap.SoapRequest, resolved: dispatch.Resolved,
                        key: str, start: float) -> HttpAnswer:
        """The (zender, referentienummer) of this message is taken: the stored answer, StUF016, or,
        when the earlier attempt failed on our side, processing again in place of that attempt."""
        with self.broker.db.read() as session:
            existing = messagelog.find_duplicate(session, key)
            if existing is None:  # the conflict was about something else (e.g. a concurrent zaak)
                raise
            replay = self._replay(session, rec, existing, start)
        if replay is not None:
            return replay
        rec.timings = {k: v for k, v in rec.timings.items() if k == "parse_ms"}
        return self._process(rec, request, resolved, start, existing=existing)

    def _answer_http(self, rec: Record, request: soap.SoapRequest, answer: ZdsAnswer, start: float) -> HttpAnswer:
        b = self.broker
        rec.zaak_identificatie = answer.zaak_identificatie or rec.zaak_identificatie
        rec.object_identificatie = answer.object_identificatie or rec.object_identificatie
        if b.settings.broker.checks.validate_answers:  # before MTOM moves inhoud into xop:Include parts
            b.schemas.assert_answer_valid(answer.element)
        http = self._answer_bytes(request, answer)
        rec.timings["total_ms"] = _ms(start)
        return http

    def _finish_ok(self, session, row, rec: Record, request: soap.SoapRequest, answer: ZdsAnswer,  # noqa: ANN001
                   start: float) -> HttpAnswer:
        http = self._answer_http(rec, request, answer, start)
        messagelog.finish(
            session, row, rec,
            answer=http.body, answer_content_type=http.content_type,
            answer_berichtcode=_berichtcode(answer.element), http_status=http.status, error=None,
        )
        refresh_message_state(session, row.id)
        http.message_id = row.id
        return http

    def _remote_primary(self, rec: Record, request: soap.SoapRequest, delivery: DeliveryRequest, legs: list,
                        key: str | None, existing, ordering_key: str | None, zaaktype: str | None,  # noqa: ANN001
                        start: float) -> tuple[HttpAnswer, ZdsAnswer]:
        """A primary target outside the broker's database: the message and its deliveries are stored
        first, the target is called outside any transaction, then its answer is recorded. Should the
        broker stop in between, the lease of the primary delivery runs out and a worker delivers it."""
        b = self.broker
        op = delivery.zds.operation.name
        with b.db.write() as session:
            row = messagelog.claim(session, rec, key, existing)
            rows = b.queue.enqueue(session, row.id, legs, op, ordering_key, lease_owner=INTAKE)
            message_id, primary_id = row.id, rows[0].id
        delivery.message_id = message_id
        t = time.perf_counter()
        try:
            with b.queue.held_by_intake(primary_id):
                answer = legs[0].target.deliver(delivery, Context(zender=rec.sg.zender, message_id=message_id))
        except Exception as exc:
            b.queue.failed_in_intake(primary_id, t, exc)
            raise
        rec.timings["process_ms"] = _ms(t)
        with b.db.write() as session:
            row = session.get(Message, message_id)
            b.queue.delivered_in_intake(session, session.get(Delivery, primary_id), t)
            b.router.remember_zaaktype(session, rec.zaak_identificatie, zaaktype)
            http = self._finish_ok(session, row, rec, request, answer, start)
        return http, answer

    def rebuild(self, message_id: int) -> DeliveryRequest:
        """Read a stored request again, for a delivery the queue runs later."""
        from broker.store.tables import MessagePayload
        from broker.zds.operations import BY_NAME

        b = self.broker
        with b.db.read() as session:
            msg = session.get(Message, message_id)
            payload = session.get(MessagePayload, message_id)
            if msg is None or payload is None or payload.request is None:
                raise StufError("StUF058", f"Bericht {message_id} is niet meer beschikbaar", plek="server")
            content_type, action, op_name, dialect = (payload.request_content_type or "text/xml",
                                                      msg.soap_action, msg.operation, msg.dialect)
            body = payload.request
        request = soap.parse_request(body, content_type, action)
        resolved = dispatch.Resolved(BY_NAME[op_name.lower()], dialect or "zds", ns.local(request.body_element.tag))
        sg = sgmod.read(request.body_element)
        zreq = ZdsRequest(resolved, request.body_element, sg, b.settings.broker, b.schema_model)
        return DeliveryRequest(zreq, etree.tostring(request.body_element), request.soap_action, message_id)

    def _replay(self, session, rec: Record, existing, start: float) -> HttpAnswer | None:  # noqa: ANN001
        """The same message again: its stored answer, StUF016 if the content differs, None to reprocess."""
        if existing.request_hash != rec.request_hash:
            raise StufError(
                "StUF016",
                "Combinatie van zender en referentienummer is al gebruikt voor een ander bericht",
                f"referentienummer {rec.sg.referentienummer} van deze zender is eerder ontvangen met andere inhoud",
            )
        if existing.outcome == "fault" and existing.fout_plek == "server":
            return None  # the earlier failure was ours: process the message again (StUF 03.01 §4.4.3)
        if existing.outcome == "pending":
            return None
        stored = messagelog.payload(session, existing.id)
        if stored is None or stored.answer is None:
            return None
        log.info("duplicate message answered from the log", message_id=existing.id)
        with self.broker.db.write() as wsession:
            row = wsession.get(type(existing), existing.id)
            row.replays = (row.replays or 0) + 1
        return HttpAnswer(existing.http_status, stored.answer, stored.answer_content_type or "text/xml", existing.id)

    def _answer_bytes(self, request: soap.SoapRequest, answer: ZdsAnswer) -> HttpAnswer:
        env = soap.envelope(request.version, answer.element)
        binaries = _binary_elements(answer.element)
        mode = self.broker.settings.broker.soap.binary_answers
        if binaries and (mode == "mtom" or (mode == "mirror" and request.mtom)):
            body, ctype = mtom.serialize(env, binaries, "application/soap+xml" if request.version == "1.2" else "text/xml")
            return HttpAnswer(200, body, ctype)
        return HttpAnswer(200, soap.to_bytes(env), soap.content_type(request.version))

    def _fault(self, rec: Record, exc: Exception, version: str, start: float,
               request: soap.SoapRequest | None) -> HttpAnswer:
        error = faults.to_stuf_error(exc)
        if isinstance(exc, AdapterError):  # the target's failure, kept on its delivery: no traceback
            log.warning("the target failed", error=str(exc)[:300])
        elif not isinstance(exc, StufError):
            log.exception("processing failed", error_type=type(exc).__name__)
        kind = faults.fault_kind(rec.port)
        fo = faults.fo_bericht(kind, error, rec.sg, self.broker.own)
        env = soap.fault_envelope(version, error, fo)
        body = soap.to_bytes(env)
        status = error.http_status or 500
        http = HttpAnswer(status, body, soap.content_type(version))
        rec.timings["total_ms"] = _ms(start)
        try:
            key = messagelog.dedupe_key(rec.sg) if rec.sg and error.code != "StUF016" else None
            with self.broker.db.write() as session:
                existing = messagelog.find_duplicate(session, key) if key else None
                if existing is not None and (
                    existing.request_hash != rec.request_hash or existing.outcome not in ("fault", "pending")
                ):
                    existing, key = None, None
                row = messagelog.claim(session, rec, key, existing)
                messagelog.finish(session, row, rec, answer=body, answer_content_type=http.content_type,
                                  answer_berichtcode=kind, http_status=status, error=error)
                http.message_id = row.id
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


def _berichtcode(answer: etree._Element) -> str | None:
    name = ns.local(answer.tag)
    if name.endswith("Bericht"):
        return name[:4]
    sg = child(answer, "stuurgegevens")
    code = child(sg, "berichtcode") if sg is not None else None
    return code.text if code is not None else None


def _binary_elements(answer: etree._Element) -> list[etree._Element]:
    out = []
    for el in answer.iter():
        if isinstance(el.tag, str) and ns.local(el.tag) in _BINAIRE_INHOUD and ns.namespace(el.tag) == ns.ZKN:
            if (el.text or "").strip():
                out.append(el)
    return out
