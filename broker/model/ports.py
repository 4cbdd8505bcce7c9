"""The one interface every target implements, and what an adapter declares about itself.

A target receives the internal case model (broker.model), never StUF. For a W kennisgeving it gets the
old and the new object exactly as the sender described them (``oud``/``nieuw``); targets that keep
StUF themselves may use the objects' ``stuf`` elements, others compare fields.

Errors: a target raises :class:`broker.errors.StufError` for conditions the sender must hear about
(object not found: StUF064; document checked out: StUF058 ...), and
:class:`broker.errors.AdapterError` for its own failures, saying whether a retry may help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from lxml import etree
from sqlalchemy.orm import Session

from broker.model import Besluit, Document, Status, Zaak
from broker.model.person import Persoon, PersoonVraag
from broker.model.selectie import ZaakSelectie
from broker.stuf.stuurgegevens import Systeem


class Deferred:
    """Writes that targets leave to the end of a batch of deliveries sharing one transaction (the
    queue's deliveries of a claim to the embedded zaaksysteem), so that the rows of one kind from
    every delivery go out as one statement. Whatever reads or writes that transaction otherwise calls
    :meth:`flush` first, so it sees them; a failing write fails the batch (the queue then delivers
    each on its own)."""

    def __init__(self) -> None:
        self._pending: dict[str, tuple[Callable[[list[Any]], object], list[Any]]] = {}

    def add(self, kind: str, write: Callable[[list[Any]], object], item: Any) -> None:
        """``item`` for ``write(items)``, which receives every item of its kind at once (the first
        ``write`` given for a kind is the one called)."""
        pending = self._pending.get(kind)
        if pending is None:
            self._pending[kind] = (write, [item])
        else:
            pending[1].append(item)

    def flush(self) -> None:
        """The deferred writes, kind by kind in the order first added."""
        while self._pending:
            kind = next(iter(self._pending))
            write, items = self._pending.pop(kind)
            write(items)


class TooLargeForLoop(Exception):
    """A read would gather more than ``Context.loop_budget`` rows: the caller, an event loop, runs the
    request in a thread instead, so that one large answer does not hold up every other client."""


@dataclass
class Context:
    """What a target may know about the message it is handling."""

    session: Session | None = None  # the broker's own transaction (used by the embedded target)
    #: set when the caller is an event loop: the most rows a read may gather to answer there (a zaak's
    #: rollen, statussen, documents and besluiten; a besluit's documents); a read that would gather more raises
    #: :class:`TooLargeForLoop` before it builds anything (None: no limit, the caller is a thread)
    loop_budget: int | None = None
    #: writes that may wait for the end of the batch this delivery is part of (None: write now)
    deferred: Deferred | None = None
    zender: Systeem | None = None
    message_id: int | None = None
    #: completed steps of an earlier attempt of this delivery: step name -> recorded result
    steps: dict[str, Any] = field(default_factory=dict)
    #: what was made for this request before the target's transaction (ZdsRequest.prepared): the
    #: target takes what it made itself (:class:`PreparedZaken`), by its own keys
    prepared: dict[str, Any] = field(default_factory=dict)
    record_step: Callable[[str, Any], None] | None = None  # persists a completed step (name, result)

    def step_done(self, name: str) -> Any:
        return self.steps.get(name)

    def mark_step(self, name: str, result: Any = True) -> None:
        self.steps[name] = result
        if self.record_step is not None:
            self.record_step(name, result)


@dataclass(frozen=True)
class Checkout:
    """A document checked out for editing (ZDS 1.2 §4.3.3): the document with its content, the id
    that updateZaakdocument/cancelCheckout must present, and who holds it (``checkedOutBy``)."""

    document: Document
    checkout_id: str
    checked_out_by: str | None = None


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
    #: the zaken (as geef_zaak gives them) whose initiator is the person the selectie names, of its
    #: zaaktype when it names one; [] when there are none. The status is filtered by the caller.
    def zoek_zaken(self, ctx: Context, selectie: ZaakSelectie) -> list[Zaak]: ...

    # documenten (4.3). Unknown zaak or document: StUF064; identificatie in use: StUF058; checked out
    # already, not checked out, or another checkout id: StUF058. A Document's ``stuf`` is the EDC entity
    # with its ``isRelevantVoor`` (the relation's own gegevens as registered, the zaak's kerngegevens
    # as gerelateerde); ``inhoud`` carries the content (bytes, bestandsnaam, content type).
    # geef_zaakdocumenten: None when the zaak is unknown, [] when it has no documents; sorted on the
    # identificatie and without content. geef_document and checkout_document: with content.
    # update_zaakdocument: ``nieuw.inhoud`` with data replaces the content; the checkout ends.
    def geef_zaakdocumenten(self, ctx: Context, zaak_identificatie: str) -> list[Document] | None: ...
    def voeg_zaakdocument_toe(self, ctx: Context, document: Document) -> None: ...
    def maak_zaakdocument(self, ctx: Context, document: Document) -> None: ...
    def geef_document(self, ctx: Context, identificatie: str) -> Document | None: ...
    def checkout_document(self, ctx: Context, identificatie: str) -> Checkout: ...
    def update_zaakdocument(
        self, ctx: Context, checkout_id: str | None, oud: Document, nieuw: Document
    ) -> None: ...
    def cancel_checkout(self, ctx: Context, identificatie: str, checkout_id: str | None) -> None: ...
    def ontkoppel_zaakdocument(self, ctx: Context, identificatie: str, zaak_identificatie: str | None) -> None: ...

    # besluiten (4.1.7-4.1.11). Unknown zaak, besluit or document: StUF064; identificatie in use: StUF058.
    # update_besluit links the documents only ``nieuw`` names and unlinks those only ``oud`` names.
    # geef_besluit: ``stuf`` is the full BSL entity (attributes, isUitkomstVan, isVastgelegdIn).
    # geef_besluiten: None when the zaak is unknown, [] when it has no besluiten.
    def voeg_besluit_toe(self, ctx: Context, besluit: Besluit) -> None: ...
    def update_besluit(self, ctx: Context, oud: Besluit, nieuw: Besluit) -> None: ...
    def geef_besluit(self, ctx: Context, identificatie: str) -> Besluit | None: ...
    def geef_besluiten(self, ctx: Context, zaak_identificatie: str) -> list[Besluit] | None: ...

    # operations
    def check(self) -> Health: ...


class StufZaken(Protocol):
    """A zaaksysteem that keeps each zaak as its StUF entity (the embedded one) may also offer it as
    such: geefZaakdetails and geefZaakstatus then answer from the entity without reading it into the
    case model and back. None when the zaak is unknown; the element is the caller's to change."""

    def geef_zaak_entity(self, ctx: Context, identificatie: str) -> etree._Element | None: ...


class PreparedZaken(Protocol):
    """A zaaksysteem that can make what a new zaak writes from the zaak alone, before the transaction
    (the embedded one): the service's prepare keeps it in ``ZdsRequest.prepared``, which the target
    gets back as ``Context.prepared`` in :meth:`Zaaksysteem.creeer_zaak`."""

    def prepare_creeer_zaak(self, zaak: Zaak) -> tuple[str, object]: ...


@runtime_checkable
class PersonenBron(Protocol):
    """A source of persons (StUF-BG questions): the embedded register, the BRP Personen API, ...

    ``zoek`` answers one :class:`broker.model.person.PersoonVraag` with the matching persons (an empty
    list when none match). A question the source cannot answer is a :class:`StufError` that says so;
    the source's own failures are :class:`AdapterError`. The persons are personal data: never log them.
    """

    name: str

    def zoek(self, vraag: PersoonVraag) -> list[Persoon]: ...

    def check(self) -> Health: ...
