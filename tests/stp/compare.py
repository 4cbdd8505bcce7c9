"""Canonicalising StUF messages and comparing an answer with an STP template.

Canonical form (both sides):
- namespaces are resolved (prefixes do not matter), comments and ``xsi:schemaLocation`` dropped,
  text stripped of surrounding white space;
- stuurgegevens keep only berichtcode, entiteittype and functie: zender, ontvanger,
  referentienummer, tijdstipBericht and crossRefnummer are the answering system's own (their
  mirroring is checked separately, see runner.check_mirrored);
- zaak identificaties (``identificatie`` of an entity with entiteittype ZAK) are compared without the
  gemeentecode in front: the templates write them with and without it (see errata.yaml, "general").

Comparison modes:
- ``exact``: the same elements (repeated siblings in any order, see ``_compare``), the same text; the
  template's attributes must be
  on the answer's element (the broker may add ``StUF:noValue`` to a nil element, StUF 03.01 §3.4);
- ``contains``: every element of the template is in the answer, in order; the answer may hold more.
  Used where the vraag asks ``StUF:scope="alles..."`` and the zaaksysteem knows more than the
  template (statussen, documenten, besluiten that other scenario steps added).
Unbound ``${name}`` values in a template are captured from the answer at the same place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

STUF = "http://www.egem.nl/StUF/StUF0301"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SG_KEEP = {"berichtcode", "entiteittype", "functie"}
_PLACEHOLDER = re.compile(r"^\$\{([A-Za-z0-9_]+)\}$")
_IGNORED_ATTRS = {f"{{{XSI}}}schemaLocation"}
ENTITEITTYPE = f"{{{STUF}}}entiteittype"


def local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    text: str
    children: list[Node] = field(default_factory=list)
    path: str = ""
    #: set by an erratum: any element with this tag matches, whatever its content
    wildcard: bool = False


def canonical(el: etree._Element, gemeentecode: str, path: str = "") -> Node:
    here = f"{path}/{local(el.tag)}"
    attrs = {k: v for k, v in el.attrib.items() if k not in _IGNORED_ATTRS}
    text = (el.text or "").strip()
    node = Node(el.tag, attrs, text, path=here)
    parent = el.getparent()
    if local(el.tag) == "identificatie" and parent is not None and parent.get(ENTITEITTYPE) == "ZAK":
        if text.startswith(gemeentecode) and not text.startswith("${"):
            node.text = text[len(gemeentecode):]
        elif text.startswith("${gemeentecode}"):
            node.text = text[len("${gemeentecode}"):]
    for c in el:
        if not isinstance(c.tag, str):
            continue
        if local(el.tag) == "stuurgegevens" and local(c.tag) not in _SG_KEEP:
            continue
        node.children.append(canonical(c, gemeentecode, here))
    return node


@dataclass
class Outcome:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    bound: dict[str, str] = field(default_factory=dict)

    def fail(self, msg: str) -> None:
        self.ok = False
        if len(self.problems) < 12:
            self.problems.append(msg)


def _text_matches(expected: str, actual: str, out: Outcome, bindings: dict[str, str], path: str) -> None:
    m = _PLACEHOLDER.match(expected)
    if m:
        name = m.group(1)
        if name in bindings:
            expected = bindings[name]
        else:
            bindings[name] = actual
            out.bound[name] = actual
            return
    if expected != actual:
        out.fail(f"{path}: expected {expected!r}, got {actual!r}")


def _attrs_match(e: Node, a: Node, out: Outcome) -> None:
    for k, v in e.attrs.items():
        if a.attrs.get(k) != v:
            out.fail(f"{e.path}: attribute {local(k)}={v!r} expected, got {a.attrs.get(k)!r}")


def compare(expected: Node, actual: Node, mode: str, bindings: dict[str, str]) -> Outcome:
    out = Outcome()
    _compare(expected, actual, mode, bindings, out)
    return out


def _compare(e: Node, a: Node, mode: str, bindings: dict[str, str], out: Outcome) -> None:
    if e.tag != a.tag:
        out.fail(f"{e.path}: expected element {local(e.tag)}, got {local(a.tag)}")
        return
    if e.wildcard:
        return
    _attrs_match(e, a, out)
    if not e.children:
        _text_matches(e.text, a.text, out, bindings, e.path)
        if mode == "exact" and a.children:
            out.fail(f"{e.path}: unexpected content {[local(c.tag) for c in a.children][:5]}")
        return
    if mode == "exact":
        want, got = sorted(c.tag for c in e.children), sorted(c.tag for c in a.children)
        if want != got:
            out.fail(f"{e.path}: children {[local(c.tag) for c in e.children]} expected, "
                     f"got {[local(c.tag) for c in a.children]}")
            return
    # Each expected child matches an answer child with the same tag that compares clean. Siblings
    # with the same tag may come in any order: every vraag of the set asks sortering 0 ("any order",
    # StUF 03.01 §6.1), and the schema order of different elements is checked by the XSD already.
    used: set[int] = set()
    for ec in e.children:
        found = False
        for i, ac in enumerate(a.children):
            if i in used or ac.tag != ec.tag:
                continue
            trial = Outcome()
            trial_bindings = dict(bindings)
            _compare(ec, ac, mode, trial_bindings, trial)
            if trial.ok:
                bindings.update(trial_bindings)
                out.bound.update(trial.bound)
                used.add(i)
                found = True
                break
        if not found:
            hint = ""
            trials = []
            for i, c in enumerate(a.children):
                if c.tag == ec.tag and i not in used:
                    trial = Outcome()
                    _compare(ec, c, mode, dict(bindings), trial)
                    trials.append(trial)
            if trials:  # the closest candidate: the one with the fewest problems
                best = min(trials, key=lambda tr: len(tr.problems))
                hint = f" (closest: {'; '.join(best.problems[:3])})"
            out.fail(f"{ec.path}: not found in the answer{hint}")
