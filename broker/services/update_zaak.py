"""updateZaak (ZDS 1.2 §4.1.5): a zaakLk01 with mutatiesoort W, old and new object."""

from __future__ import annotations

from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf.berichten import bv03
from broker.zds import kennisgeving, read
from broker.zds.request import ZdsAnswer, ZdsRequest


@service("updateZaak")
def update_zaak(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    oud_el, nieuw_el = kennisgeving.objects(req.body, "W", "ZAK")
    oud, nieuw = read.zaak(oud_el), read.zaak(nieuw_el)
    target.update_zaak(ctx, oud, nieuw)
    return ZdsAnswer(
        bv03(req.stuurgegevens, req.own),
        zaak_identificatie=nieuw.identificatie or oud.identificatie
    )
