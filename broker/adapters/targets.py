"""Targets: what the delivery machinery hands a message to.

A target receives a :class:`DeliveryRequest` (the parsed ZDS request and its raw bytes) and returns
the answer the sender would get from it. Three families share this interface:

- zaaksystemen behind :class:`broker.model.ports.Zaaksysteem` (embedded, ZGW): the ZDS service
  handlers translate the message into the case model (:class:`ZaaksysteemTarget`);
- StUF endpoints that take the message as it is (broker.adapters.stuf_forward);
- subscribers that receive zaak events (broker.adapters.webhook).

Each target says which of its errors are worth another attempt (:meth:`Target.retryable`): a target
raises :class:`broker.errors.AdapterError` with ``retryable`` set, or a :class:`StufError` whose
``plek`` decides (server: retry; client: permanent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from broker.errors import AdapterError, StufError
from broker.model.facts import MessageFacts
from broker.model.ports import Context, Health, Zaaksysteem
from broker.zds import keys
from broker.zds.request import ZdsAnswer, ZdsRequest


@dataclass
class DeliveryRequest:
    zds: ZdsRequest
    raw: bytes  # the StUF message element as received (without the SOAP envelope)
    soap_action: str | None = None
    message_id: int | None = None

    @property
    def facts(self) -> MessageFacts:
        """What the message is about, for targets that must not read it (subscribers)."""
        sg = self.zds.stuurgegevens
        operation, body = self.zds.operation.name, self.zds.body
        return MessageFacts(
            operation=operation, message_id=self.message_id,
            zaak=keys.zaak_identificatie(operation, body), zaaktype=keys.zaaktype_code(body),
            object=keys.object_identificatie(operation, body), referentienummer=sg.referentienummer,
            zender=sg.zender.applicatie if sg.zender else None, tijdstip_bericht=sg.tijdstipBericht)


def acknowledgement(request: DeliveryRequest) -> ZdsAnswer:
    """The Bv03 a target that took the message in answers with."""
    return ZdsAnswer.acknowledged(request.zds)


#: what a target answers: the StUF answer element the sender gets (opaque to adapters that only
#: acknowledge, see :func:`acknowledgement`)
Answer = ZdsAnswer

#: a ZDS service: the request, the zaaksysteem it runs against, the delivery's context -> the answer
Handler = Callable[[ZdsRequest, Zaaksysteem, Context], ZdsAnswer]


@runtime_checkable
class Target(Protocol):
    name: str
    #: True when the target works inside the broker's own database transaction (embedded)
    shares_transaction: bool

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer: ...

    def check(self) -> Health: ...

    def retryable(self, exc: BaseException) -> bool: ...


def prepare_outside_transaction(target: object, request: DeliveryRequest) -> None:
    """For a target that works in the broker's transaction (the embedded zaaksysteem), whose
    transaction holds the database's write lock (on SQLite, for every worker process): what its
    operation's service reads from the request alone, done before that transaction, on the caller's
    thread (:meth:`ZaaksysteemTarget.prepare`). Nothing for a target without that step."""
    prepare = getattr(target, "prepare", None)
    if prepare is not None:
        prepare(request)


def default_retryable(exc: BaseException) -> bool:
    if isinstance(exc, AdapterError):
        return exc.retryable
    if isinstance(exc, StufError):
        return exc.plek == "server"
    return True  # an unexpected failure of the target: try again, an operator sees the error


class ZaaksysteemTarget:
    """A zaaksysteem adapter behind the ZDS service handlers."""

    def __init__(self, name: str, adapter: Zaaksysteem, handlers: Mapping[str, Handler], *,
                 shares_transaction: bool) -> None:
        self.name = name
        self.adapter = adapter
        self.handlers = handlers
        self.shares_transaction = shares_transaction

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        handler = self.handlers[request.zds.operation.name]
        return handler(request.zds, self.adapter, ctx)

    def prepare(self, request: DeliveryRequest) -> None:
        """What the operation's service reads from the request before :meth:`deliver`, outside the
        target's transaction (broker.services.service's ``prepare``); nothing when it has none or it
        fails."""
        prepare = getattr(self.handlers[request.zds.operation.name], "prepare", None)
        if prepare is None:
            return
        try:
            prepare(request.zds, self.adapter)
        except Exception:  # never fails a request: deliver() meets the same error in its own time
            request.zds.prepared.clear()

    def check(self) -> Health:
        return self.adapter.check()

    def retryable(self, exc: BaseException) -> bool:
        if self.shares_transaction and isinstance(exc, StufError):
            # the embedded zaaksysteem decides with the broker's own data: trying again changes nothing
            return False
        return default_retryable(exc)


class RemoteZaaksysteemTarget(ZaaksysteemTarget):
    """A zaaksysteem that keeps its own data (the ZGW adapter) behind the ZDS service handlers; it
    never shares the broker's transaction. After a completed delivery the adapter hears so
    (``delivered(ctx)``, when it has that method): a completed delivery never runs again.

    Retries: what the adapter decided itself (an unknown zaak, a missing mapping: a StufError) will
    not change with another attempt; API failures say it themselves (``AdapterError.retryable``)."""

    def __init__(self, name: str, adapter: Zaaksysteem, handlers: Mapping[str, Handler]) -> None:
        super().__init__(name, adapter, handlers, shares_transaction=False)

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        answer = super().deliver(request, ctx)
        delivered = getattr(self.adapter, "delivered", None)
        if delivered is not None:
            delivered(ctx)
        return answer

    def retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, AdapterError):
            return exc.retryable
        return not isinstance(exc, StufError)

    def close(self) -> None:
        close = getattr(self.adapter, "close", None)
        if close is not None:
            close()
