"""Stuurgegevens (StUF 03.01 §4.1-4.3): reading them from any message, writing them into answers."""

from __future__ import annotations

import itertools
import os
import threading
from dataclasses import dataclass, replace
from datetime import datetime

from lxml import etree

from broker.stuf import ns

_FIELDS = ("organisatie", "applicatie", "administratie", "gebruiker")


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
    return Systeem(*(_text(_child(el, f)) for f in _FIELDS))


def find(message: etree._Element) -> etree._Element | None:
    """The stuurgegevens element of a message, whatever its namespace or prefix."""
    return _child(message, "stuurgegevens")


def read(message: etree._Element) -> Stuurgegevens:
    sg = find(message)
    if sg is None:
        return Stuurgegevens()
    return Stuurgegevens(
        berichtcode=_text(_child(sg, "berichtcode")),
        zender=_systeem(_child(sg, "zender")),
        ontvanger=_systeem(_child(sg, "ontvanger")),
        referentienummer=_text(_child(sg, "referentienummer")),
        tijdstipBericht=_text(_child(sg, "tijdstipBericht")),
        crossRefnummer=_text(_child(sg, "crossRefnummer")),
        entiteittype=_text(_child(sg, "entiteittype")),
        functie=_text(_child(sg, "functie")),
    )


_ORDER = (
    "berichtcode",
    "zender",
    "ontvanger",
    "referentienummer",
    "tijdstipBericht",
    "crossRefnummer",
    "entiteittype",
    "functie",
)


def write(parent: etree._Element, tag: str, sg: Stuurgegevens) -> etree._Element:
    """Append ``<tag>`` with the StUF children of ``sg`` in schema order; absent values are left out."""
    el = etree.SubElement(parent, tag)
    for name in _ORDER:
        value = getattr(sg, name)
        if value is None:
            continue
        if isinstance(value, Systeem):
            sys_el = etree.SubElement(el, ns.q(ns.STUF, name))
            # applicatie is required in StUF:Systeem; a Systeem without one is written as given
            for f in _FIELDS:
                v = getattr(value, f)
                if v is not None:
                    etree.SubElement(sys_el, ns.q(ns.STUF, f)).text = v
        else:
            etree.SubElement(el, ns.q(ns.STUF, name)).text = value
    return el


_counter = itertools.count(1)
_lock = threading.Lock()


def now_tijdstip() -> str:
    """yyyyMMddHHmmssSSS, local time as StUF expects."""
    return datetime.now().strftime("%Y%m%d%H%M%S%f")[:17]


def new_referentienummer() -> str:
    """A reference unique per broker process and over restarts (≤ 40 characters)."""
    with _lock:
        n = next(_counter)
    return f"SB{datetime.now().strftime('%Y%m%d%H%M%S')}{os.getpid() % 100000:05d}{n:08d}"


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
