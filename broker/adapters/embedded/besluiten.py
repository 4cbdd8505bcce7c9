"""Besluiten in the embedded zaaksysteem (ZDS 1.2 §4.1.7-4.1.11).

A besluit is kept as its BSL entity as registered (``zs_besluiten.stuf_xml``, without relations),
the zaak it is the outcome of (``zaak_id``) and one ``zs_besluit_documenten`` row per document it is
vastgelegd in (the BSLEDC relation as sent). :meth:`BesluitenMixin.geef_besluit` assembles the whole
entity again: attributes, ``isUitkomstVan`` (the zaak) and ``isVastgelegdIn`` sorted on the document
identificatie (the schema's "Sortering antwoordbericht"), each showing the document as the
zaaksysteem has it registered. A zaak shows its besluiten as ``leidtTot``.

What the zaaksysteem demands, beyond the schema (ZDS 1.2 leaves these to the implementer):

- the zaak exists (StUF064, R-ID-05), and so does the besluit that updateBesluit changes;
- a besluitidentificatie is used once: voegBesluitToe with one in use is refused with StUF058, as
  creeerZaak does for a zaakidentificatie (R-ID-03);
- every document a besluit is vastgelegd in is registered already (StUF064). A besluit names its
  documents by their kerngegevens only, so even a gerelateerde with verwerkingssoort T does not create
  one (documents come with content, through voegZaakdocumentToe); RGBZ does not demand that the
  document belongs to the besluit's zaak, so neither does the zaaksysteem. Naming a document twice, or
  adding a relation that exists already, links it once;
- an empty (nil) element without ``StUF:noValue`` is registered as ``geenWaarde``, so every nil in an
  answer carries a noValue (R-NV-02).
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from broker.adapters.embedded import lookup
from broker.adapters.embedded.base import EmbeddedBase, session_of, stuf_of
from broker.adapters.embedded.tables import (
    ZsBesluit,
    ZsBesluitDocument,
    ZsDocument,
    ZsZaak,
)
from broker.errors import StufError
from broker.model import Besluit
from broker.model.ports import Context, TooLargeForLoop
from broker.store.reads import Read
from broker.stuf import ns
from broker.zds import mutation, read
from broker.zds.xmlutil import (
    ENTITEITTYPE,
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

_RELATIONS = ("isUitkomstVan", "isVastgelegdIn")
#: how many documents geefBesluitdetails would gather for the besluit, asked only on an event loop
#: (Context.loop_budget)
_DOCUMENT_ROWS = (select(func.count()).select_from(ZsBesluitDocument)
                  .where(ZsBesluitDocument.besluit_id == bindparam("besluit_id")))
#: the besluiten of a zaak as registered, for its leidtTot relations (made once: every geefZaakdetails asks)
_BESLUITEN_XML_OF = Read(select(ZsBesluit.stuf_xml).where(ZsBesluit.zaak_id == bindparam("zaak_id"))
                          .order_by(ZsBesluit.identificatie))  # (through SQLite's driver: broker.store.reads)
#: what a besluit shows as the gerelateerde of a zaak's ``leidtTot`` (ZKN:BSL-gerelateerdeAntwoord)
_BSL_GERELATEERDE = (
    "identificatie", "bst.omschrijving", "datumBeslissing", "toelichting", "ingangsdatumWerking",
    "einddatumWerking", "vervalreden", "datumPublicatie", "datumVerzending", "datumUiterlijkeReactie",
    "tijdvakGeldigheid", "tijdstipRegistratie", "extraElementen",
)
#: what a document shows as the gerelateerde of ``isVastgelegdIn``: the elements of the ZDS 1.2 answer
#: table (and of the STP's expected answers); the schema would allow more, the STP calls that redundant
_EDC_GERELATEERDE = ("identificatie", "dct.omschrijving", "titel")


def _now() -> datetime:
    return datetime.now(UTC)


class BesluitenMixin(EmbeddedBase):

    # -- ZDS services ------------------------------------------------------------------------
    def voeg_besluit_toe(self, ctx: Context, besluit: Besluit) -> None:
        session = session_of(ctx)
        ident = besluit.identificatie
        if not ident:
            raise StufError("StUF055", "Het besluit heeft geen identificatie")
        # a ZDS 1.1 bslLk01 names no zaak: the zaak relates the besluit later (updateZaak, leidtTot)
        zaak = self._zaak_row(session, besluit.zaak_identificatie) if besluit.zaak_identificatie else None
        if session.execute(select(ZsBesluit.id).where(ZsBesluit.identificatie == ident)).first():
            raise StufError(
                "StUF058",
                f"Besluit {ident} bestaat al",
                "voegBesluitToe met een besluitidentificatie die al in gebruik is (ZDS 1.2 §4.1.7)",
                plek="client",
            )
        el = _registrable(stuf_of(besluit))
        documents = _take(el, "isVastgelegdIn")
        _take(el, "isUitkomstVan")
        row = ZsBesluit(identificatie=ident, zaak_id=zaak.id if zaak is not None else None, stuf_xml="",
                        created_at=_now(), updated_at=_now())
        session.add(row)
        session.flush()
        self._save_besluit(session, row, el, documents, linked=set())

    def update_besluit(self, ctx: Context, oud: Besluit, nieuw: Besluit) -> None:
        session = session_of(ctx)
        row = self._besluit_row(session, oud.identificatie or nieuw.identificatie, lock=True)
        el = from_string(row.stuf_xml)
        linked = self._document_rows(session, row)
        for d in linked:
            self.schema.insert(el, "BSL", _relation_as_sent(d))
        mutation.apply(el, stuf_of(oud), stuf_of(nieuw), self.schema, "BSL")
        el = _registrable(el)
        documents = _take(el, "isVastgelegdIn")
        _take(el, "isUitkomstVan")  # not part of updateBesluit; the zaak of a besluit stays
        self._save_besluit(session, row, el, documents, linked={d.document_identificatie for d in linked})

    def geef_besluit(self, ctx: Context, identificatie: str) -> Besluit | None:
        session = session_of(ctx)
        row = session.execute(
            select(ZsBesluit).where(ZsBesluit.identificatie == identificatie)
        ).scalar_one_or_none()
        if row is None:
            return None
        if ctx.loop_budget is not None:
            documents = session.connection().execute(_DOCUMENT_ROWS, {"besluit_id": row.id}).scalar_one()
            if documents > ctx.loop_budget:
                raise TooLargeForLoop(f"besluit {identificatie}: {documents} documents")
        return read.besluit(self._besluit_element(session, row))

    def geef_besluiten(self, ctx: Context, zaak_identificatie: str) -> list[Besluit] | None:
        session = session_of(ctx)
        zaak = session.execute(
            select(ZsZaak).where(ZsZaak.identificatie == zaak_identificatie)
        ).scalar_one_or_none()
        if zaak is None:
            return None
        return [read.besluit(self._besluit_element(session, r, zaak)) for r in self._besluit_rows(session, zaak)]

    # -- what geefZaakdetails shows ----------------------------------------------------------
    def _besluit_relations(self, session: Session, zaak_id: int) -> list[etree._Element]:
        """The zaak's besluiten as ``leidtTot`` relations, sorted on the besluitidentificatie."""
        out = []
        for xml in _BESLUITEN_XML_OF.scalars(session, {"zaak_id": zaak_id}):
            rel = make(ns.ZKN, "leidtTot")
            rel.set(ENTITEITTYPE, "ZAKBSL")
            rel.append(_gerelateerde(from_string(xml), "BSL", _BSL_GERELATEERDE))
            out.append(rel)
        return out

    # -- helpers -----------------------------------------------------------------------------
    def _besluit_row(self, session: Session, identificatie: str | None, *, lock: bool = False) -> ZsBesluit:
        return lookup.by_identificatie(session, ZsBesluit, "Besluit", identificatie, lock=lock)

    @staticmethod
    def _besluit_rows(session: Session, zaak: ZsZaak) -> list[ZsBesluit]:
        return list(
            session.execute(
                select(ZsBesluit).where(ZsBesluit.zaak_id == zaak.id).order_by(ZsBesluit.identificatie)
            ).scalars()
        )

    @staticmethod
    def _document_rows(session: Session, row: ZsBesluit) -> list[ZsBesluitDocument]:
        return list(
            session.execute(
                select(ZsBesluitDocument)
                .where(ZsBesluitDocument.besluit_id == row.id)
                .order_by(ZsBesluitDocument.document_identificatie)
            ).scalars()
        )

    def _besluit_element(self, session: Session, row: ZsBesluit, zaak: ZsZaak | None = None) -> etree._Element:
        """The whole BSL entity: attributes, the zaak (isUitkomstVan) and the documents (isVastgelegdIn)."""
        el = from_string(row.stuf_xml)
        if zaak is None and row.zaak_id is not None:
            zaak = session.get(ZsZaak, row.zaak_id)
        if zaak is not None:
            rel = make(ns.ZKN, "isUitkomstVan")
            rel.set(ENTITEITTYPE, "BSLZAK")
            ger = etree.SubElement(rel, ns.q(ns.ZKN, "gerelateerde"))
            ger.set(ENTITEITTYPE, "ZAK")
            etree.SubElement(ger, ns.q(ns.ZKN, "identificatie")).text = zaak.identificatie
            self.schema.insert(el, "BSL", rel)
        linked = self._document_rows(session, row)
        registered = {
            d.identificatie: d
            for d in session.execute(
                select(ZsDocument).where(ZsDocument.identificatie.in_([x.document_identificatie for x in linked]))
            ).scalars()
        }
        for d in linked:
            rel = _relation_as_sent(d)
            doc = registered.get(d.document_identificatie)
            if doc is not None and doc.stuf_xml:
                for sent in children(rel, "gerelateerde"):
                    rel.remove(sent)
                rel.insert(0, _gerelateerde(from_string(doc.stuf_xml), "EDC", _EDC_GERELATEERDE))
            self.schema.insert(el, "BSL", rel)
        return el

    def _save_besluit(self, session: Session, row: ZsBesluit, el: etree._Element,
                      documents: list[etree._Element], linked: set[str]) -> None:
        """Register the attributes in ``el`` and exactly the documents in ``documents``."""
        wanted: dict[str, etree._Element] = {}
        for rel in documents:
            doc = text(child(rel, "gerelateerde"), "identificatie")
            if not doc:
                raise StufError(
                    "StUF055", f"Een relatie isVastgelegdIn van besluit {row.identificatie} noemt geen document"
                )
            wanted.setdefault(doc, rel)
        new = [d for d in wanted if d not in linked]
        if new:
            known = set(
                session.execute(select(ZsDocument.identificatie).where(ZsDocument.identificatie.in_(new))).scalars()
            )
            missing = [d for d in new if d not in known]
            if missing:
                raise StufError(
                    "StUF064",
                    f"Document {missing[0]} niet gevonden",
                    f"besluit {row.identificatie} is vastgelegd in documenten die het zaaksysteem niet kent: "
                    + ", ".join(missing),
                    plek="client",
                )
        row.stuf_xml = to_string(el)
        row.besluittype = text(el, "bst.omschrijving")
        row.datum_beslissing = text(el, "datumBeslissing")
        row.updated_at = _now()
        session.execute(delete(ZsBesluitDocument).where(ZsBesluitDocument.besluit_id == row.id))
        for doc, rel in sorted(wanted.items()):
            session.add(ZsBesluitDocument(besluit_id=row.id, document_identificatie=doc, stuf_xml=to_string(rel)))
        session.flush()


