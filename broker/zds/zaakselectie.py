"""The zaken of a person: a ZDS 1.1 ``zakLv01`` whose ``gelijk`` names no zaak but its initiator.

KCC tools and portals ask "which zaken does this citizen have". ZDS 1.2 has no such question (every
``gelijk`` of its Lv01 messages requires the zaak's identificatie); StUF-ZKN 03.10's ``zakLv01``, which
ZDS 1.1 clients send, allows a selection on the zaak's relations. What the broker answers:

- ``heeftAlsInitiator/gerelateerde`` (a BTR) with ``identificatie`` "11" followed by the BSN, the way
  ZDS 1.1 identifies a natural person as betrokkene. The schema does not allow a ``natuurlijkPersoon``
  there, so ``natuurlijkPersoon/inp.bsn`` is refused by the schema check (StUF055);
- optionally ``isVan/gerelateerde`` (``code`` and/or ``omschrijving``): the zaaktype;
- optionally ``heeft/gerelateerde`` (``code`` and/or ``omschrijving``): the zaak's current status.

Anything else in ``gelijk`` (another relation, an attribute, ``vanaf``/``totEnMet``, another kind of
betrokkene identificatie) is not answered: StUF058 saying which (plek server, the broker does not
support it). Parameters: ``maximumAantal`` (default 15), ``sortering`` (0 and 1: identificatie, 3:
zaaktype omschrijving, 4: omschrijving, 5: startdatum newest first then omschrijving; others StUF133)
and ``indicatorVervolgvraag`` with ``start/object/identificatie`` naming the last zaak received.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from broker.errors import StufError
from broker.model import Zaak
from broker.model.selectie import ZaakSelectie
from broker.stuf import ns
from broker.zds.xmlutil import child, children, is_nil, text

#: ZDS 1.1: a betrokkene's identificatie starts with its kind; 11 is a natural person (then the BSN)
NPS_PREFIX = "11"
_ALLOWED = {"heeftAlsInitiator", "isVan", "heeft"}


@dataclass
class Paging:
    maximum: int = 15
    sortering: int = 0
    #: the identificatie of the last zaak of the previous answer (a vervolgvraag's ``start``)
    start: str | None = None


def _key_date(z: Zaak) -> str:
    return z.startdatum or ""


def _desc(value: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in value)


SORTERINGEN = {
    0: lambda z: z.identificatie or "",
    1: lambda z: z.identificatie or "",
    3: lambda z: ((z.zaaktype.omschrijving if z.zaaktype else None) or "", z.identificatie or ""),
    4: lambda z: (z.omschrijving or "", z.identificatie or ""),
    5: lambda z: (_desc(_key_date(z)), z.omschrijving or "", z.identificatie or ""),
}


def is_person_question(gelijk: etree._Element | None) -> bool:
    """A gelijk that names no zaak but selects on its relations."""
    return gelijk is not None and not text(gelijk, "identificatie") and child(gelijk, "heeftAlsInitiator") is not None


def _unsupported(what: str) -> StufError:
    return StufError("StUF058", f"Een selectie op {what} wordt niet ondersteund",
                     "de zaken van een persoon worden gevraagd met gelijk/heeftAlsInitiator/gerelateerde/"
                     f"identificatie ({NPS_PREFIX} + BSN), eventueel met isVan (zaaktype) en heeft (status)",
                     plek="server")


def selectie(body: etree._Element) -> ZaakSelectie:
    gelijk = child(body, "gelijk")
    assert gelijk is not None
    for name in ("vanaf", "totEnMet"):
        if child(body, name) is not None:
            raise _unsupported(name)
    for c in children(gelijk):
        if ns.local(c.tag) not in _ALLOWED:
            raise _unsupported(ns.local(c.tag))
    initiator = child(gelijk, "heeftAlsInitiator")
    ger = child(initiator, "gerelateerde") if initiator is not None else None
    extra = [ns.local(c.tag) for c in children(initiator)] if initiator is not None else []
    if ger is None or is_nil(ger) or extra != ["gerelateerde"]:
        raise _unsupported("heeftAlsInitiator zonder alleen een gerelateerde")
    ident = text(ger, "identificatie") or ""
    other = [ns.local(c.tag) for c in children(ger) if ns.local(c.tag) != "identificatie"]
    if other:
        raise _unsupported(f"heeftAlsInitiator/gerelateerde/{other[0]}")
    bsn = ident[len(NPS_PREFIX):]
    if not ident.startswith(NPS_PREFIX) or not (bsn.isdigit() and len(bsn) == 9):
        raise _unsupported(f"een initiator die geen natuurlijk persoon met BSN is ({NPS_PREFIX} + 9 cijfers)")
    result = ZaakSelectie(initiator_bsn=bsn)
    isvan = child(child(gelijk, "isVan"), "gerelateerde")
    if child(gelijk, "isVan") is not None:
        result.zaaktype_code, result.zaaktype_omschrijving = text(isvan, "code"), text(isvan, "omschrijving")
        if not (result.zaaktype_code or result.zaaktype_omschrijving):
            raise _unsupported("isVan zonder code of omschrijving van het zaaktype")
    heeft = child(gelijk, "heeft")
    if heeft is not None:
        stt = child(heeft, "gerelateerde")
        result.status_code, result.status_omschrijving = text(stt, "code"), text(stt, "omschrijving")
        if not (result.status_code or result.status_omschrijving or text(heeft, "indicatieLaatsteStatus") == "J"):
            raise _unsupported("heeft zonder code of omschrijving van de status")
    return result


def paging(body: etree._Element) -> Paging:
    params = child(body, "parameters")
    sortering = int(text(params, "sortering") or "0")
    if sortering not in SORTERINGEN:
        raise StufError("StUF133", f"Sortering {sortering} wordt niet ondersteund",
                        "ondersteund: 0 en 1 (identificatie), 3 (zaaktype), 4 (omschrijving), 5 (startdatum, nieuwste "
                        "eerst)", plek="server")
    result = Paging(maximum=int(text(params, "maximumAantal") or "15"), sortering=sortering)
    if text(params, "indicatorVervolgvraag") in ("true", "1"):
        start = text(child(body, "start"), "object", "identificatie")
        if not start:
            raise StufError("StUF103", "Een vervolgvraag moet in start het laatst ontvangen object noemen",
                            "start/object/identificatie ontbreekt")
        result.start = start
    return result


def current_status_matches(z: Zaak, s: ZaakSelectie) -> bool:
    if not (s.status_code or s.status_omschrijving):
        return True
    if not z.statussen:
        return False
    last = next((st for st in z.statussen if st.indicatie_laatste_status == "J"), z.statussen[-1])
    return ((not s.status_code or last.code == s.status_code)
            and (not s.status_omschrijving or last.omschrijving == s.status_omschrijving))


def page(zaken: list[Zaak], p: Paging) -> tuple[list[Zaak], bool]:
    """The zaken of this answer, sorted; and whether more remain (``indicatorVervolgvraag``)."""
    ordered = sorted(zaken, key=SORTERINGEN[p.sortering])
    if p.start is not None:
        after = next((i for i, z in enumerate(ordered) if z.identificatie == p.start), None)
        ordered = ordered[after + 1:] if after is not None else []
    return ordered[: p.maximum], len(ordered) > p.maximum
