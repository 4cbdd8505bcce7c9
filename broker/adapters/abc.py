"""The one interface every target implements, and what an adapter declares about itself.

A target receives the internal case model (broker.model), never StUF. For a W kennisgeving it gets the
old and the new object exactly as the sender described them (``oud``/``nieuw``); targets that keep
StUF themselves may use the objects' ``stuf`` elements, others compare fields.

Errors: a target raises :class:`broker.errors.StufError` for conditions the sender must hear about
(object not found: StUF064; document checked out: StUF058 ...), and
:class:`broker.errors.AdapterError` for its own failures, saying whether a retry may help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from broker.model import Besluit, Document, Status, Zaak
from broker.stuf.stuurgegevens import Systeem


@dataclass
class Context:
    """What a target may know about the message it is handling."""

    session: Session | None = None  # the broker's own transaction (used by the embedded target)
    zender: Systeem | None = None
    message_id: int | None = None
    #: completed steps of an earlier attempt of this delivery: step name -> recorded result
    steps: dict[str, Any] = field(default_factory=dict)
    record_step: Any = None  # callable(name, result) persisting a completed step

    def step_done(self, name: str) -> Any:
        return self.steps.get(name)

    def mark_step(self, name: str, result: Any = True) -> None:
        self.steps[name] = result
        if self.record_step is not None:
            self.record_step(name, result)


@dataclass(frozen=True)
class Checkout:
    document: Document
    checkout_id: str


@dataclass
class Health:
    ok: bool
    detail: str = ""


@runtime_checkable
class Zaaksysteem(Protocol):
    """A zaaksysteem as ZDS 1.2 sees it."""

    name: str

    # identificaties (ZDS 4.1.6, 4.1.9, 4.3.7)
    def genereer_identificatie(self, ctx: Context, soort: str) -> str: ...

    # zaken (4.1.1-4.1.5)
    def creeer_zaak(self, ctx: Context, zaak: Zaak) -> None: ...
    def update_zaak(self, ctx: Context, oud: Zaak, nieuw: Zaak) -> None: ...
    def actualiseer_zaakstatus(self, ctx: Context, oud: Zaak, nieuw: Zaak, status: Status) -> None: ...
    def geef_zaak(self, ctx: Context, identificatie: str) -> Zaak | None: ...

    # documenten (4.3)
    def geef_zaakdocumenten(self, ctx: Context, zaak_identificatie: str) -> list[Document]: ...
    def voeg_zaakdocument_toe(self, ctx: Context, document: Document) -> None: ...
    def maak_zaakdocument(self, ctx: Context, document: Document) -> None: ...
    def geef_document(self, ctx: Context, identificatie: str) -> Document | None: ...
    def checkout_document(self, ctx: Context, identificatie: str) -> Checkout: ...
    def update_zaakdocument(
        self, ctx: Context, checkout_id: str | None, oud: Document, nieuw: Document
    ) -> None: ...
    def cancel_checkout(self, ctx: Context, identificatie: str, checkout_id: str | None) -> None: ...
    def ontkoppel_zaakdocument(self, ctx: Context, identificatie: str, zaak_identificatie: str | None) -> None: ...

    # besluiten (4.1.7-4.1.11)
    def voeg_besluit_toe(self, ctx: Context, besluit: Besluit) -> None: ...
    def update_besluit(self, ctx: Context, oud: Besluit, nieuw: Besluit) -> None: ...
    def geef_besluit(self, ctx: Context, identificatie: str) -> Besluit | None: ...
    def geef_besluiten(self, ctx: Context, zaak_identificatie: str) -> list[Besluit]: ...

    # operations
    def check(self) -> Health: ...
