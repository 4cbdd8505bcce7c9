"""actualiseerZaakstatus (ZDS 1.2 §4.1.3): a zaakLk01 (W) whose new object adds a status (``heeft``, T).

The statustype must exist in the zaaktypecatalogus (StUF064 otherwise, R-ZDS-06); the zaaksysteem
derives ``indicatieLaatsteStatus`` itself.
"""

from __future__ import annotations

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.zds import kennisgeving, read
from broker.zds.request import ZdsAnswer, ZdsRequest
from broker.zds.xmlutil import VERWERKINGSSOORT, child, children, is_nil


@service("actualiseerZaakstatus")
def actualiseer_zaakstatus(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    oud_el, nieuw_el = kennisgeving.objects(req.body, "W", "ZAK")
    nieuwe = [
        h for h in children(nieuw_el, "heeft")
        if h.get(VERWERKINGSSOORT) == "T" and not is_nil(h) and child(h, "gerelateerde") is not None
    ]
    if len(nieuwe) != 1:
        raise StufError(
            "StUF055",
            "actualiseerZaakstatus verwacht in het nieuwe object precies één nieuwe status (heeft, verwerkingssoort T)",
            f"gevonden: {len(nieuwe)}",
        )
    oud, nieuw = read.zaak(oud_el), read.zaak(nieuw_el)
    status = read.status(nieuwe[0])
    target.actualiseer_zaakstatus(ctx, oud, nieuw, status)
    return ZdsAnswer.acknowledged(req, zaak_identificatie=nieuw.identificatie or oud.identificatie)
