"""What the rule modules share: the tolerances in force for a message, and small readers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from broker.errors import StufError
from broker.stuf import ns
from broker.zds.tolerances import KNOWN
from broker.zds.xmlutil import ENTITEITTYPE, NIL, NOVALUE, VERWERKINGSSOORT

STUF_NS = ns.STUF


class Tolerated:
    """The tolerances the zender is granted, and those this message needed (in the order used)."""

    def __init__(self, granted: Iterable[str] = ()) -> None:
        self.granted = frozenset(granted)
        self.applied: list[str] = []

    def allows(self, name: str) -> bool:
        """Whether ``name`` is granted; when it is, it is recorded as applied to this message."""
        assert name in KNOWN, name
        if name not in self.granted:
            return False
        if name not in self.applied:
            self.applied.append(name)
        return True


def refuse(code: str, rule: str, omschrijving: str, details: str | None = None) -> StufError:
    """A rule's fault: its details name the rule (docs/stuf-rules.md) before anything else."""
    return StufError(code, omschrijving, f"regel {rule}" + (f": {details}" if details else ""))


def value(el: etree._Element | None) -> str | None:
    """The text of an element; None when absent, nil or empty."""
    if el is None or el.get(NIL) in ("true", "1"):
        return None
    return (el.text or "").strip() or None


def geen_waarde(el: etree._Element | None) -> bool:
    """An element that is there, empty, with noValue geenWaarde (an open end, StUF 03.01 §3.4)."""
    return el is not None and value(el) is None and el.get(NOVALUE) == "geenWaarde"


def q(local: str) -> str:
    return ns.q(STUF_NS, local)


_GERELATEERDE = "}gerelateerde"
_TV, _TVR = ns.q(STUF_NS, "tijdvakGeldigheid"), ns.q(STUF_NS, "tijdvakRelatie")


@dataclass(slots=True)
class Relation:
    """A relation of an object, read once for every rule module: its verwerkingssoort, the entity
    element(s) at its other end (the gerelateerde, or its choice branch), its tijdvakken."""

    el: etree._Element
    soort: str | None
    gerelateerden: list[etree._Element]
    tijdvak: etree._Element | None
    tijdvak_relatie: etree._Element | None


#: an object's children with an entiteittype, but its gerelateerde: its relations (found in C, where
#: an object has dozens of children and a few relations; through the attribute axis, cheaper for
#: libxml2 than a predicate ``[@StUF:entiteittype]`` on every child)
_RELATIONS = etree.XPath("*/@StUF:entiteittype/parent::*[not(local-name() = 'gerelateerde' and namespace-uri())]",
                         namespaces={"StUF": STUF_NS})


def relations(obj: etree._Element) -> list[Relation]:
    """The relations of an object (children with an entiteittype other than gerelateerde), and one
    loop over each relation's children."""
    out = []
    for c in _RELATIONS(obj):
        gerelateerden: list[etree._Element] = []
        tv = tvr = None
        for k in c:
            t = k.tag
            if t == _TV:
                tv = k
            elif t == _TVR:
                tvr = k
            elif isinstance(t, str) and t.endswith(_GERELATEERDE):
                if k.get(ENTITEITTYPE) is not None:
                    gerelateerden.append(k)
                gerelateerden.extend(g for g in k if g.get(ENTITEITTYPE) is not None and isinstance(g.tag, str))
        out.append(Relation(c, c.get(VERWERKINGSSOORT), gerelateerden, tv, tvr))
    return out
