"""updateZaak (ZDS 1.2 §4.1.5): a zaakLk01 with mutatiesoort W, old and new object.

Real clients set a status with updateZaak too: the new object adds a ``heeft`` (T) for which the old
object holds an empty placeholder. The target adds it as actualiseerZaakstatus would; a status cannot
be changed or removed (the zaak's statussen are its history), so any other verwerkingssoort is refused.
"""

from __future__ import annotations

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.zds import kennisgeving, read
from broker.zds.request import ZdsAnswer, ZdsRequest
from broker.zds.xmlutil import VERWERKINGSSOORT, children


@service("updateZaak")
def update_zaak(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    oud_el, nieuw_el = kennisgeving.objects(req.body, "W", "ZAK")
    for heeft in children(oud_el, "heeft") + children(nieuw_el, "heeft"):
        if heeft.get(VERWERKINGSSOORT) not in ("T", "I", None):
            raise StufError(
                "StUF055",
                f"Een status kan alleen worden toegevoegd (heeft met verwerkingssoort T), niet met "
                f"verwerkingssoort {heeft.get(VERWERKINGSSOORT)}",
                "de statussen van een zaak zijn haar geschiedenis (ZDS 1.2 §4.1.3)",
            )
    oud, nieuw = read.zaak(oud_el), read.zaak(nieuw_el)
    target.update_zaak(ctx, oud, nieuw)
    return ZdsAnswer.acknowledged(req, zaak_identificatie=nieuw.identificatie or oud.identificatie)
