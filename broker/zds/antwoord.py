"""Making a stored entity fit the antwoord types of the ZDS schemas.

The antwoord types are stricter than the kennisgeving types in a few places. A natuurlijk persoon
identified by BSN must carry ``BG:authentiek`` (a metagegeven saying whether the data come from the
BRP); the broker cannot know that, so it answers it as nil with ``noValue="waardeOnbekend"``
(StUF 03.01 §3.4: every nil element in an answer carries a noValue).
"""

from __future__ import annotations

from lxml import etree

from broker.stuf import ns
from broker.zds.xmlutil import NIL, NOVALUE, child

_NPS = "natuurlijkPersoon"
_METAGEGEVEN = ns.q(ns.STUF, "metagegeven")


def complete(obj: etree._Element) -> etree._Element:
    for el in obj.iter("{*}" + _NPS):  # (matched in C: an answer has hundreds of elements, few persons)
        bsn = child(el, "inp.bsn")
        if bsn is not None and child(el, "authentiek") is None:
            auth = etree.Element(ns.q(ns.BG, "authentiek"))
            auth.set(_METAGEGEVEN, "true")
            auth.set(NIL, "true")
            auth.set(NOVALUE, "waardeOnbekend")
            bsn.addnext(auth)
    return obj
