"""What the rule modules share: the tolerances in force for a message, and small readers."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from broker.errors import StufError
from broker.stuf import ns
from broker.zds.tolerances import KNOWN
from broker.zds.xmlutil import NIL, NOVALUE

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
