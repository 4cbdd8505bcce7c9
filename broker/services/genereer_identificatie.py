"""genereerZaakIdentificatie, genereerDocumentIdentificatie, genereerBesluitIdentificatie.

ZDS 1.2 §4.1.6, §4.3.7 and §4.1.9: a Di02 asks for a new identificatie, the Du02 holds exactly one,
with the same ``functie`` stuurgegeven (R-ZDS-07). The identificatie is handed out once and is unique
(R-ID-01); since a sender may also choose its own (ZDS 1.2 §4.1.4, §4.1.7, §4.3.4), a generated value
that a zaak, document or besluit already carries is skipped.
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf import ns
from broker.zds.request import ZdsAnswer, ZdsRequest, du02
from broker.zds.xmlutil import ENTITEITTYPE, FUNCTIE

_PARTS = {
    "genereerZaakIdentificatie": ("zaak", "ZAK", "zaak"),
    "genereerDocumentIdentificatie": ("document", "EDC", "document"),
    "genereerBesluitIdentificatie": ("besluit", "BSL", "besluit"),
}


#: how to see that an identificatie is in use already
_IN_USE = {"zaak": "geef_zaak", "document": "geef_document", "besluit": "geef_besluit"}
_ATTEMPTS = 20


def _handle(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    soort, entiteittype, part = _PARTS[req.operation.name]
    identificatie = _new_identificatie(target, ctx, soort)
    obj = etree.Element(ns.q(ns.ZDS, part), nsmap=ns.NSMAP)
    obj.set(FUNCTIE, "entiteit")
    obj.set(ENTITEITTYPE, entiteittype)
    etree.SubElement(obj, ns.q(ns.ZKN, "identificatie")).text = identificatie
    answer = du02(req, req.operation.functie, [(part, obj)])
    return ZdsAnswer(
        answer,
        zaak_identificatie=identificatie if soort == "zaak" else None,
        object_identificatie=identificatie
    )


def _new_identificatie(target: Zaaksysteem, ctx: Context, soort: str) -> str:
    in_use = getattr(target, _IN_USE[soort])
    for _ in range(_ATTEMPTS):
        identificatie = target.genereer_identificatie(ctx, soort)
        if in_use(ctx, identificatie) is None:
            return identificatie
    raise StufError(
        "StUF058",
        f"Er kon geen vrije {soort}identificatie worden gegenereerd",
        f"de laatste {_ATTEMPTS} gegenereerde identificaties zijn al in gebruik",
    )


for _name in _PARTS:
    service(_name)(_handle)
