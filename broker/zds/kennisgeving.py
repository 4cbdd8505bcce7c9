"""Checks every kennisgeving must pass before a service reads it (StUF 03.01 §5, Tabel 5.2/5.3).

- mutatiesoort as the ZDS service prescribes (creeerZaak T, updateZaak W, ...; R-ZDS-02);
- one ``object`` for T and V, two (old, new) for W, C and F (STV0000018);
- the object's verwerkingssoort fits the mutatiesoort (Tabel 5.3, STV0000049);
- the object's entiteittype equals the stuurgegeven.
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.zds.xmlutil import ENTITEITTYPE, VERWERKINGSSOORT, child, children, text

_ALLOWED_VERWERKING = {"T": {"T"}, "W": {"W", "I"}, "C": {"W", "S", "O", "I"}, "F": {"W", "I"}, "V": {"V"}}


def objects(body: etree._Element, mutatiesoort: str, entiteittype: str | None) -> list[etree._Element]:
    got = text(body, "parameters", "mutatiesoort")
    if got != mutatiesoort:
        raise StufError(
            "StUF055",
            f"mutatiesoort {got or '(leeg)'} past niet bij deze service; verwacht {mutatiesoort}",
        )
    objs = children(body, "object")
    expected = 1 if mutatiesoort in ("T", "V") else 2
    if len(objs) != expected:
        raise StufError(
            "StUF055",
            f"Een kennisgeving met mutatiesoort {mutatiesoort} heeft {expected} object(en); ontvangen: {len(objs)}",
        )
    allowed = _ALLOWED_VERWERKING[mutatiesoort]
    for o in objs:
        vs = o.get(VERWERKINGSSOORT)
        if vs not in allowed:
            raise StufError(
                "StUF055",
                f"verwerkingssoort {vs or '(leeg)'} van het object past niet bij mutatiesoort {mutatiesoort}",
            )
        if entiteittype and o.get(ENTITEITTYPE) != entiteittype:
            raise StufError("StUF055", f"Het object heeft niet het entiteittype {entiteittype}")
    if expected == 2:
        a, b = text(objs[0], "identificatie"), text(objs[1], "identificatie")
        if a and b and a != b:
            raise StufError("StUF055", "Het oude en het nieuwe object hebben een verschillende identificatie")
    return objs


def vraag_parts(body: etree._Element) -> tuple[etree._Element | None, etree._Element | None]:
    """(gelijk, scope/object) of a vraagbericht."""
    return child(body, "gelijk"), child(child(body, "scope"), "object")
