"""Dates and moments that exist: the check the XSD cannot make.

StUF 03.01 types a date as ``StUF:Datum`` (a decimal of at most 8 digits) and a moment as
``StUF:Tijdstip`` (8 to 17 digits), so the schema accepts 20261332, 20230230 or 99999999. This module
reads, once, which elements of the installed schemas carry a date or a moment (following each type
to ``StUF:Datum`` or ``StUF:Tijdstip`` through its restrictions and extensions), and then checks the
values of a message: JJJJMMDD for a date, JJJJMMDDuummss plus up to three digits of a second for a
moment, honouring ``StUF:indOnvolledigeDatum`` (D: the day is unknown and written 00; M: month and
day; J: the whole date, 00000000).

An element name that the schemas use for a date in one place and for something else in another is
left to the schema alone.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from broker.stuf import ns, xsd_cache

DATUM, TIJDSTIP = "datum", "tijdstip"
#: the StUF 03.01 base types and what they hold
_BASES = {"Datum": DATUM, "Tijdstip": TIJDSTIP}
#: the schema folders whose messages the broker reads
_FOLDERS = ("0301", "zkn0310", "zds0120", "bg0310", "variants/stuf-zkn-0310-patch28")
_NAMESPACES = (ns.ZKN, ns.ZDS, ns.BG, ns.STUF)
_IND = f"{{{ns.STUF}}}indOnvolledigeDatum"
FORMATS = {DATUM: "JJJJMMDD, bijvoorbeeld 20261206",
           TIJDSTIP: "JJJJMMDDuummss, eventueel met duizendsten, bijvoorbeeld 20261206143000"}


@dataclass(frozen=True)
class DateProblem:
    element: etree._Element
    message: str


def _base_of(type_el: etree._Element) -> str | None:
    """The local name of the type a named or anonymous type restricts or extends."""
    for tag in ("restriction", "extension"):
        for found in type_el.iter(ns.q(ns.XS, tag)):
            base = found.get("base")
            if base:
                return base.rpartition(":")[2]
    return None


@lru_cache(maxsize=4)
def _date_elements(xsd_dir: str) -> dict[str, str]:
    """Element local name -> DATUM or TIJDSTIP, for names the schemas use only for dates or moments."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    bases: dict[str, str | None] = {}
    elements: list[tuple[str, str | None, str | None]] = []  # (name, type, anonymous base)
    for folder in _FOLDERS:
        for path in sorted((Path(xsd_dir) / folder).rglob("*.xsd")):
            root = etree.parse(str(path), parser).getroot()
            for kind in ("simpleType", "complexType"):
                for t in root.iter(ns.q(ns.XS, kind)):
                    if type_name := t.get("name"):
                        bases.setdefault(type_name, _base_of(t))
            for el in root.iter(ns.q(ns.XS, "element")):
                name = el.get("name")
                if not name:
                    continue
                type_ref = el.get("type")
                anonymous = next(iter(el.iterchildren(ns.q(ns.XS, "complexType"), ns.q(ns.XS, "simpleType"))), None)
                elements.append((name, type_ref.rpartition(":")[2] if type_ref else None,
                                 _base_of(anonymous) if anonymous is not None else None))

    def kind_of(type_name: str | None) -> str | None:
        seen: set[str] = set()
        while type_name and type_name not in seen:
            if type_name in _BASES:
                return _BASES[type_name]
            seen.add(type_name)
            type_name = bases.get(type_name)
        return None

    kinds: dict[str, set[str | None]] = {}
    for name, type_name, anonymous_base in elements:
        if type_name is None and anonymous_base is None:
            continue  # a reference or a structure without a simple value
        kinds.setdefault(name, set()).add(kind_of(type_name) or kind_of(anonymous_base))
    return {name: next(iter(found)) for name, found in kinds.items()  # type: ignore[misc]
            if len(found) == 1 and None not in found}


#: every MMDD of a leap year; 0229 needs a leap year besides
_MMDD = frozenset(f"{m:02d}{d:02d}" for m in range(1, 13) for d in range(1, calendar.monthrange(2024, m)[1] + 1))


