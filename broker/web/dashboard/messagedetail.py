"""One message for the detail page: the request and the answer, the case model, each delivery with its
attempts, and a timeline. Personal data is masked here when the reader may not see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.bg import read as bg_read
from broker.bg.operations import NAMES as BG_NAMES
from broker.queue import admin as queue_admin
from broker.queue import tables as qt
from broker.queue.tables import Circuit, Delivery, DeliveryAttempt, DeliveryEvent, TargetPause
from broker.store.tables import Message, MessagePayload
from broker.stuf import soap
from broker.web.dashboard import masking, xmlview
from broker.zds import casemodel


@dataclass
class Detail:
    message: dict[str, Any]
    request_xml: str
    answer_xml: str
    case_model: Any
    deliveries: list[dict[str, Any]]
    timeline: list[dict[str, Any]] = field(default_factory=list)
    purged: bool = False

    @property
    def case_model_html(self) -> str:
        return xmlview.highlighted_json(self.case_model)


def _utc(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def case_model(payload: MessagePayload | None, message: Message) -> Any:
    if payload is None or not payload.request:
        return None
    try:
        request = soap.parse_request(payload.request, payload.request_content_type or "text/xml", message.soap_action)
        if message.operation in BG_NAMES:  # a StUF-BG question: what it asks, not whom
            return bg_read.describe(request.body_element)
        return casemodel.describe(message.operation, request.body_element)
    except Exception as exc:  # a message the broker refused may not read as ZDS
        return {"unreadable": type(exc).__name__}


def _same(text: str, **values: Any) -> str:
    return text.format(**values) if values else text


def held(session: Session, d: Delivery, hold_dead: bool, now: datetime | None = None) -> dict[str, Any] | None:
    """Why an open delivery has not gone out yet: the delivery it waits behind (same zaak, same
    target), its target paused by an operator, its target's circuit open, a retry scheduled later,
    or nothing (due now: the next free worker takes it). None for a delivery that is not waiting."""
    if d.state not in (qt.PENDING, qt.RETRYING):
        return None
    now = now or datetime.now(UTC)
    behind = queue_admin.waiting_behind(session, d, hold_dead)
    if behind is not None:
        message_id = session.execute(select(Delivery.message_id).where(Delivery.id == behind["id"])).scalar_one()
        return {"kind": "behind", "id": behind["id"], "state": behind["state"], "message_id": message_id}
    pause = session.get(TargetPause, d.target)
    if pause is not None:
        return {"kind": "paused", "by": pause.paused_by, "at": _utc(pause.paused_at), "reason": pause.reason}
    circuit = session.get(Circuit, d.target)
    if circuit is not None and circuit.state == "open":
        return {"kind": "circuit", "probe_at": _utc(circuit.probe_at)}
    due = _utc(d.next_attempt_at)
    if due is not None and due > now:
        return {"kind": "scheduled", "at": due}
    return {"kind": "due"}


def load(session: Session, message_id: int, *, masked: bool, hold_dead: bool = True,
         t: Callable[..., str] = _same) -> Detail | None:
    msg = session.get(Message, message_id)
    if msg is None:
        return None
    payload = session.get(MessagePayload, message_id)
    text = masking.mask_text if masked else (lambda v: v)
    model = case_model(payload, msg)
    if masked:
        model = masking.mask_data(model)
    message = {c.name: getattr(msg, c.name) for c in Message.__table__.columns}
    message["received_at"] = _utc(msg.received_at)
    message["fout_omschrijving"] = text(msg.fout_omschrijving)
    deliveries = []
    rows = session.execute(select(Delivery).where(Delivery.message_id == message_id).order_by(Delivery.id)).scalars()
    for d in rows:
        attempts = session.execute(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id)
                                   .order_by(DeliveryAttempt.id)).scalars().all()
        events = session.execute(select(DeliveryEvent).where(DeliveryEvent.delivery_id == d.id)
                                 .order_by(DeliveryEvent.id)).scalars().all()
        deliveries.append({
            "id": d.id, "target": d.target, "mode": d.mode, "primary": d.primary, "state": d.state,
            "attempts": d.attempts, "created_at": _utc(d.created_at), "next_attempt_at": _utc(d.next_attempt_at),
            "finished_at": _utc(d.finished_at), "last_error": text(d.last_error), "note": d.note,
            "target_answer": xmlview.highlighted(_answer_text(d.target_answer, masked)) if d.target_answer else "",
            "held": held(session, d, hold_dead),
            "paused": session.get(TargetPause, d.target) is not None,
            "events": [{"at": _utc(e.at), "actor": e.actor, "action": e.action, "note": e.note} for e in events],
            # numbered across manual retries: the queue's own count starts again at a retry
            "history": [{
                "number": i, "round_number": a.number, "worker": a.worker, "started_at": _utc(a.started_at),
                "finished_at": _utc(a.finished_at), "outcome": a.outcome, "error": text(a.error),
                "duration_ms": a.duration_ms,
                "target_answer": xmlview.highlighted(_answer_text(a.target_answer, masked)) if a.target_answer else "",
            } for i, a in enumerate(attempts, start=1)],
        })
    detail = Detail(
        message=message,
        request_xml=xmlview.highlighted(xmlview.readable(
            payload.request if payload else None, payload.request_content_type if payload else None, masked=masked)),
        answer_xml=xmlview.highlighted(xmlview.readable(
            payload.answer if payload else None, payload.answer_content_type if payload else None, masked=masked)),
        case_model=model,
        deliveries=deliveries,
        purged=msg.payload_purged_at is not None,
    )
    detail.timeline = timeline(message, deliveries, t)
    return detail


def _answer_text(answer: str, masked: bool) -> str:
    return xmlview.readable(answer.encode("utf-8"), "text/xml", masked=masked)


def timeline(message: dict[str, Any], deliveries: list[dict[str, Any]],
             t: Callable[..., str] = _same) -> list[dict[str, Any]]:
    """What happened to the message, in order: received, answered, each delivery queued, each attempt
    (numbered across manual retries), each operator action (retry, cancel) and a pause of its target."""
    received = message["received_at"]
    events = [{"at": received, "what": "received", "text": t("{code} {operation} from {zender}",
               code=message["berichtcode"] or "?", operation=message["operation"] or t("unknown operation"),
               zender=message["zender_applicatie"] or "?")}]
    if message.get("duration_ms") is not None:
        answered = received + timedelta(milliseconds=message["duration_ms"])
        verdict = message["answer_berichtcode"] or message["http_status"]
        fout = f" ({message['foutcode']})" if message.get("foutcode") else ""
        events.append({"at": answered, "what": "answered" if message.get("outcome") == "ok" else "fault",
                       "text": f"{verdict}{fout}, HTTP {message['http_status']}"})
    for d in deliveries:
        events.append({"at": d["created_at"], "what": "queued" if d["mode"] == "queued" else "delivery",
                       "text": t("delivery {id} to {target} ({mode})", id=d["id"], target=d["target"],
                                 mode=d["mode"])})
        for a in d["history"]:
            events.append({"at": a["finished_at"] or a["started_at"], "what": a["outcome"],
                           "text": t("attempt {n} to {target}: {outcome}", n=a["number"], target=d["target"],
                                     outcome=t(a["outcome"])) + (f" — {a['error']}" if a["error"] else "")})
        for e in d["events"]:
            events.append({"at": e["at"], "what": "operator",
                           "text": t("{actor}: {action} of delivery {id}", actor=e["actor"], action=t(e["action"]),
                                     id=d["id"]) + (f" ({t(e['note'])})" if e["note"] else "")})
        hold = d.get("held")
        if hold and hold["kind"] == "paused":
            events.append({"at": hold["at"], "what": "operator",
                           "text": t("{actor}: target {target} paused", actor=hold["by"], target=d["target"])})
        has_cancel = any(e["action"] == "cancel" for e in d["events"])
        if d["state"] == "cancelled" and d["finished_at"] and not has_cancel:
            events.append({"at": d["finished_at"], "what": "cancelled",
                           "text": t("delivery {id} cancelled", id=d["id"])})
    events = [e for e in events if e["at"] is not None]
    events.sort(key=lambda e: e["at"])
    return events
