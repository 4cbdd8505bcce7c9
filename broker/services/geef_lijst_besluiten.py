"""geefLijstBesluiten (ZDS 1.2 §4.1.11): vraag/antwoord (zakLv01 → zakLa01) for the besluiten of a zaak.

The zaak is selected on ``gelijk/identificatie``; the answer is the zaak (its identificatie) with a
``leidtTot`` relation per besluit, sorted on the besluitidentificatie (the schema's "Sortering
antwoordbericht"), holding what ``scope`` asks for. A zaak without besluiten is answered with the zaak
alone, an unknown zaak with no object (StUF 03.01 §6.4.1). Whatever the scope, each besluit shows
identificatie, datumBeslissing and ingangsdatumWerking, which the answer type requires
(``GeefLijstBesluiten-BSL-gerelateerdeAntwoord``).
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.model import Besluit
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.services.geef_besluitdetails import entity, require, with_documents
from broker.stuf import ns
from broker.zds import kennisgeving, scope
from broker.zds.mutation import is_relation
from broker.zds.request import ZdsAnswer, ZdsRequest, la01
from broker.zds.xmlutil import ENTITEITTYPE, child, children, make, sub, text

_VERPLICHT = ("identificatie", "datumBeslissing", "ingangsdatumWerking")


@service("geefLijstBesluiten")
def geef_lijst_besluiten(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    gelijk, scope_obj = kennisgeving.vraag_parts(req.body)
    ident = text(gelijk, "identificatie")
    if not ident:
        raise StufError("StUF055", "geefLijstBesluiten vraagt gelijk/identificatie van de zaak")
    besluiten = target.geef_besluiten(ctx, ident)
    objects = []
    if besluiten is not None:
        for besluit in besluiten:
            with_documents(besluit, target, ctx, req)
        full = _zaak(ident, besluiten)
        answer = scope.apply(full, scope_obj, req.schema)
        require(answer, full, ("identificatie",), "ZAK", req.schema)
        for rel, full_rel in zip(children(answer, "leidtTot"), children(full, "leidtTot")):
            ger, full_ger = child(rel, "gerelateerde"), child(full_rel, "gerelateerde")
            if ger is not None and full_ger is not None:
                require(ger, full_ger, _VERPLICHT, "BSL", req.schema)
        objects.append(answer)
    return ZdsAnswer(la01(req, objects, "ZAK"), zaak_identificatie=ident)


def _zaak(identificatie: str, besluiten: list[Besluit]) -> etree._Element:
    """The zaak with a leidtTot per besluit; the gerelateerde is the besluit without its relations."""
    zaak = make(ns.ZKN, "object")
    zaak.set(ENTITEITTYPE, "ZAK")
    sub(zaak, ns.ZKN, "identificatie", identificatie)
    for besluit in sorted(besluiten, key=lambda b: b.identificatie or ""):
        rel = sub(zaak, ns.ZKN, "leidtTot")
        rel.set(ENTITEITTYPE, "ZAKBSL")
        ger = entity(besluit)
        ger.tag = ns.q(ns.ZKN, "gerelateerde")
        ger.set(ENTITEITTYPE, "BSL")
        for c in children(ger):
            if is_relation(c):
                ger.remove(c)
        rel.append(ger)
    return zaak
