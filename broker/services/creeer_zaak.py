"""creeerZaak (ZDS 1.2 §4.1.4): a zaakLk01 with mutatiesoort T registers a new zaak.

The ZS checks that the identificatie is unique and RGBZ-valid (at most 40 characters, starting with
the gemeentecode of the responsible gemeente) and that the zaaktype is in its catalogus.
"""

from __future__ import annotations

from broker.errors import StufError
from broker.model import Zaak
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.zds import kennisgeving, read
from broker.zds.request import ZdsAnswer, ZdsRequest


def _zaak_of(req: ZdsRequest) -> Zaak:
    """The new zaak, read from the request and checked."""
    (obj,) = kennisgeving.objects(req.body, "T", "ZAK")
    zaak = read.zaak(obj)
    ident = zaak.identificatie or ""
    if not ident:
        raise StufError("StUF055", "De zaak heeft geen identificatie")
    if req.settings.checks.identificatie_prefix and not ident.startswith(req.settings.gemeentecode):
        raise StufError(
            "StUF055",
            f"Zaakidentificatie {ident} begint niet met gemeentecode {req.settings.gemeentecode}",
            "RGBZ: de eerste vier posities van een zaakidentificatie zijn de gemeentecode",
        )
    return zaak


def _prepare(req: ZdsRequest, target: Zaaksysteem) -> None:
    """Before the target's transaction: the zaak read from the request, and what the target writes
    for it when it can make that beforehand (ports.PreparedZaken). An error waits for the handler."""
    try:
        zaak = _zaak_of(req)
    except StufError:
        return
    req.prepared["zaak"] = zaak
    prepare_write = getattr(target, "prepare_creeer_zaak", None)
    if prepare_write is not None:
        key, made = prepare_write(zaak)
        req.prepared[key] = made


@service("creeerZaak", prepare=_prepare)
def creeer_zaak(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    zaak = req.prepared.get("zaak")
    if not isinstance(zaak, Zaak):
        zaak = _zaak_of(req)
    target.creeer_zaak(ctx, zaak)
    return ZdsAnswer.acknowledged(req, zaak_identificatie=zaak.identificatie)
