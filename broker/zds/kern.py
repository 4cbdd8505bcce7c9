"""What the installed schemas say about StUF-ZKN entities: element order and kerngegevens.

Read once from ``zkn0310_ent_basis.xsd`` and ``zkn0310_bg0310_ent.xsd``:

- the order of every ``<ET>-basis`` type (ZAK, EDC, BSL, ZAKSTT, ...), so that merged or assembled
  entities keep schema order;
- the ``*-kerngegevens`` types, so that "kerngegevens" of a gerelateerde (StUF 03.01 §6.3.3) is the
  schema's definition and not a hard-coded list.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

from broker.stuf import ns

_FILES = (
    "zkn0310/entiteiten/zkn0310_ent_basis.xsd",
    "zkn0310/entiteiten/zkn0310_bg0310_ent.xsd",
)
Children = list[tuple[str, str | None]]  # (local name, type local name or None)


@lru_cache(maxsize=4)
def _load(xsd_dir: str) -> dict[str, Children]:
    types: dict[str, Children] = {}
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    for rel in _FILES:
        root = etree.parse(str(Path(xsd_dir) / rel), parser).getroot()
        for ct in root.iter(ns.q(ns.XS, "complexType")):
            name = ct.get("name")
            if not name:
                continue
            kids: Children = []
            seen: set[str] = set()
            for el in ct.iter(ns.q(ns.XS, "element")):
                n = el.get("name") or (el.get("ref") or "").rpartition(":")[2]
                if not n or n in seen:
                    continue
                seen.add(n)
                t = el.get("type")
                kids.append((n, t.rpartition(":")[2] if t else None))
            types.setdefault(name, kids)
    return types


#: the position of an element the schema does not name: after all it does
_UNKNOWN = 10_000


class SchemaModel:
    def __init__(self, xsd_dir: Path) -> None:
        self.xsd_dir = Path(xsd_dir)
        self.types = _load(str(xsd_dir))
        #: entiteittype -> {local name: position in its -basis type}, made on first use
        self._positions: dict[str, dict[str, int]] = {}

    # -- order -------------------------------------------------------------------------------
    def order(self, entiteittype: str) -> list[str]:
        return [n for n, _ in self.types.get(f"{entiteittype}-basis", [])]

    def _positions_of(self, entiteittype: str) -> dict[str, int]:
        positions = self._positions.get(entiteittype)
        if positions is None:
            positions = {}
            for i, name in enumerate(self.order(entiteittype)):
                positions.setdefault(name, i)
            self._positions[entiteittype] = positions
        return positions

    def index(self, entiteittype: str, name: str) -> int:
        return self._positions_of(entiteittype).get(name, _UNKNOWN)

    def insert(self, parent: etree._Element, entiteittype: str, new: etree._Element) -> None:
        """Insert ``new`` after the last child that the schema puts at or before it."""
        positions = self._positions_of(entiteittype)
        pos = positions.get(ns.local(new.tag), _UNKNOWN)
        at = 0
        for i in range(len(parent) - 1, -1, -1):  # the last such child: the first one from the end
            c = parent[i]
            if isinstance(c.tag, str) and positions.get(ns.local(c.tag), _UNKNOWN) <= pos:
                at = i + 1
                break
        parent.insert(at, new)

    def sort(self, parent: etree._Element, entiteittype: str) -> None:
        kids = [c for c in parent if isinstance(c.tag, str)]
        positions = self._positions_of(entiteittype)
        ordered = sorted(kids, key=lambda c: positions.get(ns.local(c.tag), _UNKNOWN))
        if ordered != kids:
            for c in kids:
                parent.remove(c)
            for c in ordered:
                parent.append(c)

    # -- kerngegevens ------------------------------------------------------------------------
    def kern_type(self, entiteittype: str | None) -> str | None:
        if not entiteittype:
            return None
        for name in (f"{entiteittype}-kerngegevens", f"{entiteittype}-zkn-kerngegevens"):
            if name in self.types:
                return name
        return None

    def prune_to_kern(self, el: etree._Element, type_name: str | None) -> None:
        """Remove every child of ``el`` that is not a kerngegeven of ``type_name`` (recursively)."""
        if type_name is None or type_name not in self.types:
            return
        allowed = dict(self.types[type_name])
        for c in list(el):
            if not isinstance(c.tag, str):
                continue
            name = ns.local(c.tag)
            if name not in allowed:
                el.remove(c)
                continue
            sub = allowed[name]
            if sub and sub in self.types:
                self.prune_to_kern(c, sub)
