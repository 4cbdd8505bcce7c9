"""geefZaakdetails (ZDS 1.2 §4.1.2) and geefZaakstatus (§4.1.1): vraag/antwoord on one zaak.

The zaak is selected on ``gelijk/identificatie`` (R-ZDS-05); the answer holds what ``scope`` asks
for. An unknown zaak is not an error: the answer then has no object (StUF 03.01 §6.4.1).
geefZaakstatus answers the last status when ``gelijk/heeft/indicatieLaatsteStatus`` is J, all
statuses otherwise; a zaak without a status answers one nil ``heeft`` (ZDS 1.2 requires the element).

A target that keeps no StUF (ZGW) answers with the case model; the entity is then built from it
(broker.zds.render), with the zaak's documents and besluiten when the scope asks for them.

A ZDS 1.1 zakLv01 may instead ask for the zaken of a person (its initiator, optionally of a zaaktype
and with a current status): the answer then holds those zaken, sorted and paged
(broker.zds.zaakselectie).
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.model import Zaak
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf import ns
from broker.zds import kennisgeving, render, scope, zaakselectie
from broker.zds.request import ZdsAnswer, ZdsRequest, la01
from broker.zds.xmlutil import ENTITEITTYPE, NOVALUE, SCOPE, child, children, clone, text

#: relations a zaak shows that other services add (documents, besluiten)
_DERIVED = ("heeftRelevant", "leidtTot")


def _zaak_element(
    req: ZdsRequest, target: Zaaksysteem, ctx: Context
) -> tuple[str, etree._Element | None, etree._Element | None, etree._Element | None]:
    """(identificatie, the zaak's entity or None, gelijk, scope/object) of a geefZaakdetails/geefZaakstatus
    question. The entity is a new element, the caller's to change."""
    gelijk, scope_obj = kennisgeving.vraag_parts(req.body)
    ident = text(gelijk, "identificatie")
    if not ident:
        raise StufError("StUF055", f"{req.operation.name} vraagt gelijk/identificatie van de zaak")
    entity_of = getattr(target, "geef_zaak_entity", None)  # ports.StufZaken
    if entity_of is not None:
        return ident, entity_of(ctx, ident), gelijk, scope_obj
    zaak = target.geef_zaak(ctx, ident)
    if zaak is None:
        return ident, None, gelijk, scope_obj
    return ident, _entity(req, target, ctx, zaak, scope_obj), gelijk, scope_obj


def _entity(req: ZdsRequest, target: Zaaksysteem, ctx: Context, zaak: Zaak,
            scope_obj: etree._Element | None) -> etree._Element:
    if zaak.stuf is not None:
        return clone(zaak.stuf)
    ident = zaak.identificatie or ""
    wanted = _derived_wanted(scope_obj)
    return render.ensure(zaak, req.schema,
                         documenten=target.geef_zaakdocumenten(ctx, ident) if "heeftRelevant" in wanted else None,
                         besluiten=target.geef_besluiten(ctx, ident) if "leidtTot" in wanted else None)


def _zaken_van_persoon(req: ZdsRequest, target: Zaaksysteem, ctx: Context, only_last: bool) -> ZdsAnswer:
    """The zaken whose initiator is the person ``gelijk`` names (broker.zds.zaakselectie)."""
    selectie = zaakselectie.selectie(req.body)
    paging = zaakselectie.paging(req.body)
    _, scope_obj = kennisgeving.vraag_parts(req.body)
    zaken = [z for z in target.zoek_zaken(ctx, selectie) if zaakselectie.current_status_matches(z, selectie)]
    page, more = zaakselectie.page(zaken, paging)
    objects = []
    for z in page:
        full = _entity(req, target, ctx, z, scope_obj)
        if only_last:
            _only_last_status(full)
        objects.append(scope.apply(full, scope_obj, req.schema, owned=True))
    answer = la01(req, objects, "ZAK")
    if more:
        vervolg = answer.find(f"{{*}}parameters/{{{ns.STUF}}}indicatorVervolgvraag")
        if vervolg is not None:
            vervolg.text = "true"
    return ZdsAnswer(answer, zaak_identificatie=None)


def _only_last_status(full: etree._Element) -> None:
    for h in children(full, "heeft"):
        if text(h, "indicatieLaatsteStatus") != "J":
            full.remove(h)


def _derived_wanted(scope_obj: etree._Element | None) -> set[str]:
    """Which derived relations the scope asks for: all with a named scope (or none), else those listed."""
    if scope_obj is None or scope_obj.get(SCOPE) or not children(scope_obj):
        return set(_DERIVED)
    return {name for name in _DERIVED if child(scope_obj, name) is not None}


@service("geefZaakdetails")
def geef_zaakdetails(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    if zaakselectie.is_person_question(child(req.body, "gelijk")):
        return _zaken_van_persoon(req, target, ctx, only_last=False)
    ident, full, _, scope_obj = _zaak_element(req, target, ctx)
    objects = []
    if full is not None:
        objects.append(scope.apply(full, scope_obj, req.schema, owned=True))
    return ZdsAnswer(la01(req, objects, "ZAK"), zaak_identificatie=ident)


@service("geefZaakstatus")
def geef_zaakstatus(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    gelijk = child(req.body, "gelijk")
    if zaakselectie.is_person_question(gelijk):
        return _zaken_van_persoon(req, target, ctx,
                                  only_last=text(gelijk, "heeft", "indicatieLaatsteStatus") == "J")
    ident, full, gelijk, scope_obj = _zaak_element(req, target, ctx)
    objects = []
    if full is not None:
        if text(gelijk, "heeft", "indicatieLaatsteStatus") == "J":
            _only_last_status(full)
        obj = scope.apply(full, scope_obj, req.schema, owned=True)
        if req.resolved.dialect == "zds" and child(obj, "heeft") is None:
            obj.append(_geen_status())
        objects.append(obj)
    return ZdsAnswer(la01(req, objects, "ZAK"), zaak_identificatie=ident)


def _geen_status() -> etree._Element:
    """The ``heeft`` of a zaak that has no status yet: nil, "there is none" (the last element of the object)."""
    rel = etree.Element(ns.q(ns.ZKN, "heeft"))
    rel.set(ENTITEITTYPE, "ZAKSTT")
    rel.set(ns.q(ns.XSI, "nil"), "true")
    rel.set(NOVALUE, "geenWaarde")
    return rel
