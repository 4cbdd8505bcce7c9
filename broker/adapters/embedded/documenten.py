"""Documents in the embedded zaaksysteem (ZDS 1.2 §4.3).

A document is kept as its EDC entity as registered (``zs_documenten.stuf_xml``, without ``inhoud``
and without its relation to the zaak), the zaak it belongs to (``zaak_id``) with that relation's own
gegevens (``link_xml``: the ``isRelevantVoor`` as sent, without the gerelateerde), and its content in
the content-addressed :class:`~broker.adapters.embedded.files.FileStore`. The file is written before
the row that references it, inside the message's transaction: a rolled-back message leaves at most
an unreferenced file, never a row without content. Replaced content stays in the store (nothing is
ever overwritten), but only the current version is reachable through ZDS.

What the zaaksysteem demands, beyond the schema (ZDS 1.2 leaves these to the implementer):

- the zaak exists (StUF064) and the documenttype belongs to its zaaktype when the catalogus lists
  documenttypen (StUF058);
- a documentidentificatie is used once (StUF058, as creeerZaak does for a zaak, R-ID-04), also
  after the document has been ontkoppeld: the document is kept, only its relation to the zaak ends;
- checkout (geefZaakdocumentbewerken) is a lock with an opaque random id. It lasts until
  updateZaakdocument or cancelCheckout with that id; a second checkout, an update or cancel without
  or with another id, and ontkoppelZaakdocument of a checked-out document are refused (StUF058).
  The lock does not expire by itself: a document in bewerking stays in bewerking (as a DMS keeps a
  private working copy) until its holder ends it;
- updateZaakdocument changes the relation's gegevens (``isRelevantVoor`` with verwerkingssoort W for
  the same zaak) but does not move a document to another zaak: that is ontkoppelZaakdocument
  followed by voegZaakdocumentToe;
- an empty (nil) element without ``StUF:noValue`` is registered as ``geenWaarde``, so every nil in an
  answer carries a noValue (R-NV-02).
"""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime
from typing import NamedTuple

import structlog
from lxml import etree
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker.adapters.embedded import lookup
from broker.adapters.embedded.base import EmbeddedBase, session_of, stuf_of
from broker.adapters.embedded.tables import ZsDocument, ZsZaak
from broker.errors import StufError
from broker.model import Document, Inhoud
from broker.model.ports import Checkout, Context
from broker.store.reads import Read
from broker.stuf import ns
from broker.stuf.stuurgegevens import Systeem
from broker.zds import documenten, mutation, read
from broker.zds.xmlutil import (
    ENTITEITTYPE,
    NOVALUE,
    VERWERKINGSSOORT,
    child,
    children,
    clone,
    from_string,
    is_nil,
    make,
    nil_with_novalue,
    strip_processing,
    text,
    to_string,
)

#: the documents of a zaak as ORM rows (made once)
_DOCUMENT_ROWS_OF = (select(ZsDocument).where(ZsDocument.zaak_id == bindparam("zaak_id"))
                      .order_by(ZsDocument.identificatie))
#: what a zaak's answer shows of its documents, as Core rows (a question does not need the ORM's objects)
_DOCUMENT_XML_OF = Read(select(ZsDocument.stuf_xml, ZsDocument.zaak_id, ZsDocument.link_xml)
                        .where(ZsDocument.zaak_id == bindparam("zaak_id")).order_by(ZsDocument.identificatie))


class _DocumentXml(NamedTuple):
    """A row of _DOCUMENT_XML_OF, by name (as _document_element reads a ZsDocument)."""

    stuf_xml: str
    zaak_id: int | None
    link_xml: str | None

log = structlog.get_logger("broker.embedded")


def _now() -> datetime:
    return datetime.now(UTC)