def date_problem(value: str, indicator: str = "V") -> str | None:
    """Why an 8-digit StUF date cannot be, or None; ``indicator`` is its indOnvolledigeDatum."""
    if len(value) != 8 or not value.isdigit():
        return "is geen datum"
    if indicator == "J":
        return None if value == "00000000" else "moet 00000000 zijn bij indOnvolledigeDatum J"
    if value[:4] == "0000":
        return "heeft jaar 0000"
    mmdd = value[4:]
    if indicator == "M":
        return None if mmdd == "0000" else "moet maand en dag 00 hebben bij indOnvolledigeDatum M"
    if indicator == "D":
        if mmdd[2:] != "00":
            return "moet dag 00 hebben bij indOnvolledigeDatum D"
        return None if "01" <= mmdd[:2] <= "12" else "heeft een maand die niet bestaat"
    if mmdd not in _MMDD or (mmdd == "0229" and not calendar.isleap(int(value[:4]))):
        return "is een datum die niet bestaat"
    return None


def moment_problem(value: str, indicator: str = "V") -> str | None:
    """Why a StUF moment (8 to 17 digits) cannot be, or None."""
    if not 8 <= len(value) <= 17 or not value.isdigit():
        return "is geen tijdstip"
    why = date_problem(value[:8], indicator)
    if why:
        return why
    time = value[8:14]
    if len(time) % 2:
        return "heeft een onvolledige tijd"
    if time[:2] > "23" or time[2:4] > "59" or time[4:6] > "59":
        return "heeft een tijd die niet bestaat"
    return None


def date_elements(xsd_dir: Path, manifest: Path | None = None) -> dict[str, str]:
    """The date and moment elements, from the installed set's cache file when it holds them for
    ``manifest`` (broker.stuf.xsd_cache), else read from the schemas (and then kept in that file)."""
    if manifest is None:
        return _date_elements(str(xsd_dir))
    cached = xsd_cache.read(xsd_dir, manifest).get("dates")
    if isinstance(cached, dict):
        return cached
    kinds = _date_elements(str(xsd_dir))
    xsd_cache.update(xsd_dir, manifest, dates=kinds)
    return kinds


class DateChecks:
    """The date and moment elements of the installed schemas, and the check of a message's values."""

    def __init__(self, xsd_dir: Path, manifest: Path | None = None) -> None:
        self.kinds = date_elements(xsd_dir, manifest)
        self._by_tag = {f"{{{namespace}}}{name}": kind for namespace in _NAMESPACES
                        for name, kind in self.kinds.items()}
        # lxml's iteration filters on local names in C (a name compare per element and name), so only
        # the date elements become Python objects; the namespace is then checked with ``_by_tag``
        self._names = tuple(f"{{*}}{name}" for name in sorted(self.kinds))
        #: what was found of a (kind, value, indicator) before: a message repeats its dates, and
        #: messages repeat today's (bounded; cleared when full)
        self._seen: dict[tuple[str, str, str], str | None] = {}

    def problems(self, message: etree._Element) -> list[DateProblem]:
        found: list[DateProblem] = []
        if not self._names:
            return found
        by_tag, seen = self._by_tag, self._seen
        for el in message.iter(*self._names):
            value = el.text
            if not value:
                continue
            kind = by_tag.get(el.tag)  # type: ignore[arg-type]  # a str: the filter names elements
            if kind is None:
                continue
            key = (kind, value, el.get(_IND, "V"))
            why = seen.get(key, _UNSEEN)
            if why is _UNSEEN:
                stripped, indicator = value.strip(), key[2]
                why = date_problem(stripped, indicator) if kind == DATUM else moment_problem(stripped, indicator)
                if len(value) <= 40:  # a date's or a moment's length, with some white space
                    if len(seen) >= _SEEN_MAX:
                        seen.clear()
                    seen[key] = why
            if why:
                found.append(DateProblem(el, f"'{value.strip()}' in {ns.local(el.tag)} {why}; "
                                             f"verwacht {FORMATS[kind]}"))
        return found


_UNSEEN = "(not seen)"  # never a date_problem or moment_problem result
_SEEN_MAX = 4096


__all__ = ["DateChecks", "date_elements", "DateProblem", "date_problem", "moment_problem", "FORMATS", "DATUM", "TIJDSTIP"]
