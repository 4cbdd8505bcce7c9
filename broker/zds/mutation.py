"""Applying a W kennisgeving (old object, new object) to a stored StUF entity (StUF 03.01 §5.2).

Attributes and groups present in the new object replace the stored ones. Relations follow their
``StUF:verwerkingssoort`` (Tabel 5.5): T adds, V and E remove (the broker keeps no history), W replaces
the stored relation that the old object identifies, R replaces all relations of that name, I leaves
the relation alone. Relations appear in both objects (with an empty placeholder on one side); they
are paired by position within their name.
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.stuf import ns
from broker.zds.kern import SchemaModel
from broker.zds.xmlutil import (
    ENTITEITTYPE,
    VERWERKINGSSOORT,
    child,
    children,
    clone,
    is_nil,
    strip_processing,
    text,
)

_KEY_PATHS = (
    ("identificatie",),
    ("inp.bsn",),
    ("inn.nnpId",),
    ("ann.identificatie",),
    ("vestigingsNummer",),
    ("code",),
    ("omschrijving",),
)


def is_relation(el: etree._Element) -> bool:
    """Relations carry an entiteittype of their own (ZAKBTRINI, BSLEDC, ...); groups do not."""
    return ENTITEITTYPE in el.attrib and ns.local(el.tag) not in ("gerelateerde",)


def related_key(rel: etree._Element) -> str | None:
    """What identifies the object at the other end of a relation."""
    ger = child(rel, "gerelateerde")
    if ger is None:
        return None
    targets = [ger] + [c for c in ger if isinstance(c.tag, str) and ENTITEITTYPE in c.attrib]
    for t in targets:
        for p in _KEY_PATHS:
            v = text(t, *p)
            if v:
                return f"{ns.local(t.tag)}:{p[0]}={v}"
    return None


def _find(stored: etree._Element, name: str, key: str | None) -> etree._Element | None:
    for c in children(stored, name):
        if key is not None and related_key(c) == key:
            return c
    return None


def _soort(oud: etree._Element | None, nieuw: etree._Element | None) -> str | None:
    """The verwerkingssoort of a pair of relations: the new side's, else the old side's."""
    side = nieuw if nieuw is not None else oud
    return side.get(VERWERKINGSSOORT) if side is not None else None


def apply(stored: etree._Element, oud: etree._Element, nieuw: etree._Element, schema: SchemaModel,
          entiteittype: str, keep: tuple[str, ...] = ("identificatie",),
          single: frozenset[str] = frozenset()) -> etree._Element:
    """Change ``stored`` in place as the pair (oud, nieuw) says; return it.

    ``single`` names relations the registration holds at most once (RGBZ cardinality, e.g. a zaak's
    initiator): a T on such a relation replaces the one that is there.
    """
    # attributes and groups
    names_done: set[str] = set()
    for c in children(nieuw):
        name = ns.local(c.tag)
        if is_relation(c) or name in keep or name in names_done:
            continue
        names_done.add(name)
        for s in children(stored, name):
            stored.remove(s)
        for new in children(nieuw, name):
            schema.insert(stored, entiteittype, strip_processing(clone(new)))
    # relations, paired by position within their name
    rel_names = []
    for el in list(children(oud)) + list(children(nieuw)):
        if is_relation(el) and ns.local(el.tag) not in rel_names:
            rel_names.append(ns.local(el.tag))
    for name in rel_names:
        olds = [e for e in children(oud, name)]
        news = [e for e in children(nieuw, name)]
        pairs = [(olds[i] if i < len(olds) else None, news[i] if i < len(news) else None)
                 for i in range(max(len(olds), len(news)))]
        replaced = [(o, n) for o, n in pairs if _soort(o, n) == "R"]
        if replaced:
            # R: the relations the old object names are replaced, as a set, by those of the new object
            keys = [related_key(o) for o, _ in replaced if o is not None and not is_nil(o)]
            for s in children(stored, name):
                if not keys or None in keys or related_key(s) in keys:
                    stored.remove(s)
            for _, n in replaced:
                if n is not None and not is_nil(n):
                    schema.insert(stored, entiteittype, strip_processing(clone(n)))
        for o, n in pairs:
            soort = _soort(o, n)
            if soort == "T":
                if n is None or is_nil(n):
                    raise StufError("StUF055", f"Relatie {name} met verwerkingssoort T heeft in het nieuwe object geen inhoud")
                if name in single:
                    for s in children(stored, name):
                        stored.remove(s)
                schema.insert(stored, entiteittype, strip_processing(clone(n)))
            elif soort in ("V", "E"):
                key = related_key(o) if o is not None else None
                target = _find(stored, name, key)
                if target is None:
                    raise StufError(
                        "StUF064",
                        f"De te beëindigen relatie {name} is niet gevonden",
                        f"relatie {name} naar {key or '(onbekend)'} bestaat niet bij dit object",
                        plek="client",
                    )
                stored.remove(target)
            elif soort == "W":
                if n is None:
                    raise StufError("StUF055", f"Relatie {name} met verwerkingssoort W ontbreekt in het nieuwe object")
                key = related_key(o) if o is not None else related_key(n)
                target = _find(stored, name, key)
                if target is None:
                    raise StufError("StUF064", f"De te wijzigen relatie {name} is niet gevonden", plek="client")
                stored.replace(target, strip_processing(clone(n)))
            # R is handled above; I (or no verwerkingssoort) only identifies: nothing changes
    return stored