class DocumentenMixin(EmbeddedBase):

    # -- ZDS services ------------------------------------------------------------------------
    def voeg_zaakdocument_toe(self, ctx: Context, document: Document) -> None:
        self._register(session_of(ctx), document, "voegZaakdocumentToe")

    def maak_zaakdocument(self, ctx: Context, document: Document) -> None:
        self._register(session_of(ctx), document, "maakZaakdocument")

    def geef_document(self, ctx: Context, identificatie: str) -> Document | None:
        session = session_of(ctx)
        row = session.execute(
            select(ZsDocument).where(ZsDocument.identificatie == identificatie)
        ).scalar_one_or_none()
        if row is None:
            return None
        return self._document(session, row, with_content=True)

    def geef_zaakdocumenten(self, ctx: Context, zaak_identificatie: str) -> list[Document] | None:
        session = session_of(ctx)
        zaak = session.execute(
            select(ZsZaak).where(ZsZaak.identificatie == zaak_identificatie)
        ).scalar_one_or_none()
        if zaak is None:
            return None
        kern = self._zaak_kern(zaak)
        return [
            read.document(self._document_element(r, kern)) for r in self._rows_of(session, zaak)
        ]

    def checkout_document(self, ctx: Context, identificatie: str) -> Checkout:
        session = session_of(ctx)
        row = self._document_row(session, identificatie, lock=True)
        if row.checkout_id:
            since = row.checked_out_at.strftime("%Y-%m-%d %H:%M:%S") if row.checked_out_at else "onbekend"
            raise StufError(
                "StUF058",
                f"Document {identificatie} is al uitgecheckt en kan niet opnieuw ter bewerking worden opgevraagd",
                f"uitgecheckt sinds {since} (UTC); het document komt vrij met updateZaakdocument of "
                "cancelCheckout met de checkout-id van die bewerking",
                plek="client",
            )
        row.checkout_id = uuid.uuid4().hex
        row.checked_out_by = _who(ctx.zender)
        row.checked_out_at = _now()
        session.flush()
        return Checkout(self._document(session, row, with_content=True), row.checkout_id, row.checked_out_by)

    def update_zaakdocument(self, ctx: Context, checkout_id: str | None, oud: Document, nieuw: Document) -> None:
        session = session_of(ctx)
        identificatie = oud.identificatie or nieuw.identificatie
        row = self._document_row(session, identificatie, lock=True)
        _check_checkout(row, checkout_id, "updateZaakdocument")
        el = from_string(row.stuf_xml)
        mutation.apply(el, _attributes(stuf_of(oud)), _attributes(stuf_of(nieuw)), self.schema, "EDC")
        el = _registrable(el)
        documenttype = text(el, "dct.omschrijving")
        if documenttype != row.documenttype and row.zaak_id is not None:
            zaak = session.get(ZsZaak, row.zaak_id)
            if zaak is not None:  # zaak_id is a foreign key: the zaak is there
                self._check_documenttype(zaak, documenttype)
        self._update_link(session, row, stuf_of(oud), stuf_of(nieuw))
        if nieuw.inhoud is not None:
            if nieuw.inhoud.has_content:  # new content replaces the old
                self._store_content(row, nieuw.inhoud)
            else:  # an empty inhoud renames, it does not erase
                row.bestandsnaam = nieuw.inhoud.bestandsnaam or row.bestandsnaam
                row.content_type = nieuw.inhoud.content_type or row.content_type
        row.stuf_xml = to_string(el)
        row.documenttype = documenttype
        row.titel = text(el, "titel")
        row.updated_at = _now()
        _release(row)
        session.flush()

    def cancel_checkout(self, ctx: Context, identificatie: str, checkout_id: str | None) -> None:
        session = session_of(ctx)
        row = self._document_row(session, identificatie, lock=True)
        _check_checkout(row, checkout_id, "cancelCheckout")
        _release(row)
        session.flush()

    def ontkoppel_zaakdocument(self, ctx: Context, identificatie: str, zaak_identificatie: str | None) -> None:
        session = session_of(ctx)
        row = self._document_row(session, identificatie, lock=True)
        zaak = self._zaak_row(session, zaak_identificatie) if zaak_identificatie else None
        if row.zaak_id is None or (zaak is not None and row.zaak_id != zaak.id):
            raise StufError(
                "StUF064",
                f"Document {identificatie} is niet gekoppeld aan zaak {zaak_identificatie}",
                "ontkoppelZaakdocument noemt een koppeling tussen zaak en document die niet bestaat",
                plek="client",
            )
        if row.checkout_id:
            raise StufError(
                "StUF058",
                f"Document {identificatie} is in bewerking en kan niet van de zaak worden ontkoppeld",
                "ZDS 1.2 §4.3.9: een zaakdocument mag niet in bewerking zijn; beëindig de bewerking eerst "
                "met updateZaakdocument of cancelCheckout",
                plek="client",
            )
        row.zaak_id = None
        row.link_xml = None
        row.updated_at = _now()
        session.flush()

    # -- what geefZaakdetails shows ----------------------------------------------------------
    def _document_relations(self, session: Session, zaak_id: int) -> list[etree._Element]:
        """The zaak's documents as ``heeftRelevant`` relations, sorted on the documentidentificatie
        (the schema's "Sortering antwoordbericht: gerelateerde/identificatie")."""
        return [
            documenten.heeft_relevant(self._document_element(d, None), self.schema)
            for d in map(_DocumentXml._make, _DOCUMENT_XML_OF.rows(session, {"zaak_id": zaak_id}))
        ]

    # -- helpers -----------------------------------------------------------------------------
    def _register(self, session: Session, document: Document, service: str) -> None:
        ident = document.identificatie
        if not ident:
            raise StufError("StUF055", "Het document heeft geen identificatie")
        zaak = self._zaak_row(session, document.zaak_identificatie)
        if session.execute(select(ZsDocument.id).where(ZsDocument.identificatie == ident)).first():
            raise _in_use(ident, service)
        self._check_documenttype(zaak, document.documenttype)
        el = _registrable(stuf_of(document))
        links = [r for r in children(el, "isRelevantVoor") if not is_nil(r)]
        link = _registrable_link(links[0] if links else None)
        el = _attributes(el)
        row = ZsDocument(
            identificatie=ident,
            zaak_id=zaak.id,
            documenttype=document.documenttype,
            titel=document.titel,
            stuf_xml=to_string(el),
            link_xml=to_string(link),
            created_at=_now(),
            updated_at=_now(),
        )
        if document.inhoud is not None:
            self._store_content(row, document.inhoud)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:  # a concurrent message registered the same identificatie first
            raise _in_use(ident, service) from None

    def _store_content(self, row: ZsDocument, inhoud: Inhoud) -> None:
        """Write the content first (content-addressed, fsync'ed); the row only references it."""
        digest, size = self.files.put_inhoud(inhoud)
        row.content_sha256 = digest
        row.content_size = size
        row.bestandsnaam = inhoud.bestandsnaam
        row.content_type = inhoud.content_type

    def _content(self, row: ZsDocument) -> Inhoud | None:
        if row.content_sha256 is None:
            if row.bestandsnaam is None and row.content_type is None:
                return None
            return Inhoud(data=b"", bestandsnaam=row.bestandsnaam, content_type=row.content_type)
        if row.content_size is not None and row.content_size > self.files.in_memory_limit \
                and self.files.exists(row.content_sha256):
            # large content stays in the store; the answer carries its token and the edge streams it
            return Inhoud(blob=self.files.ref(row.content_sha256, row.content_size),
                          bestandsnaam=row.bestandsnaam, content_type=row.content_type)
        try:
            data = self.files.get(row.content_sha256)
        except FileNotFoundError:
            log.error("document content missing from the file store", document_id=row.id)
            raise StufError(
                "StUF058",
                f"De inhoud van document {row.identificatie} is niet beschikbaar",
                "het bestand van het document ontbreekt in de opslag van het zaaksysteem",
            ) from None
        return Inhoud(data=data, bestandsnaam=row.bestandsnaam, content_type=row.content_type)

    def _check_documenttype(self, zaak: ZsZaak, documenttype: str | None) -> None:
        try:
            zaaktype = self.catalogus.zaaktype(zaak.zaaktype_code, zaak.zaaktype_omschrijving)
        except StufError:
            return  # the catalogus no longer lists the zaak's zaaktype: nothing to check against
        self.catalogus.documenttype_allowed(zaaktype, documenttype)

    def _update_link(self, session: Session, row: ZsDocument, oud: etree._Element, nieuw: etree._Element) -> None:
        """isRelevantVoor in updateZaakdocument: I (or absent) leaves it, W changes the relation's own
        gegevens for the zaak the document belongs to; anything else would move the document."""
        olds, news = children(oud, "isRelevantVoor"), children(nieuw, "isRelevantVoor")
        for i in range(max(len(olds), len(news))):
            o = olds[i] if i < len(olds) else None
            n = news[i] if i < len(news) else None
            rel = n if n is not None else o
            if rel is None:
                continue
            soort = rel.get(VERWERKINGSSOORT)
            if soort in (None, "I"):
                continue
            zaak = session.get(ZsZaak, row.zaak_id) if row.zaak_id is not None else None
            named = text(child(rel, "gerelateerde"), "identificatie")
            if soort != "W" or n is None or is_nil(n) or zaak is None or (named and named != zaak.identificatie):
                raise StufError(
                    "StUF058",
                    f"updateZaakdocument kan de zaak van document {row.identificatie} niet wijzigen",
                    f"isRelevantVoor met verwerkingssoort {soort} naar zaak {named or '(geen)'}: "
                    "updateZaakdocument wijzigt alleen de gegevens van de bestaande koppeling (W); "
                    "gebruik ontkoppelZaakdocument en voegZaakdocumentToe om een document te verplaatsen",
                    plek="client",
                )
            row.link_xml = to_string(_registrable_link(n))

    def _document_row(self, session: Session, identificatie: str | None, *, lock: bool = False) -> ZsDocument:
        return lookup.by_identificatie(session, ZsDocument, "Document", identificatie, lock=lock)

    @staticmethod
    def _rows_of(session: Session, zaak: ZsZaak) -> list[ZsDocument]:
        return list(session.execute(_DOCUMENT_ROWS_OF, {"zaak_id": zaak.id}).scalars())

    def _zaak_kern(self, zaak: ZsZaak) -> etree._Element:
        """The zaak as the gerelateerde of a document's isRelevantVoor: its kerngegevens as registered."""
        ger = from_string(zaak.stuf_xml)
        self.schema.prune_to_kern(ger, "ZAK-kerngegevens")
        ger.tag = ns.q(ns.ZKN, "gerelateerde")
        ger.set(ENTITEITTYPE, "ZAK")
        return ger

    def _document_element(self, row: ZsDocument | _DocumentXml,
                          zaak_kern: etree._Element | None) -> etree._Element:
        """The EDC entity with its ``isRelevantVoor`` (the zaak's kerngegevens as gerelateerde when given)."""
        el = from_string(row.stuf_xml)
        if row.zaak_id is not None:
            link = from_string(row.link_xml) if row.link_xml else _registrable_link(None)
            if zaak_kern is not None:
                link.insert(0, clone(zaak_kern))
            self.schema.insert(el, "EDC", link)
        return el

    def _document(self, session: Session, row: ZsDocument, *, with_content: bool) -> Document:
        kern = None
        if row.zaak_id is not None:
            zaak = session.get(ZsZaak, row.zaak_id)
            kern = self._zaak_kern(zaak) if zaak is not None else None
        doc = read.document(self._document_element(row, kern))
        if with_content:
            doc.inhoud = self._content(row)
        return doc