def _registrable(entity: etree._Element) -> etree._Element:
    """A copy of a BSL entity as the zaaksysteem registers it (``ZKN:object``, no verwerkingssoort)."""
    el = strip_processing(clone(entity))
    el.tag = ns.q(ns.ZKN, "object")
    el.set(ENTITEITTYPE, "BSL")
    for rel in [c for c in children(el) if ns.local(c.tag) in _RELATIONS and is_nil(c)]:
        el.remove(rel)  # empty placeholders of added or removed relations
    return nil_with_novalue(el)


def _take(el: etree._Element, name: str) -> list[etree._Element]:
    found = children(el, name)
    for c in found:
        el.remove(c)
    return found


def _relation_as_sent(row: ZsBesluitDocument) -> etree._Element:
    if row.stuf_xml:
        return from_string(row.stuf_xml)
    rel = make(ns.ZKN, "isVastgelegdIn")
    rel.set(ENTITEITTYPE, "BSLEDC")
    ger = etree.SubElement(rel, ns.q(ns.ZKN, "gerelateerde"))
    ger.set(ENTITEITTYPE, "EDC")
    etree.SubElement(ger, ns.q(ns.ZKN, "identificatie")).text = row.document_identificatie
    return rel


def _gerelateerde(entity: etree._Element, entiteittype: str, names: tuple[str, ...]) -> etree._Element:
    """A gerelateerde holding the elements ``names`` of ``entity``, in that (schema) order."""
    ger = make(ns.ZKN, "gerelateerde")
    ger.set(ENTITEITTYPE, entiteittype)
    for name in names:
        for c in children(entity, name):
            ger.append(strip_processing(clone(c)))
    return ger
