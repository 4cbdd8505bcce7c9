"""genereerZaakIdentificatie, genereerDocumentIdentificatie, genereerBesluitIdentificatie.

ZDS 1.2 §4.1.6, §4.3.7 and §4.1.9: a Di02 asks for a new identificatie, the Du02 holds exactly one,
with the same ``functie`` stuurgegeven (R-ZDS-07).
"""

from __future__ import annotations

from lxml import etree

from broker.adapters.abc import Context, Zaaksysteem
from broker.stuf import ns
from broker.zds.request import ZdsAnswer, ZdsRequest, du02
from broker.zds.services import service
from broker.zds.xmlutil import ENTITEITTYPE, FUNCTIE

_PARTS = {
    "genereerZaakIdentificatie": ("zaak", "ZAK", "zaak"),
    "genereerDocumentIdentificatie": ("document", "EDC", "document"),
    "genereerBesluitIdentificatie": ("besluit", "BSL", "besluit"),
}


def _handle(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    soort, entiteittype, part = _PARTS[req.operation.name]
    identificatie = target.genereer_identificatie(ctx, soort)
    obj = etree.Element(ns.q(ns.ZDS, part), nsmap=ns.NSMAP)
    obj.set(FUNCTIE, "entiteit")
    obj.set(ENTITEITTYPE, entiteittype)
    etree.SubElement(obj, ns.q(ns.ZKN, "identificatie")).text = identificatie
    answer = du02(req, req.operation.functie, [(part, obj)])
    return ZdsAnswer(
        answer,
        zaak_identificatie=identificatie if soort == "zaak" else None,
        object_identificatie=identificatie,
        case_model={"soort": soort, "identificatie": identificatie},
    )


for _name in _PARTS:
    service(_name)(_handle)
