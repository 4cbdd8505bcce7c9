"""noValue and xsi:nil (StUF 03.01 §3.4, §6.3.3).

R-NV-03: an element with StUF:noValue has no content (no value, no children): one compiled XPath
over the message, the scope excepted. R-NV-07 (STV0000101, no noValue in a scope) is declined: the
StUF Testplatform's own ZDS 1.2 vragen carry it, and the broker ignores it (docs/stuf-rules.md).
"""

from __future__ import annotations

from lxml import etree

from broker.intake.rules.base import STUF_NS, refuse
from broker.stuf import ns

_NS = {"StUF": STUF_NS}
#: the elements with a noValue and any child node (in C: usually none, where a message has dozens of
#: noValues); their content and scope are then checked here. Found through the attribute axis, in
#: document order as before: libxml2 tests a predicate ``[@StUF:noValue]`` on every element with a
#: node-set of its own, three times the cost (15 against 5 µs over a creeerZaak)
_MARKED = etree.XPath("descendant::*/@StUF:noValue/parent::*[node()]", namespaces=_NS)
_SCOPE = "}scope"


def _where(el: etree._Element) -> str:
    names = [ns.local(a.tag) for a in reversed(list(el.iterancestors()))][1:] + [ns.local(el.tag)]
    return "/".join(names)


def _in_scope(el: etree._Element, body: etree._Element) -> bool:
    for a in el.iterancestors():
        if a is body:
            return False
        if isinstance(a.tag, str) and a.tag.endswith(_SCOPE):
            return True
    return False


def check(body: etree._Element) -> None:
    for el in _MARKED(body):
        if (len(el) or (el.text or "").strip()) and not _in_scope(el, body):
            raise refuse("StUF055", "R-NV-03", "Een element met StUF:noValue heeft geen inhoud", _where(el))
