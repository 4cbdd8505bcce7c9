"""The internal case model of a stored request, for operators (dashboard, `mappings preview`).

Computed from the StUF message when someone looks, not on the message's own path: reading a large
zaak into the model costs more than storing the message.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from broker.zds import read
from broker.zds.xmlutil import child, children, text


def describe(operation: str | None, body: etree._Element) -> dict[str, Any]:
    objects = children(body, "object")
    if operation in ("creeerZaak",):
        return {"zaak": read.zaak(objects[0]).to_dict()} if objects else {}
    if operation in ("updateZaak", "actualiseerZaakstatus") and len(objects) == 2:
        model = {"oud": read.zaak(objects[0]).to_dict(), "nieuw": read.zaak(objects[1]).to_dict()}
        nieuwe = [h for h in children(objects[1], "heeft") if child(h, "gerelateerde") is not None]
        if operation == "actualiseerZaakstatus" and nieuwe:
            model["status"] = read.status(nieuwe[0]).to_dict()
        return model
    if operation in ("voegZaakdocumentToe", "maakZaakdocument") and objects:
        return {"document": read.document(objects[0]).to_dict()}
    if operation in ("updateZaakdocument", "ontkoppelZaakdocument"):
        pair = children(child(body, "edcLk02"), "object")
        return {f"document_{k}": read.document(o).to_dict() for k, o in zip(("oud", "nieuw"), pair)}
    if operation == "voegBesluitToe" and objects:
        besluit = child(objects[0], "besluit")
        return {"besluit": read.besluit(besluit if besluit is not None else objects[0]).to_dict(),
                "zaak": text(objects[0], "zaak", "identificatie")}
    if operation == "updateBesluit" and len(objects) == 2:
        return {"oud": read.besluit(objects[0]).to_dict(), "nieuw": read.besluit(objects[1]).to_dict()}
    gelijk = child(body, "gelijk")
    if gelijk is not None:
        return {"vraag": operation, "identificatie": text(gelijk, "identificatie")}
    for part in ("edcLv01", "document"):
        el = child(body, part)
        if el is not None:
            return {"document": text(el, "identificatie") or text(el, "gelijk", "identificatie")}
    return {"operation": operation}
