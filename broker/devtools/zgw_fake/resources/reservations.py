"""Open Zaak's reservation endpoints: ``POST /zaaknummer_reserveren`` (Zaken) and
``POST /documentnummer_reserveren`` (Documenten).

Each hands out identificaties from the same sequence the fake uses when a zaak or document is
created without one, so a reserved number is never given to another object. Reservations are kept
(kind ``reserveringen``) for assertions.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .common import Call, Handler, Reply, check_rsins

KIND = "reserveringen"


def _reserve(call: Call, soort: str, field: str, fmt: str) -> Reply:
    body = dict(call.body or {})
    check_rsins(call, body, "bronorganisatie")
    aantal = int(body.get("aantal") or 1)
    values: list[dict[str, Any]] = []
    for _ in range(aantal):
        identificatie = fmt.format(jaar=date.today().year, nummer=call.store.next_number(soort))
        call.store.add(KIND, {"_uuid": identificatie, "soort": soort, "identificatie": identificatie,
                              "bronorganisatie": body["bronorganisatie"]})
        values.append({field: identificatie})
    return Reply(201, values[0] if aantal == 1 else values)


def zaaknummer(call: Call) -> Reply:
    return _reserve(call, "zaak", "zaaknummer", "ZAAK-{jaar}-{nummer:010d}")


def documentnummer(call: Call) -> Reply:
    return _reserve(call, "document", "identificatie", "DOCUMENT-{jaar}-{nummer:010d}")


ZAKEN_HANDLERS: dict[str, Handler] = {"zaaknummer_reserveren": zaaknummer}
DOCUMENTEN_HANDLERS: dict[str, Handler] = {"reserveddocument_create": documentnummer}
