"""One notification of the Notificaties API, from its callback to the queue.

1. authenticated: the Authorization header is the ``auth`` value of the abonnement of one ``zgw``
   target with a ``notificaties`` option (compared in constant time: broker.adapters.zgw.notificaties);
   else 403;
2. read: a JSON object with the fields the Notificaties API 1.0.0 ``Message`` requires; else 400;
3. the broker's own change (the target's ``caused_by_broker``: it wrote that resource and the write
   was not announced yet) is not sent back to its source: 204, nothing queued; else the change read
   back from the ZGW APIs as the case model (``NotificatiesMixin.change``), None for what subscribers
   are not told of (204, nothing queued);
4. rendered as the ZDS 1.2 message of the change (broker.zds.kennisgevingen_model), zender the ZGW
   target, kept in the message log (port ``zgw/notificaties``) with its primary delivery to the target
   recorded as made (the change is there already) and one queued delivery per matching subscriber, in
   per-zaak order, exactly like a change made through the broker (broker.adapters.subscriber).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError

from broker.adapters.subscriber import Subscribers
from broker.adapters.targets import Target
from broker.adapters.zgw_notificatie import identity
from broker.errors import AdapterError
from broker.intake import messagelog
from broker.logging import current_correlation_id
from broker.queue.engine import Queue
from broker.routing.router import Leg
from broker.store.db import Database
from broker.stuf import ns, soap
from broker.stuf.stuurgegevens import Systeem, new_referentienummer, now_tijdstip
from broker.stuf.stuurgegevens import read as read_stuurgegevens
from broker.zds import kennisgevingen_model
from broker.zds.kern import SchemaModel

log = structlog.get_logger("broker.notificaties")

PORT = "zgw/notificaties"
#: what the Notificaties API 1.0.0 requires of a Message
REQUIRED = ("kanaal", "hoofdObject", "resource", "resourceUrl", "actie", "aanmaakdatum")
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    status: int
    detail: str
    message_id: int | None = None


class NotificatieReceiver:
    def __init__(self, *, db: Database, queue: Queue, subscribers: Subscribers,
                 targets: Callable[[], Mapping[str, Target]], own: Systeem, schema_model: SchemaModel,
                 wake_worker: Callable[[], None]) -> None:
        self.db = db
        self.queue = queue
        self.subscribers = subscribers
        self.targets = targets
        self.own = own
        self.schema_model = schema_model
        self.wake_worker = wake_worker
        self._subscribing = threading.Lock()

    def sources(self) -> list[tuple[Target, Any]]:
        """The targets whose adapter subscribes to a Notificaties API, with that adapter."""
        out = []
        for target in self.targets().values():
            adapter = getattr(target, "adapter", None)
            if getattr(adapter, "notificaties", None) is not None:
                out.append((target, adapter))
        return out

    def subscribe_all(self) -> None:
        """Make the abonnement of every such target (kept when it exists); a failure is logged. One
        at a time in this process (the worker may be started more than once)."""
        with self._subscribing:
            self._subscribe_all()

    def _subscribe_all(self) -> None:
        for target, adapter in self.sources():
            try:
                url = adapter.subscribe()
                log.info("subscribed to the Notificaties API", target=target.name, abonnement=url)
            except (AdapterError, ValueError) as exc:
                log.warning("could not subscribe to the Notificaties API", target=target.name, error=str(exc))

    def subscribe_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.subscribe_all, name="zgw-abonnement", daemon=True)
        thread.start()
        return thread

    def receive(self, authorization: str | None, body: bytes) -> Outcome:
        source = next(((t, a) for t, a in self.sources() if a.authentic(authorization)), None)
        if source is None:
            return Outcome(403, "Authorization is not the auth of an abonnement of this broker")
        target, adapter = source
        try:
            message = json.loads(body)
        except ValueError:
            return Outcome(400, "the body is not JSON")
        if not isinstance(message, dict):
            return Outcome(400, "the body is not a JSON object")
        missing = [f for f in REQUIRED if not isinstance(message.get(f), str) or not message.get(f)]
        if missing:
            return Outcome(400, "missing: " + ", ".join(missing))
        if message["kanaal"] == "autorisaties":  # not about a zaak
            return Outcome(204, "ignored")
        if adapter.caused_by_broker(message):  # not sent back to its source
            log.info("notification of the broker's own change", target=target.name, kanaal=message["kanaal"],
                     resource=message["resource"], actie=message["actie"])
            return Outcome(204, "own change")
        change = adapter.change(message)
        if change is None:
            log.info("notification not told", target=target.name, kanaal=message["kanaal"],
                     resource=message["resource"], actie=message["actie"])
            return Outcome(204, "not told")
        return self._queue(target, message, change)

    def _queue(self, target: Target, message: dict[str, Any], change: Any) -> Outcome:
        op = kennisgevingen_model.operation(change.soort, change.actie)
        zaak = change.zaak
        zaaktype = zaak.zaaktype.code if zaak.zaaktype is not None else None
        source = Systeem(organisatie=self.own.organisatie, applicatie=target.name[:50])
        told = self.subscribers.for_change(op, source, zaaktype)
        if not told:
            return Outcome(204, "no subscriber")
        element = kennisgevingen_model.render_change(
            op, zaak, self.schema_model, zender=source, ontvanger=self.own, referentienummer=new_referentienummer(),
            tijdstip_bericht=now_tijdstip(), document=change.document, besluit=change.besluit,
            status=change.status)
        sg = read_stuurgegevens(element)  # the log says what the message says (Di02 for updateZaakdocument)
        request = soap.to_bytes(soap.envelope("1.1", element))
        object_id = (change.document.identificatie if change.document is not None
                     else change.besluit.identificatie if change.besluit is not None else zaak.identificatie)
        rec = messagelog.Record(
            port=PORT, request=request, request_content_type=soap.content_type("1.1"), soap_version="1.1",
            soap_action=f'"{ns.ZDS}/{ns.local(element.tag)}"', operation=op, dialect="zds", sg=sg,
            zaak_identificatie=zaak.identificatie, object_identificatie=object_id,
            correlation_id=current_correlation_id())
        legs = [Leg(target, "sync", True), *(Leg(t, "queued", False) for t in told)]
        # the same notification again (sent to a second abonnement, or resent after no answer) is told once
        key = f"zgw-notificatie|{target.name}|{identity(message)}"
        try:
            with self.db.write() as session:
                message_id = messagelog.store_answered(
                    session, rec, key, None, answer=b"", answer_content_type="application/json",
                    answer_berichtcode=None, http_status=204, state="queued")
                self.queue.add(session, message_id, legs, op, zaak.identificatie, primary_done=True)
        except IntegrityError:
            log.info("notification told before", target=target.name, kanaal=message["kanaal"],
                     resource=message["resource"], actie=message["actie"])
            return Outcome(204, "told before")
        self.wake_worker()
        log.info("notification told to subscribers", target=target.name, kanaal=message["kanaal"],
                 resource=message["resource"], actie=message["actie"], operation=op, subscribers=len(told),
                 message_id=message_id)
        return Outcome(204, "queued", message_id)
