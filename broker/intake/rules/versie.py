"""Before the operation is looked up: StUF version, sector model and version, asynchronous answers.

Tabel 4.1 order: StUF001 (StUF version) before StUF004/007 (sector model, its version), and a
Bv01/Fo01/La02/Du01 (an asynchronous answer, which names the message it answers in crossRefnummer)
gets StUF043: the broker sends no message that is answered asynchronously, so every crossRefnummer
is unknown to it. Reads the body element's namespace and the stuurgegevens' only.
"""

from __future__ import annotations

import re

from lxml import etree

from broker.intake.rules.base import refuse
from broker.stuf import ns
from broker.stuf.stuurgegevens import Stuurgegevens

_STUF = re.compile(r"^http://www\.egem\.nl/StUF/StUF(\d{4})$")
_SECTOR = re.compile(r"^http://www\.egem\.nl/StUF/sector/([a-z]+)/(\d{4})$")
#: sector models the broker knows, with the version it speaks
SECTOREN = {"zkn": "0310", "bg": "0310"}
ASYNC_ANSWERS = frozenset({"Bv01", "Fo01", "La02", "Du01"})


def check(body: etree._Element, sg: Stuurgegevens) -> None:
    stuurgegevens = body.find("{*}stuurgegevens")
    if stuurgegevens is not None:
        for c in stuurgegevens:
            if not isinstance(c.tag, str):
                continue
            found = _STUF.match(ns.namespace(c.tag) or "")
            if found and found.group(1) != "0301":
                raise refuse("StUF001", "R-SG-01", f"StUF-versie {found.group(1)} wordt niet ondersteund",
                             "deze broker spreekt StUF 03.01 (http://www.egem.nl/StUF/StUF0301)")
            break
    sector = _SECTOR.match(ns.namespace(body.tag) or "")
    if sector is not None:
        name, version = sector.groups()
        if name not in SECTOREN:
            raise refuse("StUF004", "R-SG-02", f"Sectormodel {name} wordt niet ondersteund",
                         "deze broker spreekt StUF-ZKN 03.10 en ZDS 1.2")
        if version != SECTOREN[name]:
            raise refuse("StUF007", "R-SG-02", f"Versie {version} van sectormodel {name} wordt niet ondersteund",
                         f"deze broker spreekt {name} {SECTOREN[name]}")
    if sg.berichtcode in ASYNC_ANSWERS:
        raise refuse("StUF043", "R-SG-12", f"crossRefnummer {sg.crossRefnummer or '(leeg)'} is onbekend",
                     f"een {sg.berichtcode} beantwoordt een asynchroon bericht; deze broker verstuurt geen "
                     "berichten die asynchroon worden beantwoord")
