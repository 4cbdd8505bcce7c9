"""The broker compiles only what the messages it serves can reach of the official schemas
(broker.stuf.schema_pruning, issue 9: memory and start-up). What stays must judge every served message
exactly as the whole official set does, valid or not; the cut-down sets are kept beside the installed
set, bound to it and to what is served."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from broker.config import DEFAULT_XSD_DIR, MANIFEST
from broker.runtime import SERVED
from broker.stuf import ns, schema_pruning, soap, xsd_cache
from broker.stuf import schemas as schemas_module
from broker.stuf.schemas import SERVED_SCHEMAS, SchemaFiles, SchemaSet, compile_schema, prepare_set

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ZKN_BG = "zkn0310_msg_totaal+bg0310_msg_totaal"
SETS = ("zds0120_msg_totaal", ZKN_BG, "stuf0301")  # StUF-BG is compiled with StUF-ZKN (COMPILED_WITH)


@pytest.fixture(scope="module")
def served() -> SchemaSet:
    return SchemaSet(DEFAULT_XSD_DIR, served=SERVED)


def _messages() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.xml"))


def _body(path: Path) -> etree._Element:
    data = path.read_bytes()
    return soap.parse_request(data, "text/xml", None).body_element


def _variants(body: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    """The message as it is, and wrong in several ways: an element left out, an element too many, a
    value of the wrong shape, at each of its first elements."""
    yield "as is", body
    elements = [el for el in body.iter(etree.Element) if el is not body][:25]
    for i, el in enumerate(elements):
        where = body.getroottree().getpath(el)
        dropped = copy.deepcopy(body)
        target = [e for e in dropped.iter(etree.Element) if e is not dropped][i]
        target.getparent().remove(target)
        yield f"without {where}", dropped
        extra = copy.deepcopy(body)
        target = [e for e in extra.iter(etree.Element) if e is not extra][i]
        target.addnext(etree.Element(ns.q(ns.namespace(target.tag), "onbekend")))
        yield f"an unknown element after {where}", extra
        if len(el) == 0:
            wrong = copy.deepcopy(body)
            target = [e for e in wrong.iter(etree.Element) if e is not wrong][i]
            target.text = "2019-13-45T99"
            yield f"a wrong value in {where}", wrong


@pytest.fixture(scope="module")
def official() -> dict[str, etree.XMLSchema]:
    """Each official top-level schema compiled whole and on its own."""
    return {namespace: compile_schema(DEFAULT_XSD_DIR / rel, DEFAULT_XSD_DIR)
            for namespace, rel in SERVED_SCHEMAS.items()}


def _judged(schema: etree.XMLSchema, element: etree._Element) -> list[tuple[int, str]]:
    schema.validate(element)
    return [(e.line, e.message) for e in schema.error_log]


@pytest.mark.parametrize("path", _messages(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_served_message_is_judged_as_the_whole_official_set_judges_it(
        path: Path, served: SchemaSet, official: dict[str, etree.XMLSchema]) -> None:
    body = _body(path)
    namespace = ns.namespace(body.tag)
    schema = served.schema_for(namespace)
    assert schema is not None
    judged = 0
    for what, variant in _variants(body):
        assert _judged(schema, variant) == _judged(official[namespace], variant), what
        judged += 1
    assert judged > 20


def test_most_of_stuf_bg_is_left_out_and_the_served_person_messages_stay(schemas: SchemaSet) -> None:
    top = DEFAULT_XSD_DIR / SERVED_SCHEMAS[ns.BG]
    texts = prepare_set(top, DEFAULT_XSD_DIR, SchemaFiles()).texts
    documents = [etree.fromstring(text) for text in texts.values()]

    def declared() -> list[str]:
        return [str(el.get("name")) for doc in documents if doc.get("targetNamespace") == ns.BG
                for el in doc.iterchildren(etree.Element) if el.get("name")]

    before = declared()
    schema_pruning.prune(documents, SERVED)
    kept = declared()
    assert len(kept) < len(before) * 0.25
    assert {"npsLv01", "npsLa01", "npsLk01"} <= set(kept)
    assert not set(kept) & {"aoaLv01", "vboLa01", "wplLk01"}  # addresses and BAG objects are not served


def test_a_message_the_broker_does_not_serve_is_not_declared(served: SchemaSet, schemas: SchemaSet) -> None:
    """The intake refuses such a message before it validates (StUF025); were it validated, the cut-down
    set would not know it."""
    question = _body(FIXTURES / "bg" / "npsLv01.bsn.xml")
    question.tag = ns.q(ns.BG, "aoaLv01")
    for child in question:
        child.tag = ns.q(ns.BG, ns.local(child.tag))
    assert any("No matching global declaration" in str(issue) for issue in served.issues(question))
    assert not any("No matching global declaration" in str(issue) for issue in schemas.issues(question))


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    target = tmp_path / "installed"
    shutil.copytree(DEFAULT_XSD_DIR, target, ignore=shutil.ignore_patterns(".broker-cache*"))
    return target


def _forbid_pruning(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the schemas were cut down again although a kept set was there")

    monkeypatch.setattr("broker.stuf.schemas.pruned_texts", refuse)


def test_the_cut_down_sets_are_kept_beside_the_installed_set_and_read_back(
        installed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = SchemaSet(installed, manifest=MANIFEST, served=SERVED)
    kept = sorted(p.name for p in installed.glob(".broker-cache-*.zip"))
    assert kept == sorted(f".broker-cache-{name}.zip" for name in SETS)
    assert set(first.compile_seconds) == set(SETS)
    assert first.schemas[ns.BG] is first.schemas[ns.ZKN]  # compiled together
    _forbid_pruning(monkeypatch)
    again = SchemaSet(installed, manifest=MANIFEST, served=SERVED)
    body = _body(FIXTURES / "bg" / "npsLv01.bsn.xml")
    assert again.issues(body) == first.issues(body) == []


def test_a_kept_set_for_other_messages_or_a_damaged_one_is_derived_again(
        installed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    SchemaSet(installed, manifest=MANIFEST, served=SERVED)
    fewer = dict(SERVED, **{ns.BG: frozenset({"npsLv01", "npsLa01"})})
    cut = []
    real = schemas_module.pruned_texts

    def counting(texts: dict[Path, bytes], what: schema_pruning.Served) -> dict[Path, bytes]:
        cut.append(what)
        return real(texts, what)

    monkeypatch.setattr("broker.stuf.schemas.pruned_texts", counting)
    changed = SchemaSet(installed, manifest=MANIFEST, served=fewer)
    assert len(cut) == len(SETS)  # every set again: what is served is part of its key
    lk01 = _body(FIXTURES / "bg" / "npsLk01.xml")
    assert changed.issues(lk01)  # npsLk01 is not served by this set
    (installed / f".broker-cache-{ZKN_BG}.zip").write_bytes(b"not a zip")
    cut.clear()
    SchemaSet(installed, manifest=MANIFEST, served=fewer)
    assert len(cut) == 1
    assert xsd_cache.read_set(installed, MANIFEST, ZKN_BG, "another key") is None


def _schema(namespace: str, body: str) -> etree._Element:
    return etree.fromstring(
        f'<xs:schema xmlns:xs="{ns.XS}" xmlns:t="urn:t" xmlns:g="urn:g" xmlns:StUF="{ns.STUF}" '
        f'targetNamespace="{namespace}">{body}</xs:schema>')


def test_what_a_served_element_reaches_stays_and_nothing_else() -> None:
    """The rules of broker.stuf.schema_pruning on a small set: types, bases, unions, groups, attribute
    references, the members of a substitution group reached, and the StUF namespace's elements."""
    served_ns = _schema("urn:t", """
        <xs:element name="msgLv01" type="t:Msg"/>
        <xs:element name="msgLv02" type="t:Unused"/>
        <xs:complexType name="Msg"><xs:complexContent><xs:extension base="t:Base"><xs:sequence>
            <xs:element name="code" type="t:Code"/><xs:group ref="t:Extra"/><xs:element ref="g:_Shape"/>
          </xs:sequence><xs:attributeGroup ref="t:Attrs"/></xs:extension></xs:complexContent></xs:complexType>
        <xs:complexType name="Base"><xs:sequence/></xs:complexType>
        <xs:complexType name="Unused"><xs:sequence/></xs:complexType>
        <xs:simpleType name="Code"><xs:union memberTypes="t:A t:B"/></xs:simpleType>
        <xs:simpleType name="A"><xs:restriction base="xs:string"/></xs:simpleType>
        <xs:simpleType name="B"><xs:restriction base="xs:int"/></xs:simpleType>
        <xs:group name="Extra"><xs:sequence><xs:element name="x" type="xs:string"/></xs:sequence></xs:group>
        <xs:attributeGroup name="Attrs"><xs:attribute ref="xml:lang"/><xs:attribute ref="StUF:a"/></xs:attributeGroup>
    """)
    other_ns = _schema("urn:g", """
        <xs:element name="_Shape" abstract="true" type="g:ShapeType"/>
        <xs:element name="Point" substitutionGroup="g:_Shape" type="g:PointType"/>
        <xs:element name="Lonely" type="g:ShapeType"/>
        <xs:complexType name="ShapeType"/>
        <xs:complexType name="PointType"><xs:complexContent><xs:extension base="g:ShapeType"/></xs:complexContent></xs:complexType>
        <xs:complexType name="Unreached"/>
    """)
    stuf = _schema(ns.STUF, """
        <xs:element name="anyStufElement" type="StUF:Used"/>
        <xs:attribute name="a" type="xs:string"/>
        <xs:complexType name="Used"/>
        <xs:complexType name="ParametersOfSomethingElse"/>
    """)
    schema_pruning.prune([served_ns, other_ns, stuf], {"urn:t": frozenset({"msgLv01"})})

    def names(doc: etree._Element) -> set[str]:
        return {str(el.get("name")) for el in doc.iterchildren(etree.Element)}

    assert names(served_ns) == {"msgLv01", "Msg", "Base", "Code", "A", "B", "Extra", "Attrs"}
    assert names(other_ns) == {"_Shape", "Point", "ShapeType", "PointType"}
    assert names(stuf) == {"anyStufElement", "a", "Used"}
