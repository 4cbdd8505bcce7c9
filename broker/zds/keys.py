"""What a message is about: its zaak identificatie and zaaktype, read from the body.

Used for routing (per zaaktype), for per-zaak ordering of deliveries, and for the message log.
"""

from __future__ import annotations

from lxml import etree

from broker.zds.xmlutil import child, children, text


def zaak_identificatie(operation: str, body: etree._Element) -> str | None:
    objects = children(body, "object")
    obj = objects[-1] if objects else None
    if operation in ("creeerZaak", "updateZaak", "actualiseerZaakstatus"):
        return text(obj, "identificatie")
    if operation in ("geefZaakdetails", "geefZaakstatus", "geefLijstZaakdocumenten", "geefLijstBesluiten"):
        return text(body, "gelijk", "identificatie")
    if operation in ("voegZaakdocumentToe", "maakZaakdocument"):
        return text(obj, "isRelevantVoor", "gerelateerde", "identificatie")
    if operation == "voegBesluitToe":
        return text(obj, "zaak", "identificatie")
    if operation in ("updateZaakdocument", "ontkoppelZaakdocument"):
        lk = child(body, "edcLk02")
        objs = children(lk, "object")
        return text(objs[-1] if objs else None, "isRelevantVoor", "gerelateerde", "identificatie")
    if operation == "updateBesluit":
        return text(obj, "isUitkomstVan", "gerelateerde", "identificatie")
    return None


def object_identificatie(operation: str, body: etree._Element) -> str | None:
    """The identificatie of the object the message is about (document, besluit, zaak)."""
    objects = children(body, "object")
    obj = objects[-1] if objects else None
    if obj is not None:
        besluit = child(obj, "besluit")
        return text(besluit if besluit is not None else obj, "identificatie")
    for part in ("edcLk02", "edcLv01", "document"):
        el = child(body, part)
        if el is not None:
            objs = children(el, "object")
            return text(objs[-1], "identificatie") if objs else text(el, "identificatie") or text(el, "gelijk", "identificatie")
    return text(body, "gelijk", "identificatie")


def zaaktype_code(body: etree._Element) -> str | None:
    objects = children(body, "object")
    obj = objects[-1] if objects else None
    return text(obj, "isVan", "gerelateerde", "code")
