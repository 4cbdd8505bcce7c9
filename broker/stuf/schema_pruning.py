"""Leaving out of a schema set what the messages the broker serves cannot reach.

A compiled schema keeps libxml2's tree of every schema document it read, and its components: the whole
StUF-BG 03.10 message set costs 50 MB per process, while the broker answers only ``npsLv01`` and takes
``npsLk01``. Before such a set is compiled, every global component (element, type, group, attribute,
attribute group) that no served message element can reach is removed from its documents. What stays
validates a served message exactly as the whole set does: a message is checked only against the
declarations its element reaches (its types, their bases, referenced elements and groups, and the
members of any substitution group it reaches). Kept although nothing served names them:

- every global element and attribute of the StUF namespace: its ``Anytype*`` types hold any StUF
  element (a strict ``##targetNamespace`` wildcard). The StUF namespace's types, most of them
  parameters of entities the broker does not serve, stay only as far as they are reached;
- everything of a file without a ``targetNamespace`` (it takes its namespace from whoever includes it).

Not kept: types that only an ``xsi:type`` in a message could name (StUF messages use none). A message
element of a pruned namespace that is not served gets "no matching global declaration" (StUF055);
the intake refuses such elements before validating them anyway (StUF025).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from lxml import etree

from broker.stuf import ns

_XML = "http://www.w3.org/XML/1998/namespace"
#: global declaration -> its symbol space (types share one space, simple and complex)
_SPACE = {"element": "element", "complexType": "type", "simpleType": "type", "group": "group",
          "attributeGroup": "attributeGroup", "attribute": "attribute"}
#: attributes that name a component, and in which space (``ref`` depends on the element that has it)
_NAMES = {"type": "type", "base": "type", "itemType": "type", "substitutionGroup": "element"}
_XS_PREFIX = "{" + ns.XS + "}"

#: changes when what is left out changes (a prepared set kept from before is then derived again)
PRUNING_FORMAT = 2
#: namespace -> the names of the message elements served in it, or None for every element of it
Served = Mapping[str, frozenset[str] | None]
#: (symbol space, namespace, local name)
Component = tuple[str, str, str]


def _qname(el: etree._Element, value: str) -> tuple[str, str]:
    prefix, _, local = value.strip().rpartition(":")
    uri = _XML if prefix == "xml" else el.nsmap.get(prefix or None)
    return uri or "", local


def _xs_name(el: etree._Element) -> str | None:
    """The local name of an element of the XML Schema language, else None."""
    tag = el.tag
    return tag[len(_XS_PREFIX):] if isinstance(tag, str) and tag.startswith(_XS_PREFIX) else None


def _references(component: etree._Element) -> Iterator[Component]:
    for el in component.iter(etree.Element):
        kind = _xs_name(el)
        if kind is None:
            continue
        for attribute, space in _NAMES.items():
            value = el.get(attribute)
            if value:
                yield space, *_qname(el, value)
        members = el.get("memberTypes")
        if members:
            for value in members.split():
                yield "type", *_qname(el, value)
        ref = el.get("ref")
        if ref:
            ref_space = _SPACE.get(kind)
            if ref_space:
                yield ref_space, *_qname(el, ref)


def prune(documents: Iterable[etree._Element], served: Served) -> int:
    """Remove from ``documents`` (the schema documents of one set, changed in place) every global
    component no served element reaches. ``served``: namespace -> the names of its served message
    elements, or None for all of that namespace. Namespaces not named are kept only as far as
    something served reaches them. Returns the number of components removed."""
    components: dict[Component, list[etree._Element]] = {}
    roots: list[Component] = []
    members: dict[Component, list[Component]] = {}  # substitution group head -> its members
    for doc in documents:
        namespace = doc.get("targetNamespace")
        # a file without a namespace takes its includer's: kept whole (see above)
        whole = namespace is None or (namespace in served and served[namespace] is None)
        names = served.get(namespace or "") or frozenset()
        for el in doc.iterchildren(etree.Element):
            space = _SPACE.get(_xs_name(el) or "")
            name = el.get("name")
            if space is None or not name:
                continue
            key: Component = (space, namespace or "", name)
            components.setdefault(key, []).append(el)
            if whole or (space == "element" and name in names) \
                    or (namespace == ns.STUF and space in ("element", "attribute")):
                roots.append(key)
            head = el.get("substitutionGroup") if space == "element" else None
            if head:
                members.setdefault(("element", *_qname(el, head)), []).append(key)
    reached: set[Component] = set()
    stack = roots
    while stack:
        key = stack.pop()
        if key in reached or key not in components:
            continue
        reached.add(key)
        for el in components[key]:
            stack.extend(_references(el))
        stack.extend(members.get(key, ()))
    removed = 0
    for key, elements in components.items():
        if key not in reached:
            for el in elements:
                el.getparent().remove(el)  # type: ignore[union-attr]
                removed += 1
    return removed

