"""Subscribed applications: each is told of a change as a StUF-ZKN kennisgeving addressed to it.

A subscriber is an application of ``applications.yaml`` with a ``subscriber:`` block
(broker.mappings.applications.Subscriber). :class:`Subscribers` keeps one :class:`SubscriberTarget` per
subscriber, rebuilt when a new version of the registry is taken into use (a subscriber whose block did
not change keeps its object); the router adds a queued delivery for every subscriber whose filters
match a change (never to the application that sent it), the queue delivers it in per-zaak order.

One delivery sends one kennisgeving (broker.zds.kennisgevingen: the accepted request, re-addressed,
in the subscriber's ZDS shape, without what it may not receive) to the subscriber's OntvangAsynchroon
endpoint, authenticated as configured (broker.adapters.outbound; the sending is shared with the StUF-BG
afnemers: broker.adapters.kennisgeving_targets), and expects Bv03. Its
referentienummer and tijdstipBericht are made at the first attempt and kept with the delivery (a
step), so a retry after a Fo03 with plek server, no answer or HTTP 5xx sends the very same message
(StUF 03.01 §4.4.3); a Fo03 with plek client goes dead at once, the answer kept (broker.queue).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from broker.adapters.kennisgeving_targets import ApplicationTargets, KennisgevingTarget
from broker.adapters.targets import DeliveryRequest
from broker.mappings.applications import Application, Applications, Subscriber
from broker.model.ports import Context
from broker.store.blobs import BlobStore
from broker.stuf import ns
from broker.stuf.stuurgegevens import Systeem
from broker.zds import kennisgevingen
from broker.zds.request import ZdsAnswer

#: the target name of a subscriber's deliveries: ``subscriber:<organisatie>/<applicatie>``
PREFIX = "subscriber:"


def target_name(app: Application) -> str:
    return f"{PREFIX}{app.name}"[:60]


class SubscriberTarget(KennisgevingTarget):
    config: Subscriber

    def __init__(self, app: Application, own: Systeem, files_dir: Path | None = None) -> None:
        assert app.subscriber is not None
        super().__init__(app, app.subscriber, target_name(app))
        self.own = own
        self.blobs = BlobStore(files_dir) if files_dir is not None else None
        codes = self.config.codes
        #: its own zaaktype, status and document type codes (applications.yaml ``codes:``)
        self._codes = (kennisgevingen.Codes(codes.zaaktypen, codes.statussen, codes.documenttypen)
                       if codes is not None else None)

    def kennisgeving(self, request: DeliveryRequest, ctx: Context) -> tuple[str, bytes]:
        """The message element's name and the SOAP envelope this subscriber gets for ``request`` (the
        same at every attempt)."""
        made = self.made(ctx)
        to = kennisgevingen.Addressing(
            zender=self.own, ontvanger=self.app.systeem, referentienummer=made["referentienummer"],
            tijdstip_bericht=made["tijdstipBericht"], shape=self.config.zds, bsn=self.config.bsn,
            max_document_bytes=self.config.max_document_bytes, codes=self._codes)
        element = kennisgevingen.render(request.zds.operation.name, request.zds.body, to)
        return ns.local(element.tag), self.envelope(element)

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        element, envelope = self.kennisgeving(request, ctx)
        action = (f"{ns.ZDS}/{element}" if self.config.zds == "1.2" and element.endswith(("Lk01", "Di01"))
                  else f"{ns.ZKN}/{element}")
        headers: dict[str, str] = {}
        content: bytes | Iterator[bytes] = envelope
        pieces = self.blobs.expand(envelope) if self.blobs is not None else None
        if pieces is not None and self.blobs is not None:  # document content streamed from the file store
            content = pieces
            headers["Content-Length"] = str(self.blobs.expanded_length(envelope))
        return ZdsAnswer(self.post(element, action, content, headers))


class Subscribers(ApplicationTargets[SubscriberTarget]):
    """The subscribers of the registry in use, as targets; follows hot reloads of applications.yaml."""

    prefix = PREFIX

    def __init__(self, applications: Applications, own: Systeem, files_dir: Path | None = None) -> None:
        super().__init__(applications)
        self.own = own
        self.files_dir = files_dir

    def applications_of(self, applications: Applications) -> list[Application]:
        return applications.subscribers

    def block(self, app: Application) -> object:
        return app.subscriber

    def build(self, app: Application) -> SubscriberTarget:
        return SubscriberTarget(app, self.own, self.files_dir)

    @property
    def uses_zaaktypen(self) -> bool:
        return any(t.config.zaaktypen is not None for t in self._current().values())

    def for_change(self, operation: str, zender: Systeem | None, zaaktype: str | None) -> list[SubscriberTarget]:
        """The subscribers told of this change (filters matched, never its sender), in registry order."""
        return [t for t in self._current().values() if t.app.subscribed(operation, zender, zaaktype)]
