"""voegBesluitToe (ZDS 1.2 §4.1.7): a vrij bericht (Di01) registers a besluit taken in a zaak.

``object/besluit`` is the besluit (verwerkingssoort T), optionally vastgelegd in documents
(``isVastgelegdIn``: relation T, the document by its kerngegevens with verwerkingssoort I or T);
``object/zaak`` names the zaak by its identificatie (I, or T as the STP sends it, which for an existing
object means I: R-KG-18). The sender always supplies a besluitidentificatie, its own or one from
genereerBesluitIdentificatie. identificatie, datumBeslissing and ingangsdatumWerking carry a real
value (R-NV-05). An unknown zaak or document gives StUF064 (R-ID-05), an identificatie in use StUF058;
on any fault nothing is stored (R-ZDS-08). Processed near real time, answered Bv03.

ZDS 1.1 clients send it as a StUF-ZKN kennisgeving, ``bslLk01`` with mutatiesoort T: one ``object``,
the besluit (verwerkingssoort T). StUF-ZKN 03.10 gives a besluit no relation to its zaak (the zaak has
it: ``leidtTot``), so the besluit is registered without a zaak and an updateZaak with ``leidtTot`` T
relates it; a target that needs the zaak up front (ZGW: the besluittype belongs to the zaaktype)
refuses it.
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf import ns
from broker.zds import kennisgeving, read
from broker.zds.request import ZdsAnswer, ZdsRequest
from broker.zds.xmlutil import VERWERKINGSSOORT, child, children, is_nil, text

#: what ZDS 1.2 demands a value for (schema: present, but nillable)
_VERPLICHT = ("identificatie", "datumBeslissing", "ingangsdatumWerking")


@service("voegBesluitToe")
def voeg_besluit_toe(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    besluit_el: etree._Element | None
    zaak_el: etree._Element | None
    if ns.local(req.body.tag) == "bslLk01":
        # StUF-ZKN's besluit kennisgeving has no relation to its zaak: the zaak relates the besluit
        # (updateZaak, leidtTot T), so the besluit is registered without one
        (besluit_el,) = kennisgeving.objects(req.body, "T", "BSL")
        zaak_el = None
    else:
        obj = child(req.body, "object")
        besluit_el, zaak_el = child(obj, "besluit"), child(obj, "zaak")
        if besluit_el is None or zaak_el is None:
            raise StufError("StUF055", "voegBesluitToe verwacht object/besluit en object/zaak")
        if zaak_el.get(VERWERKINGSSOORT) not in ("I", "T"):
            raise StufError(
                "StUF055",
                "De zaak in voegBesluitToe wordt alleen geïdentificeerd (verwerkingssoort I of T)",
                f"ontvangen: {zaak_el.get(VERWERKINGSSOORT) or '(leeg)'}",
            )
    if besluit_el.get(VERWERKINGSSOORT) != "T":
        raise StufError(
            "StUF055",
            "Het besluit in voegBesluitToe heeft verwerkingssoort T",
            f"ontvangen: {besluit_el.get(VERWERKINGSSOORT) or '(leeg)'}",
        )
    for name in _VERPLICHT:
        if not text(besluit_el, name):
            raise StufError("StUF055", f"Het besluit heeft geen {name}", "ZDS 1.2 §4.1.7: dit element heeft een waarde")
    for rel in children(besluit_el, "isVastgelegdIn"):
        if is_nil(rel):
            continue  # an empty relation adds nothing
        ger = child(rel, "gerelateerde")
        if rel.get(VERWERKINGSSOORT) != "T" or ger is None or ger.get(VERWERKINGSSOORT) not in ("I", "T"):
            raise StufError(
                "StUF055",
                "Een relatie isVastgelegdIn in voegBesluitToe heeft verwerkingssoort T en een document (I of T)",
                f"relatie {rel.get(VERWERKINGSSOORT) or '(leeg)'}, document "
                f"{ger.get(VERWERKINGSSOORT) if ger is not None else '(ontbreekt)'}",
            )
    besluit = read.besluit(besluit_el, zaak=zaak_el)
    target.voeg_besluit_toe(ctx, besluit)
    return ZdsAnswer.acknowledged(req, zaak_identificatie=besluit.zaak_identificatie, object_identificatie=besluit.identificatie)