def _in_use(identificatie: str, service: str) -> StufError:
    return StufError(
        "StUF058",
        f"Document {identificatie} bestaat al",
        f"{service} met een documentidentificatie die al in gebruik is (ZDS 1.2 §4.3.4/§4.3.5)",
        plek="client",
    )


def _check_checkout(row: ZsDocument, checkout_id: str | None, service: str) -> None:
    if not row.checkout_id:
        raise StufError(
            "StUF058",
            f"Document {row.identificatie} is niet uitgecheckt",
            f"{service} hoort bij een document dat met geefZaakdocumentbewerken ter bewerking is opgevraagd",
            plek="client",
        )
    if not checkout_id or not hmac.compare_digest(row.checkout_id.encode(), checkout_id.encode()):
        raise StufError(
            "StUF058",
            f"De checkout-id past niet bij de bewerking van document {row.identificatie}",
            f"{service}: parameters/checkedOutId is niet de id die geefZaakdocumentbewerken voor dit document gaf",
            plek="client",
        )


def _release(row: ZsDocument) -> None:
    row.checkout_id = None
    row.checked_out_by = None
    row.checked_out_at = None


def _who(zender: Systeem | None) -> str | None:
    """checkedOutBy: the gebruiker when the sender names one, else its applicatie."""
    if zender is None:
        return None
    return zender.gebruiker or zender.applicatie or zender.organisatie


