"""The compiled XPaths on the intake's and the drain's path find elements through the attribute axis
(``*/@a/parent::*``), which costs libxml2 a third of a predicate ``*[@a]`` on every element: over every
message at hand (the fixtures and the StUF Testplatform's templates) they find exactly what the
predicate form finds, in the same order."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from broker.intake.rules import base, novalue
from broker.stuf import ns
from broker.zds import xmlutil

ROOT = Path(__file__).resolve().parents[1]
STP = ROOT.parent / "shared" / "stuf-testplatform"
MESSAGES = sorted([*(ROOT / "fixtures").rglob("*.xml"), *STP.rglob("*.xml")])
_NS = {"StUF": ns.STUF}

#: the predicate form of each, as it was written before
PREDICATE_FORMS = {
    "novalue": (novalue._MARKED, etree.XPath("descendant::*[@StUF:noValue][node()]", namespaces=_NS)),
    "verwerkingssoort": (xmlutil._WITH_VERWERKINGSSOORT,
                         etree.XPath("descendant-or-self::*[@StUF:verwerkingssoort]", namespaces=_NS)),
    "relations": (base._RELATIONS, etree.XPath(
        "*[@StUF:entiteittype][not(local-name() = 'gerelateerde' and namespace-uri())]", namespaces=_NS)),
}


def test_there_are_messages_to_compare() -> None:
    assert len(MESSAGES) >= 40


@pytest.mark.parametrize("name", sorted(PREDICATE_FORMS))
def test_the_attribute_axis_finds_what_the_predicate_found(name: str) -> None:
    new, old = PREDICATE_FORMS[name]
    found = 0
    for path in MESSAGES:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        for el in root.iter("*"):  # every element as the context, as the rules use them
            got, expected = new(el), old(el)
            assert got == expected, f"{path.name}, {el.tag}"
            found += len(got)
    assert found > 0
