"""Vraagberichten: gelijk, vanaf, totEnMet, start, sortering (StUF 03.01 §6.3, Tabel 6.x).

R-NV-06 first: a criterion that carries a noValue the question means to ignore (waardeOnbekend,
nietGeautoriseerd, nietOndersteund; in vanaf/totEnMet also vastgesteldOnbekend) is taken out of the
selection, so no service reads it as a value. Then the rules (docs/stuf-rules.md, group F): R-VA-03 StUF076, R-VA-04 StUF079, R-VA-05 StUF082, R-VA-06
StUF085, R-VA-07 StUF088/091/094, R-VA-08 StUF097 (a scope names what it wants either by the
StUF:scope attribute or by elements), R-VA-09 StUF103/106, R-VA-10 StUF133. The selection parts are
small; each is read once into the set of its element paths.
"""

from __future__ import annotations

from lxml import etree

from broker.intake.rules.base import Tolerated, refuse, value
from broker.stuf import ns
from broker.zds.tolerances import SORTERING_UNSUPPORTED
from broker.zds.xmlutil import SCOPE, SLEUTEL_ONTVANGEND, SLEUTEL_VERZENDEND

EXACT = ns.q(ns.STUF, "exact")
NOVALUE = ns.q(ns.STUF, "noValue")
_IGNORED_IN_GELIJK = frozenset({"waardeOnbekend", "nietGeautoriseerd", "nietOndersteund"})
_IGNORED_IN_RANGE = _IGNORED_IN_GELIJK | {"vastgesteldOnbekend"}
ONVOLLEDIG = ns.q(ns.STUF, "indOnvolledigeDatum")
_KEYS = (SLEUTEL_VERZENDEND, SLEUTEL_ONTVANGEND)
#: operations that answer one object found by its identificatie: the broker applies no sortering there
SINGLE_OBJECT = frozenset({"geefZaakstatus", "geefLijstZaakdocumenten", "geefLijstBesluiten",
                           "geefBesluitdetails", "geefZaakdocumentLezen"})


def _paths(el: etree._Element | None) -> set[str]:
    """The paths (local names) of the leaf elements under a selection part."""
    if el is None:
        return set()
    out = set()
    stack: list[tuple[etree._Element, str]] = [(c, ns.local(c.tag)) for c in el if isinstance(c.tag, str)]
    while stack:
        node, path = stack.pop()
        kids = [c for c in node if isinstance(c.tag, str)]
        if not kids:
            out.add(path)
        stack.extend((c, f"{path}/{ns.local(c.tag)}") for c in kids)
    return out


def _drop_ignored(part: etree._Element | None, ignored: frozenset[str]) -> None:
    """R-NV-06: leave out the criteria whose noValue says there is nothing to select on."""
    if part is None:
        return
    for el in [e for e in part.iter() if isinstance(e.tag, str) and e.get(NOVALUE) in ignored and e is not part]:
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)


def check(body: etree._Element, operation: str, tolerated: Tolerated) -> None:
    gelijk, vanaf, totenmet, start = (body.find("{*}" + n) for n in ("gelijk", "vanaf", "totEnMet", "start"))
    _drop_ignored(gelijk, _IGNORED_IN_GELIJK)
    _drop_ignored(vanaf, _IGNORED_IN_RANGE)
    _drop_ignored(totenmet, _IGNORED_IN_RANGE)
    p_vanaf, p_tot = _paths(vanaf), _paths(totenmet)
    if vanaf is not None and totenmet is not None and p_vanaf != p_tot:
        raise refuse("StUF076", "R-VA-03", "vanaf en totEnMet bevatten niet dezelfde elementen",
                     ", ".join(sorted(p_vanaf ^ p_tot)))
    range_paths = p_vanaf | p_tot
    both = _paths(gelijk) & range_paths
    if both:
        raise refuse("StUF079", "R-VA-04", "Een element staat zowel in gelijk als in vanaf of totEnMet",
                     ", ".join(sorted(both)))
    for part in (vanaf, totenmet):
        if part is None:
            continue
        for el in part.iter():
            if not isinstance(el.tag, str):
                continue
            if EXACT in el.attrib:
                raise refuse("StUF082", "R-VA-05", "StUF:exact mag niet in vanaf of totEnMet", ns.local(el.tag))
            if el.get(ONVOLLEDIG, "V") != "V":
                raise refuse("StUF085", "R-VA-06", "Een onvolledige datum mag niet in vanaf of totEnMet",
                             ns.local(el.tag))
    if gelijk is not None:
        _keys(gelijk)
    scope_obj = body.find("{*}scope/{*}object")
    if scope_obj is not None and scope_obj.get(SCOPE) and any(isinstance(c.tag, str) for c in scope_obj):
        raise refuse("StUF097", "R-VA-08", "scope heeft zowel een StUF:scope-attribuut als een lijst van elementen",
                     f"StUF:scope=\"{scope_obj.get(SCOPE)}\"")
    params = body.find("{*}parameters")
    if params is not None and (value(params.find("{*}indicatorVervolgvraag")) or "").lower() in ("true", "1"):
        if start is None:
            raise refuse("StUF103", "R-VA-09", "Een vervolgvraag (indicatorVervolgvraag true) heeft een start")
        # start holds the object to continue from (ZKN: start/object), or its elements directly
        start_obj = start.find("{*}object")
        missing = range_paths - _paths(start_obj if start_obj is not None else start)
        if missing:
            raise refuse("StUF106", "R-VA-09", "start bevat niet alle elementen uit vanaf en totEnMet",
                         ", ".join(sorted(missing)))
    sortering = value(params.find("{*}sortering")) if params is not None else None
    if sortering and sortering.strip("0") and operation in SINGLE_OBJECT \
            and not tolerated.allows(SORTERING_UNSUPPORTED):
        raise refuse("StUF133", "R-VA-10", f"Sortering {sortering} wordt voor {operation} niet ondersteund",
                     "deze vraag wordt met één object beantwoord; gebruik sortering 0")


def _keys(gelijk: etree._Element) -> None:
    """R-VA-07: a selection on a key names one key and nothing else; the broker selects on none."""
    keyed = [(el, k) for el in gelijk.iter() if isinstance(el.tag, str) for k in _KEYS if el.get(k)]
    if not keyed:
        return
    if len(keyed) > 1:
        raise refuse("StUF088", "R-VA-07", "Meer dan één sleutel in de selectie")
    holder = keyed[0][0]
    others = [el for el in gelijk.iter() if isinstance(el.tag, str) and el is not gelijk and el is not holder
              and holder not in el.iterancestors() and el not in holder.iterancestors()
              and not len(el) and value(el) is not None]
    own = [el for el in holder.iter() if el is not holder and isinstance(el.tag, str) and not len(el)
           and value(el) is not None]
    if others or own:
        raise refuse("StUF091", "R-VA-07", "Naast een sleutel zijn andere selectiecriteria opgegeven")
    raise refuse("StUF094", "R-VA-07", "Selectie op een sleutel wordt niet ondersteund",
                 "de broker selecteert op identificatie; vraag met gelijk/identificatie")
