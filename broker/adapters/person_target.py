"""A person source as a target: the StUF-BG service handler runs against a
:class:`broker.model.ports.PersonenBron` (the embedded register, the BRP Personen API).

The handlers (broker.services.personen) are handed in by the composition root, as for zaaksystemen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from broker.adapters.targets import DeliveryRequest, default_retryable
from broker.errors import StufError
from broker.model.ports import Context, Health, PersonenBron
from broker.store.db import Database
from broker.zds.request import ZdsAnswer, ZdsRequest


@dataclass
class PersonContext(Context):
    """A delivery's context plus the broker's database, for what a StUF-BG service keeps itself
    (afnemerindicaties): in ``session`` when the source shares the request's transaction, else in a
    transaction of its own after the source answered."""

    db: Database | None = None


#: a StUF-BG service: the request, the person source, the delivery's context -> the answer
PersonHandler = Callable[[ZdsRequest, PersonenBron, PersonContext], ZdsAnswer]


class PersonenTarget:
    def __init__(self, name: str, bron: PersonenBron, handlers: Mapping[str, PersonHandler], *,
                 shares_transaction: bool, db: Database | None = None) -> None:
        self.name = name
        self.db = db
        self.bron = bron
        self.handlers = handlers
        #: the embedded register answers from memory: no remote call to keep outside a transaction
        self.shares_transaction = shares_transaction

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        handler = self.handlers.get(request.zds.operation.name)
        if handler is None:
            raise StufError("StUF025", f"{request.zds.operation.name} wordt door personenbron {self.name} niet "
                            "beantwoord", plek="server")
        own = PersonContext(**{f.name: getattr(ctx, f.name) for f in fields(Context)}, db=self.db)
        return handler(request.zds, self.bron, own)

    def check(self) -> Health:
        return self.bron.check()

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)

    def close(self) -> None:
        close = getattr(self.bron, "close", None)
        if close is not None:
            close()
