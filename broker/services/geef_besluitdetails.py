"""geefBesluitdetails (ZDS 1.2 §4.1.10): vraag/antwoord (bslLv01 → bslLa01) on one besluit.

The besluit is selected on ``gelijk/identificatie``; the answer holds what ``scope`` asks for, a
named scope (``alles``, ``kerngegevens``, ...) or a list of elements (broker.zds.scope). An unknown
besluit is not an error: the answer then has no object (StUF 03.01 §6.4.1).

The answer type demands some elements whatever the scope says: identificatie, datumBeslissing,
ingangsdatumWerking, tijdvakGeldigheid and isUitkomstVan (``GeefBesluitdetails-BSL-antwoord``). They
are always answered; what the zaaksysteem does not know is nil with ``noValue="waardeOnbekend"``. A
besluit registered without tijdvakGeldigheid is valid since its datumBeslissing (R-TV-02: the begin
is the moment the object came into being).
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.model import Besluit
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf import ns
from broker.zds import kennisgeving, render, scope
from broker.zds.kern import SchemaModel
from broker.zds.request import ZdsAnswer, ZdsRequest, la01
from broker.zds.xmlutil import ENTITEITTYPE, NIL, NOVALUE, child, children, clone, make, sub, text

#: elements GeefBesluitdetails-BSL-antwoord requires
VERPLICHT = ("identificatie", "datumBeslissing", "ingangsdatumWerking", "tijdvakGeldigheid", "isUitkomstVan")
_RELATIES = {"isUitkomstVan": "BSLZAK", "isVastgelegdIn": "BSLEDC"}
_MODEL_FIELDS = (
    ("identificatie", "identificatie"),
    ("bst.omschrijving", "besluittype"),
    ("datumBeslissing", "datum_beslissing"),
    ("toelichting", "toelichting"),
    ("ingangsdatumWerking", "ingangsdatum"),
    ("einddatumWerking", "vervaldatum"),
)


@service("geefBesluitdetails")
def geef_besluitdetails(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    gelijk, scope_obj = kennisgeving.vraag_parts(req.body)
    ident = text(gelijk, "identificatie")
    if not ident:
        raise StufError("StUF055", "geefBesluitdetails vraagt gelijk/identificatie van het besluit")
    besluit = target.geef_besluit(ctx, ident)
    objects = []
    zaak_ident = None
    if besluit is not None:
        zaak_ident = besluit.zaak_identificatie
        with_documents(besluit, target, ctx, req)
        full = entity(besluit)
        answer = scope.apply(full, scope_obj, req.schema)
        answer.tag = ns.q(ns.ZKN, "object")
        require(answer, full, VERPLICHT, "BSL", req.schema)
        objects.append(answer)
    return ZdsAnswer(la01(req, objects, "BSL"), zaak_identificatie=zaak_ident, object_identificatie=ident)


def with_documents(besluit: Besluit, target: Zaaksysteem, ctx: Context, req: ZdsRequest) -> None:
    """A target without StUF (ZGW): the BSL entity built from the case model, each document it is
    vastgelegd in shown as the besluit's zaak has it registered (broker.zds.render)."""
    if besluit.stuf is not None:
        return
    known = {}
    if besluit.document_identificaties and besluit.zaak_identificatie:
        known = {d.identificatie: d for d in target.geef_zaakdocumenten(ctx, besluit.zaak_identificatie) or []}
    for ident in besluit.document_identificaties:
        if ident not in known:  # a document of another zaak (RGBZ allows it)
            doc = target.geef_document(ctx, ident)
            if doc is not None:
                known[ident] = doc
    render.ensure(besluit, req.schema, documenten=known)


def entity(besluit: Besluit) -> etree._Element:
    """The besluit as a BSL entity: the target's own StUF when it keeps it, else built from the model."""
    if besluit.stuf is not None:
        return clone(besluit.stuf)
    el = make(ns.ZKN, "object")
    el.set(ENTITEITTYPE, "BSL")
    for name, attr in _MODEL_FIELDS:
        value = getattr(besluit, attr)
        if value:
            sub(el, ns.ZKN, name, value)
    if besluit.zaak_identificatie:
        _relatie(el, "isUitkomstVan", "ZAK", besluit.zaak_identificatie)
    for doc in sorted(besluit.document_identificaties):
        _relatie(el, "isVastgelegdIn", "EDC", doc)
    return el


def _relatie(parent: etree._Element, name: str, gerelateerde: str, identificatie: str) -> None:
    rel = sub(parent, ns.ZKN, name)
    rel.set(ENTITEITTYPE, _RELATIES[name])
    ger = sub(rel, ns.ZKN, "gerelateerde")
    ger.set(ENTITEITTYPE, gerelateerde)
    sub(ger, ns.ZKN, "identificatie", identificatie)


def require(answer: etree._Element, full: etree._Element, names: tuple[str, ...], entiteittype: str,
            schema: SchemaModel) -> None:
    """Add to ``answer`` the elements of ``names`` that the answer type requires but the scope left out."""
    for name in names:
        present = child(answer, name)
        if present is not None and name == "tijdvakGeldigheid" and len(children(present)) < 2:
            answer.remove(present)  # begin and eind come together (StUF 03.01 Tabel 5.4)
            present = None
        if present is not None:
            continue
        known = children(full, name)
        for el in known or [_unknown(name, full)]:
            schema.insert(answer, entiteittype, clone(el))


def _unknown(name: str, full: etree._Element) -> etree._Element:
    """A required element the zaaksysteem has no value for."""
    if name == "tijdvakGeldigheid":
        el = make(ns.STUF, "tijdvakGeldigheid")
        begin = sub(el, ns.STUF, "beginGeldigheid", text(full, "datumBeslissing"))
        if begin.text is None:
            begin.set(NIL, "true")
            begin.set(NOVALUE, "waardeOnbekend")
        eind = sub(el, ns.STUF, "eindGeldigheid")
        eind.set(NIL, "true")
        eind.set(NOVALUE, "geenWaarde")
        return el
    el = make(ns.ZKN, name)
    if name in _RELATIES:
        el.set(ENTITEITTYPE, _RELATIES[name])
    el.set(NIL, "true")
    el.set(NOVALUE, "waardeOnbekend")
    return el
