"""Kennisgevingen: the old and the new object, relations and gerelateerden (StUF 03.01 §5.2, Tabel 5.3-5.7).

Rules (docs/stuf-rules.md, group C): R-KG-04 (every relation and gerelateerde carries a
verwerkingssoort), R-KG-06 (a relation has the same verwerkingssoort in the old and the new object),
R-KG-08 (a gerelateerde is only identified or added), R-KG-10
(sleutelVerzendend the same in both objects), R-KG-12 / STV0000047 (old and new hold the same
elements, tolerance ``old_object_incomplete``; StUF066 for a correction that corrects nothing). Only the objects' direct children and
their relations' gerelateerden are read. (R-KG-13 is declined: docs/stuf-rules.md.)
"""

from __future__ import annotations

from collections import Counter

from lxml import etree

from broker.intake.rules.base import Relation, Tolerated, refuse
from broker.intake.rules.tijdvak import TR
from broker.stuf import ns, xmlsafe
from broker.zds.tolerances import OLD_OBJECT_INCOMPLETE
from broker.zds.xmlutil import SLEUTEL_VERZENDEND, VERWERKINGSSOORT


def check(objects: list[etree._Element], rels: list[list[Relation]], mutatiesoort: str | None,
          tolerated: Tolerated) -> None:
    """``rels``: the relations of each object (base.relations), read once for every rule module."""
    for obj_rels in rels:
        _relations_of(obj_rels)
    if len(objects) != 2:
        return
    oud, nieuw = objects
    _pairs(rels[0], rels[1])
    # R-KG-10: the sender's key is the same in both (except when an object is split or merged: S/O)
    if {oud.get(VERWERKINGSSOORT), nieuw.get(VERWERKINGSSOORT)}.isdisjoint({"S", "O"}) \
            and oud.get(SLEUTEL_VERZENDEND) != nieuw.get(SLEUTEL_VERZENDEND):
        raise refuse("StUF055", "R-KG-10", "sleutelVerzendend van het oude en het nieuwe object verschillen",
                     f"oud {oud.get(SLEUTEL_VERZENDEND) or '(geen)'}, nieuw {nieuw.get(SLEUTEL_VERZENDEND) or '(geen)'}")
    # R-KG-12 (STV0000047): the same elements in both, tijdstipRegistratie aside
    old_names, new_names = _names(oud), _names(nieuw)
    if old_names != new_names:
        only_old = sorted(ns.local(t) for t in (old_names - new_names).elements())
        only_new = sorted(ns.local(t) for t in (new_names - old_names).elements())
        if not only_old and mutatiesoort == "W" and tolerated.allows(OLD_OBJECT_INCOMPLETE):
            return  # the old values the client did not know are read as empty (geenWaarde)
        parts = ([f"alleen in het oude: {', '.join(dict.fromkeys(only_old))}"] if only_old else []) + \
                ([f"alleen in het nieuwe: {', '.join(dict.fromkeys(only_new))}"] if only_new else [])
        raise refuse("StUF055", "STV0000047", "Het oude en het nieuwe object bevatten niet dezelfde elementen "
                     "(een lege oude waarde staat er als xsi:nil met StUF:noValue=\"geenWaarde\")", "; ".join(parts))
    if mutatiesoort in ("C", "F") and _content(oud) == _content(nieuw):
        raise refuse("StUF066", "R-KG-12", "Er is niets te corrigeren: het oude en het nieuwe object zijn gelijk")


def _names(obj: etree._Element) -> Counter[str]:
    return Counter(c.tag for c in obj if isinstance(c.tag, str) and c.tag != TR)


def _content(obj: etree._Element) -> list[bytes]:
    out = []
    for c in obj:
        if isinstance(c.tag, str) and c.tag != TR:
            out.append(xmlsafe.canonical(c))
    return out


def _pairs(oud: list[Relation], nieuw: list[Relation]) -> None:
    """R-KG-06: relations are paired by position within their name (placeholders keep the count);
    each pair has one verwerkingssoort."""
    old_rels: dict[str, list[Relation]] = {}
    for rel in oud:
        old_rels.setdefault(str(rel.el.tag), []).append(rel)
    seen: dict[str, int] = {}
    for rel in nieuw:
        tag = str(rel.el.tag)
        i = seen[tag] = seen.get(tag, -1) + 1
        olds = old_rels.get(tag, [])
        if i < len(olds) and olds[i].soort != rel.soort:
            raise refuse("StUF055", "R-KG-06", f"Relatie {ns.local(tag)} heeft in het oude en het nieuwe object "
                         "een andere verwerkingssoort", f"oud {olds[i].soort or '(geen)'}, nieuw {rel.soort or '(geen)'}")


def _relations_of(rels: list[Relation]) -> None:
    for relation in rels:
        rel = relation.el
        # R-KG-04: what is done with a relation and its gerelateerde is said, not guessed
        if relation.soort is None:
            raise refuse("StUF055", "R-KG-04", f"Relatie {ns.local(rel.tag)} heeft geen StUF:verwerkingssoort")
        # R-KG-08: a gerelateerde is identified (I) or added (T); only the topfundamenteel changes
        for ger in relation.gerelateerden:
            gvs = ger.get(VERWERKINGSSOORT)
            if gvs is None and len(ger):
                raise refuse("StUF055", "R-KG-04", f"Gerelateerde {ns.local(ger.tag)} van relatie "
                             f"{ns.local(rel.tag)} heeft geen StUF:verwerkingssoort")
            if gvs is not None and gvs not in ("I", "T"):
                raise refuse("StUF055", "R-KG-08", f"Een gerelateerde heeft verwerkingssoort I of T, niet {gvs}",
                              f"relatie {ns.local(rel.tag)}, gerelateerde {ns.local(ger.tag)}")