def _registrable(entity: etree._Element) -> etree._Element:
    """A copy of an EDC entity as the zaaksysteem registers it (``ZKN:object``, no verwerkingssoort)."""
    el = strip_processing(clone(entity))
    el.tag = ns.q(ns.ZKN, "object")
    el.set(ENTITEITTYPE, "EDC")
    nil_with_novalue(el)
    return el


def _attributes(entity: etree._Element) -> etree._Element:
    """The entity without ``inhoud`` (kept in the file store) and without relations."""
    el = clone(entity)
    for c in children(el):
        if ns.local(c.tag) == "inhoud" or mutation.is_relation(c):
            el.remove(c)
    return el


def _registrable_link(rel: etree._Element | None) -> etree._Element:
    """The EDCZAK relation's own gegevens as registered: without gerelateerde and verwerkingssoort."""
    link = strip_processing(clone(rel)) if rel is not None else make(ns.ZKN, "isRelevantVoor")
    link.tag = ns.q(ns.ZKN, "isRelevantVoor")
    link.set(ENTITEITTYPE, "EDCZAK")
    for c in children(link, "gerelateerde"):
        link.remove(c)
    for attr in (ns.q(ns.XSI, "nil"), NOVALUE):
        link.attrib.pop(attr, None)
    nil_with_novalue(link)
    return link


