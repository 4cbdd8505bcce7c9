"""Subscribed applications: each is told of a change as a StUF-ZKN kennisgeving addressed to it.

A subscriber is an application of ``applications.yaml`` with a ``subscriber:`` block
(broker.mappings.applications.Subscriber). :class:`Subscribers` keeps one :class:`SubscriberTarget` per
subscriber, rebuilt when a new version of the registry is taken into use (a subscriber whose block did
not change keeps its object); the router adds a queued delivery for every subscriber whose filters
match a change (never to the application that sent it), the queue delivers it in per-zaak order.

One delivery sends one kennisgeving (broker.zds.kennisgevingen: the accepted request, re-addressed,
in the subscriber's ZDS shape, without what it may not receive) to the subscriber's OntvangAsynchroon
endpoint, authenticated as configured (broker.adapters.outbound), and expects Bv03. Its
referentienummer and tijdstipBericht are made at the first attempt and kept with the delivery (a
step), so a retry after a Fo03 with plek server, no answer or HTTP 5xx sends the very same message
(StUF 03.01 §4.4.3); a Fo03 with plek client goes dead at once, the answer kept (broker.queue).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx

from broker.adapters.http import HttpErrors, calling, correlation_headers, describe
from broker.adapters.outbound import client_options, read_answer, usernametoken_header
from broker.adapters.targets import DeliveryRequest, default_retryable
from broker.errors import AdapterError
from broker.mappings.applications import Application, Applications, Subscriber
from broker.model.ports import Context, Health
from broker.store.blobs import BlobStore
from broker.stuf import ns, soap
from broker.stuf.stuurgegevens import Systeem, new_referentienummer, now_tijdstip
from broker.zds import kennisgevingen
from broker.zds.request import ZdsAnswer

#: the target name of a subscriber's deliveries: ``subscriber:<organisatie>/<applicatie>``
PREFIX = "subscriber:"
#: the delivery step that keeps the kennisgeving's referentienummer and tijdstipBericht
STEP = "kennisgeving"


def target_name(app: Application) -> str:
    return f"{PREFIX}{app.name}"[:60]


class SubscriberTarget(HttpErrors):
    shares_transaction = False

    def __init__(self, app: Application, own: Systeem, files_dir: Path | None = None) -> None:
        assert app.subscriber is not None
        self.app = app
        self.config: Subscriber = app.subscriber
        self.name = target_name(app)
        self.own = own
        self.blobs = BlobStore(files_dir) if files_dir is not None else None
        self.http = httpx.Client(timeout=self.config.timeout, headers={"User-Agent": "stuf-broker"},
                                 **client_options(self.config.authentication, self.config.ca_file))

    def kennisgeving(self, request: DeliveryRequest, ctx: Context) -> tuple[str, bytes]:
        """The message element's name and the SOAP envelope this subscriber gets for ``request`` (the
        same at every attempt)."""
        made = ctx.step_done(STEP)
        if not made:
            made = {"referentienummer": new_referentienummer(), "tijdstipBericht": now_tijdstip()}
            ctx.mark_step(STEP, made)  # before sending: a retry sends the same (§4.4.3)
        to = kennisgevingen.Addressing(
            zender=self.own, ontvanger=self.app.systeem, referentienummer=made["referentienummer"],
            tijdstip_bericht=made["tijdstipBericht"], shape=self.config.zds, bsn=self.config.bsn,
            max_document_bytes=self.config.max_document_bytes)
        element = kennisgevingen.render(request.zds.operation.name, request.zds.body, to)
        env = soap.envelope(self.config.soap_version, element)
        security = usernametoken_header(self.config.authentication)
        if security is not None:
            env_ns = ns.namespace(env.tag)
            header = env.makeelement(ns.q(env_ns, "Header"))
            header.append(security)
            env.insert(0, header)
        return ns.local(element.tag), soap.to_bytes(env)

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        element, envelope = self.kennisgeving(request, ctx)
        action = (f"{ns.ZDS}/{element}" if self.config.zds == "1.2" and element.endswith(("Lk01", "Di01"))
                  else f"{ns.ZKN}/{element}")
        headers = {"Content-Type": soap.content_type(self.config.soap_version), "SOAPAction": f'"{action}"',
                   **correlation_headers()}
        content: bytes | Iterator[bytes] = envelope
        pieces = self.blobs.expand(envelope) if self.blobs is not None else None
        if pieces is not None and self.blobs is not None:  # document content streamed from the file store
            content = pieces
            headers["Content-Length"] = str(self.blobs.expanded_length(envelope))
        where = f"{self.name}: POST {element}"
        with calling(where, self.config.timeout):
            response = self.http.post(self.config.url, content=content, headers=headers)
        answer = read_answer(response, where, type(self), fault_where=self.name)
        if ns.local(answer.tag) != "Bv03Bericht":
            raise AdapterError(f"{where}: answered {ns.local(answer.tag)} instead of Bv03", retryable=False,
                               target_answer=response.text[:20000])
        return ZdsAnswer(answer)

    def check(self) -> Health:
        try:
            r = self.http.get(self.config.url, params={"wsdl": ""}, timeout=min(self.config.timeout, 5))
            return Health(r.status_code < 500, f"HTTP {r.status_code}")
        except httpx.RequestError as exc:
            return Health(False, describe(exc, min(self.config.timeout, 5)))

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)

    def close(self) -> None:
        self.http.close()


class Subscribers:
    """The subscribers of the registry in use, as targets; follows hot reloads of applications.yaml."""

    def __init__(self, applications: Applications, own: Systeem, files_dir: Path | None = None) -> None:
        self.applications = applications
        self.own = own
        self.files_dir = files_dir
        self._lock = threading.Lock()
        self._model: object = None
        self._targets: dict[str, SubscriberTarget] = {}
        #: targets of an earlier version, closed with the broker (a delivery may still be on one)
        self.retired: list[SubscriberTarget] = []

    def _current(self) -> dict[str, SubscriberTarget]:
        model = self.applications.settings
        if model is self._model:
            return self._targets
        with self._lock:
            if model is not self._model:
                built: dict[str, SubscriberTarget] = {}
                for app in self.applications.subscribers:
                    name = target_name(app)
                    old = self._targets.get(name)
                    if old is not None and old.config == app.subscriber and old.app.systeem == app.systeem:
                        built[name] = old
                    else:
                        built[name] = SubscriberTarget(app, self.own, self.files_dir)
                self.retired += [t for n, t in self._targets.items() if built.get(n) is not t]
                self._targets, self._model = built, model
        return self._targets

    def get(self, name: str) -> SubscriberTarget | None:
        return self._current().get(name) if name.startswith(PREFIX) else None

    def names(self) -> list[str]:
        return list(self._current())

    @property
    def uses_zaaktypen(self) -> bool:
        return any(t.config.zaaktypen is not None for t in self._current().values())

    def for_change(self, operation: str, zender: Systeem | None, zaaktype: str | None) -> list[SubscriberTarget]:
        """The subscribers told of this change (filters matched, never its sender), in registry order."""
        return [t for t in self._current().values() if t.app.subscribed(operation, zender, zaaktype)]

    def close(self) -> None:
        for target in [*self._targets.values(), *self.retired]:
            target.close()
