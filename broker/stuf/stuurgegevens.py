"""Stuurgegevens (StUF 03.01 §4.1-4.3): reading them from any message, writing them into answers."""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from dataclasses import dataclass, replace

from lxml import etree

from broker.stuf import ns

SYSTEEM_FIELDS = ("organisatie", "applicatie", "administratie", "gebruiker")


@dataclass(frozen=True)
class Systeem:
    organisatie: str | None = None
    applicatie: str | None = None
    administratie: str | None = None
    gebruiker: str | None = None

    @property
    def key(self) -> str:
        """The (organisatie, applicatie, administratie) that identifies a sending system (§4.2)."""
        return "|".join(v or "" for v in (self.organisatie, self.applicatie, self.administratie))

    def label(self) -> str:
        return "/".join(v for v in (self.organisatie, self.applicatie, self.administratie) if v) or "?"


@dataclass(frozen=True)
class Stuurgegevens:
    berichtcode: str | None = None
    zender: Systeem | None = None
    ontvanger: Systeem | None = None
    referentienummer: str | None = None
    tijdstipBericht: str | None = None
    crossRefnummer: str | None = None
    entiteittype: str | None = None
    functie: str | None = None


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    value = (el.text or "").strip()
    return value or None


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    for c in parent:
        if ns.local(c.tag) == name:
            return c
    return None


def _systeem(el: etree._Element | None) -> Systeem | None:
    if el is None:
        return None
    children = _children(el)
    return Systeem(*(_text(children.get(f)) for f in SYSTEEM_FIELDS))


def find(message: etree._Element) -> etree._Element | None:
    """The stuurgegevens element of a message, whatever its namespace or prefix."""
    return _child(message, "stuurgegevens")


def _children(parent: etree._Element) -> dict[str, etree._Element]:
    """The first child element of each local name (one pass; this runs for every message)."""
    found: dict[str, etree._Element] = {}
    for c in parent:
        tag = c.tag
        if isinstance(tag, str):
            found.setdefault(tag.rpartition("}")[2], c)
    return found


def read(message: etree._Element) -> Stuurgegevens:
    sg = find(message)
    if sg is None:
        return Stuurgegevens()
    children = _children(sg)
    get = children.get
    return Stuurgegevens(
        berichtcode=_text(get("berichtcode")),
        zender=_systeem(get("zender")),
        ontvanger=_systeem(get("ontvanger")),
        referentienummer=_text(get("referentienummer")),
        tijdstipBericht=_text(get("tijdstipBericht")),
        crossRefnummer=_text(get("crossRefnummer")),
        entiteittype=_text(get("entiteittype")),
        functie=_text(get("functie")),
    )


ORDER = (
    "berichtcode",
    "zender",
    "ontvanger",
    "referentienummer",
    "tijdstipBericht",
    "crossRefnummer",
    "entiteittype",
    "functie",
)
_ORDER_TAGS = tuple((name, ns.q(ns.STUF, name)) for name in ORDER)
_FIELD_TAGS = tuple((name, ns.q(ns.STUF, name)) for name in SYSTEEM_FIELDS)


def write(parent: etree._Element, tag: str, sg: Stuurgegevens) -> etree._Element:
    """Append ``<tag>`` with the StUF children of ``sg`` in schema order; absent values are left out."""
    el = etree.SubElement(parent, tag)
    sub = etree.SubElement
    for name, qname in _ORDER_TAGS:
        value = getattr(sg, name)
        if value is None:
            continue
        if isinstance(value, Systeem):
            sys_el = sub(el, qname)
            # applicatie is required in StUF:Systeem; a Systeem without one is written as given
            for f, fq in _FIELD_TAGS:
                v = getattr(value, f)
                if v is not None:
                    sub(sys_el, fq).text = v
        else:
            sub(el, qname).text = value
    return el


_counter = itertools.count(1)
_lock = threading.Lock()


#: the last second asked for and its yyyyMMddHHmmss in local time: every answer asks twice (its
#: referentienummer and its tijdstipBericht), many times within one second
_second: tuple[int, str] = (-1, "")


def _local_second(second: int) -> str:
    global _second
    last = _second
    if last[0] != second:
        last = _second = (second, time.strftime("%Y%m%d%H%M%S", time.localtime(second)))
    return last[1]


def _now() -> tuple[int, int]:
    """(second, microsecond) of now, split and rounded as ``datetime.fromtimestamp`` does."""
    fraction, whole = math.modf(time.time())
    second, micro = int(whole), round(fraction * 1e6)
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    return second, micro


def now_tijdstip() -> str:
    """yyyyMMddHHmmssSSS, local time as StUF expects."""
    second, micro = _now()
    return f"{_local_second(second)}{micro // 1000:03d}"


def new_referentienummer() -> str:
    """A reference unique per broker process and over restarts (≤ 40 characters)."""
    with _lock:
        n = next(_counter)
    return f"SB{_local_second(_now()[0])}{os.getpid() % 100000:05d}{n:08d}"


def answer_to(request: Stuurgegevens, berichtcode: str, own: Systeem, **extra: str | None) -> Stuurgegevens:
    """Stuurgegevens of an answer: zender/ontvanger mirrored, crossRefnummer = the request's reference."""
    zender = request.ontvanger if request.ontvanger and request.ontvanger.applicatie else own
    return replace(
        Stuurgegevens(),
        berichtcode=berichtcode,
        zender=zender,
        ontvanger=request.zender,
        referentienummer=new_referentienummer(),
        tijdstipBericht=now_tijdstip(),
        crossRefnummer=request.referentienummer,
        **extra,
    )
