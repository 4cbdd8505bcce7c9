"""A zaak read from a StUF message into the case model (broker.zds.read): its rollen are read when
first asked for, and everything that looks at the zaak sees them as if they had been read at once.
And a stored zaak's elements parsed back together as they would be one by one."""

from __future__ import annotations

import copy
import dataclasses
import threading
from pathlib import Path

import pytest
from lxml import etree

from broker.model import Zaak
from broker.model.case import ROLLEN
from broker.stuf import ns
from broker.zds import kennisgeving, read
from broker.zds.xmlutil import children
from tests.support import messages as m

ROOT = Path(__file__).resolve().parents[1]

UITVOERENDE = ('<ZKN:heeftAlsUitvoerende StUF:entiteittype="ZAKBTRUTV" StUF:verwerkingssoort="T">'
               '<ZKN:gerelateerde><ZKN:medewerker StUF:entiteittype="MDW" StUF:verwerkingssoort="I">'
               "<ZKN:identificatie>MDW-7</ZKN:identificatie><ZKN:achternaam>Jansen</ZKN:achternaam>"
               "</ZKN:medewerker></ZKN:gerelateerde><ZKN:rolOmschrijving>Behandelaar</ZKN:rolOmschrijving>"
               "</ZKN:heeftAlsUitvoerende>")


def _object(extra: str = UITVOERENDE) -> etree._Element:
    (obj,) = kennisgeving.objects(etree.fromstring(m.creeer_zaak("1234LAZY1", extra=extra).encode()), "T", "ZAK")
    return obj


def _eager(obj: etree._Element) -> Zaak:
    """The zaak with its rollen read at once, as the reader did before it deferred them."""
    zaak = read.zaak(obj)
    zaak.rollen = [read.rol(r) for r in children(obj) if ns.local(r.tag) in ROLLEN]
    return zaak


def test_the_rollen_are_read_when_asked_and_then_kept() -> None:
    zaak = read.zaak(_object())
    assert "rollen" not in vars(zaak)
    rollen = zaak.rollen
    assert [(r.relatie, r.betrokkene and r.betrokkene.type, r.rolomschrijving) for r in rollen] == [
        ("heeftAlsInitiator", "natuurlijkPersoon", None), ("heeftAlsUitvoerende", "medewerker", "Behandelaar")]
    assert rollen[0].betrokkene is not None and rollen[0].betrokkene.bsn == "111222333"
    assert zaak.rollen is rollen  # read once
    zaak.rollen.append(rollen[0])  # a list like any other, changed in place
    assert len(zaak.rollen) == 3


@pytest.mark.parametrize("look", ["equality", "to_dict", "copy", "deepcopy", "replace", "repr"])
def test_a_zaak_with_unread_rollen_looks_like_one_read_at_once(look: str) -> None:
    obj = _object()
    lazy, eager = read.zaak(obj), _eager(obj)
    if look == "equality":
        assert lazy == eager
    elif look == "to_dict":
        assert lazy.to_dict() == eager.to_dict() and len(lazy.to_dict()["rollen"]) == 2
    elif look == "copy":
        assert copy.copy(lazy).rollen == eager.rollen
    elif look == "deepcopy":
        copied = copy.deepcopy(lazy)
        assert copied.rollen == eager.rollen and copied.rollen[0].stuf is not lazy.rollen[0].stuf
    elif look == "replace":
        assert dataclasses.replace(lazy, omschrijving="anders").rollen == eager.rollen
    else:
        assert repr(lazy) == repr(eager)


def test_a_zaak_without_rollen_and_a_zaak_made_in_code_have_an_empty_list() -> None:
    assert read.zaak(_object(extra="")).rollen[1:] == []
    made = Zaak(identificatie="1234X")
    assert made.rollen == [] and "rollen" in vars(made)
    with pytest.raises(AttributeError, match="no attribute 'rolen'"):
        made.rolen  # type: ignore[attr-defined]  # noqa: B018  (a misspelt name is still an error)


def test_two_threads_asking_at_once_get_the_same_rollen() -> None:
    zaak = read.zaak(_object())
    start, got = threading.Barrier(8), []

    def ask() -> None:
        start.wait()
        got.append(zaak.rollen)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is got[0] for r in got) and len(got[0]) == 2


FRAGMENTS = [
    '<ZKN:heeftAlsInitiator xmlns:ZKN="http://www.egem.nl/StUF/sector/zkn/0310" '
    'xmlns:StUF="http://www.egem.nl/StUF/StUF0301"><!-- c --><ZKN:x>a &amp; b</ZKN:x></ZKN:heeftAlsInitiator>\n   ',
    '<q:heeftAlsUitvoerende xmlns:q="http://www.egem.nl/StUF/sector/zkn/0310"><q:y/>é</q:heeftAlsUitvoerende>',
    '<heeft xmlns="http://www.egem.nl/StUF/sector/zkn/0310"><datumStatusGezet>20260101</datumStatusGezet></heeft>',
]


@pytest.mark.parametrize("values", [FRAGMENTS, FRAGMENTS[:1], [], [FRAGMENTS[0], "<a/><b/>"],
                                    ['<?xml version="1.0"?><a/>', "<b/>"], ["text<a/>", "<b/>"],
                                    ["<a/>", "<b/>text"]])
def test_stored_elements_parsed_together_are_those_parsed_one_by_one(values: list[str]) -> None:
    """A zaak's stored rollen (and statussen) are parsed as one document (xmlutil.from_strings): each
    element with its own namespaces and no tail, as a parse of its own makes it; a text with a
    declaration, or with other than one element, is parsed apart (and refused as before)."""
    from broker.errors import StufError
    from broker.zds.xmlutil import from_string, from_strings

    try:
        one_by_one = [etree.tostring(from_string(v)) for v in values]
    except (etree.XMLSyntaxError, StufError) as exc:
        with pytest.raises(type(exc)):
            from_strings(values)
        return
    together = from_strings(values)
    assert [etree.tostring(el) for el in together] == one_by_one
    assert all(el.tail is None and el.nsmap == from_string(v).nsmap for el, v in zip(together, values, strict=True))


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "fixtures").rglob("creeerZaak*.xml")))
def test_a_new_zaaks_columns_from_the_case_model_are_those_its_entity_holds(name: str) -> None:
    """The embedded zaaksysteem takes a new zaak's columns (omschrijving, dates, zaaktype) from the case
    model, which read them from the entity it stores: the same values the stored entity holds."""
    from broker.adapters.embedded.zaken import ZakenMixin, _columns

    path = next((ROOT / "fixtures").rglob(name))
    body = next(etree.parse(str(path)).getroot().iter("{*}object")).getparent()
    (obj,) = kennisgeving.objects(body, "T", "ZAK")
    new = ZakenMixin._new_zaak(None, read.zaak(obj))  # type: ignore[arg-type]  # (uses no adapter state)
    stored = etree.fromstring(str(new.columns["stuf_xml"]))
    assert new.columns["omschrijving"] and new.columns["zaaktype_code"]
    assert new.columns == _columns(stored, None, None) | {"stuf_xml": new.columns["stuf_xml"]}
