"""Small helpers for StUF entities: find children by local name, read values, copy and clean."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

from lxml import etree

from broker.stuf import ns
from broker.stuf.xmlsafe import parse_trusted

VERWERKINGSSOORT = ns.q(ns.STUF, "verwerkingssoort")
ENTITEITTYPE = ns.q(ns.STUF, "entiteittype")
NOVALUE = ns.q(ns.STUF, "noValue")
NIL = ns.q(ns.XSI, "nil")
SCOPE = ns.q(ns.STUF, "scope")
SLEUTEL_VERZENDEND = ns.q(ns.STUF, "sleutelVerzendend")
SLEUTEL_ONTVANGEND = ns.q(ns.STUF, "sleutelOntvangend")
FUNCTIE = ns.q(ns.STUF, "functie")


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    """The first child with this local name, in any namespace (lxml's ``{*}`` tag matcher runs in C;
    ``iterchildren`` skips the path parser that ``find`` goes through, half the cost)."""
    if el is None:
        return None
    return next(el.iterchildren("{*}" + name), None)


class Fields:
    """An entity's children by local name (the first of each name), read in one pass over them: an
    entity's values are looked up by name many times, and a lookup through :func:`child` costs about a
    microsecond (reading a zaak into the case model made 120 of them)."""

    __slots__ = ("first",)

    def __init__(self, el: etree._Element | None) -> None:
        first: dict[str, etree._Element] = {}
        if el is not None:
            for c in el:
                tag = c.tag
                if isinstance(tag, str):
                    name = tag[tag.find("}") + 1:]
                    if name not in first:
                        first[name] = c
        self.first = first

    def child(self, name: str) -> etree._Element | None:
        return self.first.get(name)

    def text(self, name: str, *names: str) -> str | None:
        """:func:`text` of the child ``name`` (and the path of ``names`` below it)."""
        found = self.first.get(name)
        return text(found, *names) if found is not None else None


def children(el: etree._Element | None, name: str | None = None) -> list[etree._Element]:
    if el is None:
        return []
    if name is None:
        return [c for c in el if isinstance(c.tag, str)]
    return list(el.iterchildren("{*}" + name))


def path(el: etree._Element | None, *names: str) -> etree._Element | None:
    for n in names:
        el = child(el, n)
    return el


def text(el: etree._Element | None, *names: str) -> str | None:
    """Text of the element at the path of local ``names``; None when absent, empty or nil."""
    target = path(el, *names) if names else el
    if target is None or is_nil(target):
        return None
    value = (target.text or "").strip()
    return value or None


def is_nil(el: etree._Element) -> bool:
    return el.get(NIL) in ("true", "1")


#: the elements with an xsi:nil, found in C (through the attribute axis, as _WITH_VERWERKINGSSOORT)
_WITH_NIL = etree.XPath("descendant-or-self::*/@xsi:nil/parent::*", namespaces={"xsi": ns.XSI})


def nil_with_novalue(el: etree._Element) -> etree._Element:
    """Every nil element of ``el`` (itself included) carries a noValue: geenWaarde where it has none
    (StUF 03.01 §3.4, R-NV-02)."""
    for e in _WITH_NIL(el):
        if is_nil(e) and NOVALUE not in e.attrib:
            e.set(NOVALUE, "geenWaarde")
    return el


def entiteittype(el: etree._Element) -> str | None:
    return el.get(ENTITEITTYPE)


#: the elements that carry a verwerkingssoort, found in C (most elements of an entity carry none),
#: through the attribute axis (a predicate ``[@s:verwerkingssoort]`` costs libxml2 a node-set per
#: element: 14 against 5.5 µs over a zaak entity)
_WITH_VERWERKINGSSOORT = etree.XPath("descendant-or-self::*/@s:verwerkingssoort/parent::*", namespaces={"s": ns.STUF})


def strip_processing(el: etree._Element) -> etree._Element:
    """Remove verwerkingssoort attributes (kennisgeving metadata) from ``el`` and its descendants."""
    for e in _WITH_VERWERKINGSSOORT(el):
        del e.attrib[VERWERKINGSSOORT]
    return el


def clone(el: etree._Element) -> etree._Element:
    return copy.deepcopy(el)


def to_string(el: etree._Element) -> str:
    return etree.tostring(el, encoding="unicode")


def from_string(value: str) -> etree._Element:

    return parse_trusted(value)


def from_strings(values: Sequence[str]) -> list[etree._Element]:
    """Elements stored as text (:func:`to_string`), parsed as one document: each as :func:`from_string`
    makes it (its own namespace declarations, no tail), for a third less than a parse each (a zaak's
    rollen). Each apart (and refused as a parse of its own refuses it) when a text holds a declaration,
    other than one element, or text outside its element."""
    if len(values) < 2 or any(v.lstrip().startswith("<?") for v in values):
        return [from_string(v) for v in values]
    root = parse_trusted("<x>" + "".join(values) + "</x>")
    parsed = [c for c in root if isinstance(c.tag, str)]
    if len(parsed) != len(values) or (root.text or "").strip() or any((c.tail or "").strip() for c in root):
        return [from_string(v) for v in values]
    for el in parsed:
        el.tail = None
    return parsed


def make(tag_ns: str, name: str, value: str | None = None, **attrs: str) -> etree._Element:
    el = etree.Element(ns.q(tag_ns, name), nsmap=ns.NSMAP)
    if value is not None:
        el.text = value
    for k, v in attrs.items():
        el.set(k, v)
    return el


def sub(parent: etree._Element, tag_ns: str, name: str, value: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, ns.q(tag_ns, name))
    if value is not None:
        el.text = value
    return el


def nil(parent: etree._Element, tag_ns: str, name: str, novalue: str | None = "geenWaarde") -> etree._Element:
    el = sub(parent, tag_ns, name)
    el.set(NIL, "true")
    if novalue:
        el.set(NOVALUE, novalue)
    return el


def local_names(els: Iterable[etree._Element]) -> list[str]:
    return [ns.local(e.tag) for e in els if isinstance(e.tag, str)]


def cleanup_namespaces(el: etree._Element) -> etree._Element:
    etree.cleanup_namespaces(el, top_nsmap=ns.NSMAP, keep_ns_prefixes=["xsi", "StUF", "ZKN", "BG"])
    return el
