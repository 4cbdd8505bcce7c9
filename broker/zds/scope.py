"""Answering exactly what a vraag asks for (StUF 03.01 §6.3.3, scope).

``scope/object`` either carries ``StUF:scope`` (alles, allesZonderMetagegevens,
allesMaarKerngegevensGerelateerden, allesZonderMetagegevensMaarKerngegevensGerelateerden,
kerngegevens) or lists the wanted elements. A listed relation without children means "the relation
with the kerngegevens of its gerelateerde"; a listed relation with children selects inside it.
Kerngegevens come from the schema (broker.zds.kern). Nothing that was not asked for is answered
(ZDS21S006).
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.stuf import ns
from broker.zds.kern import SchemaModel
from broker.zds.mutation import is_relation
from broker.zds.xmlutil import ENTITEITTYPE, NIL, NOVALUE, SCOPE, child, children, clone, is_nil

_METAGEGEVEN_ATTR = ns.q(ns.STUF, "metagegeven")
#: StUF 03.01 §3 "metagegevens met betrekking tot historische waarden" and historie itself
_HISTORIE_METAGEGEVENS = frozenset({"tijdvakGeldigheid", "tijdstipRegistratie", "tijdvakRelatie", "tijdvakObject",
                                    "historieMaterieel", "historieFormeel", "historieFormeelRelatie"})
NAMED = ("alles", "allesZonderMetagegevens", "allesMaarKerngegevensGerelateerden",
         "allesZonderMetagegevensMaarKerngegevensGerelateerden", "kerngegevens")


def _relation_type(rel: etree._Element) -> str | None:
    return rel.get(ENTITEITTYPE)


def _gerelateerde_kern_type(schema: SchemaModel, rel: etree._Element) -> str | None:
    rel_kern = schema.kern_type(_relation_type(rel))
    if rel_kern is None:
        return None
    return dict(schema.types[rel_kern]).get("gerelateerde")


def strip_metagegevens(el: etree._Element) -> None:
    """Remove metagegevens (StUF 03.01 §3): those about historische waarden (tijdvakGeldigheid,
    tijdstipRegistratie, tijdvakRelatie, historie) and every element marked
    ``StUF:metagegeven="true"`` (authentiek, inOnderzoek, ...)."""
    for c in list(el):
        if not isinstance(c.tag, str):
            continue
        if ns.local(c.tag) in _HISTORIE_METAGEGEVENS or c.get(_METAGEGEVEN_ATTR) == "true":
            el.remove(c)
        else:
            strip_metagegevens(c)


def kern_gerelateerden(el: etree._Element, schema: SchemaModel) -> None:
    """Reduce the gerelateerde of every relation of ``el`` to its kerngegevens."""
    for c in children(el):
        if not is_relation(c):
            continue
        ger = child(c, "gerelateerde")
        if ger is not None:
            schema.prune_to_kern(ger, _gerelateerde_kern_type(schema, c))


def apply(full: etree._Element, scope_object: etree._Element | None, schema: SchemaModel, *,
          owned: bool = False) -> etree._Element:
    """A copy of ``full`` holding just what ``scope_object`` asks for; ``owned``: ``full`` is the
    caller's to give away, and is changed and returned instead of copied where that suffices."""
    copy = (lambda el: el) if owned else clone
    if scope_object is None:
        return copy(full)
    named = scope_object.get(SCOPE)
    listed = children(scope_object)
    if named and listed:
        raise StufError("StUF097", "scope heeft zowel een StUF:scope-attribuut als een lijst van elementen")
    if named:
        out = copy(full)
        if named in ("allesZonderMetagegevens", "allesZonderMetagegevensMaarKerngegevensGerelateerden"):
            strip_metagegevens(out)
        if named in ("allesMaarKerngegevensGerelateerden", "allesZonderMetagegevensMaarKerngegevensGerelateerden"):
            kern_gerelateerden(out, schema)
        if named == "kerngegevens":
            schema.prune_to_kern(out, schema.kern_type(out.get(ENTITEITTYPE)))
        return out
    if not listed:
        return copy(full)
    return _select(full, scope_object, schema)


def _select(full: etree._Element, wanted: etree._Element, schema: SchemaModel) -> etree._Element:
    """Follow the scope's element list (a schema-valid vraag lists them in schema order).

    A requested simple element the zaaksysteem has no value for is answered empty with
    ``StUF:noValue="geenWaarde"`` (StUF 03.01 §3.4): the zaaksysteem holds the whole registration, so
    absence means there is no value. A requested relation or group that is absent is left out.
    """
    out = etree.Element(full.tag, attrib=dict(full.attrib), nsmap=full.nsmap)
    out.text = None
    done: set[str] = set()
    for spec in children(wanted):
        name = ns.local(spec.tag)
        if name in done:
            continue
        done.add(name)
        present = [c for c in children(full) if ns.local(c.tag) == name]
        if not present:
            if not children(spec) and ENTITEITTYPE not in spec.attrib:
                el = etree.SubElement(out, spec.tag)
                el.set(NIL, "true")
                el.set(NOVALUE, "geenWaarde")
            continue
        for c in present:
            if is_relation(c) or name == "gerelateerde":
                out.append(_select_relation(c, spec, schema))
            elif children(spec) and children(c):
                out.append(_select(c, spec, schema))
            else:
                out.append(clone(c))
    return out


def _select_relation(rel: etree._Element, spec: etree._Element, schema: SchemaModel) -> etree._Element:
    if is_nil(rel):  # "there is none" (e.g. a zaak without documents) stays empty whatever the scope lists
        return clone(rel)
    if not children(spec):
        out = clone(rel)
        ger = child(out, "gerelateerde")
        if ger is not None:
            schema.prune_to_kern(ger, _gerelateerde_kern_type(schema, rel))
        return out
    return _select(rel, spec, schema)
