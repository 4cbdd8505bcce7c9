"""fixtures/: every request is a complete SOAP envelope whose body is valid against the official schemas
(ZDS 1.2, StUF-ZKN 03.10, StUF-BG 03.10) and is the operation the manifest says (by its SOAPAction and by
its content alone); the manifest lists every file and covers every supported operation in ZDS 1.2, every
ZDS 1.1 shape the broker accepts, and every StUF-BG operation and person question."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from broker.bg import dispatch as bg_dispatch
from broker.bg.operations import BY_NAME as BG_BY_NAME
from broker.bg.operations import OPERATIONS as BG_OPERATIONS
from broker.stuf import ns, soap
from broker.zds import dispatch
from broker.zds.operations import BY_NAME, OPERATIONS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MANIFEST = yaml.safe_load((FIXTURES / "manifest.yaml").read_text(encoding="utf-8"))
FILES: dict[str, dict] = MANIFEST["files"]
PLACEHOLDERS: dict[str, str] = MANIFEST["placeholders"]


def test_the_manifest_lists_every_file_and_only_those() -> None:
    on_disk = {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.xml")}
    assert on_disk == set(FILES)


def test_every_supported_operation_has_a_zds_1_2_fixture_and_every_zds_1_1_shape_one() -> None:
    zds12 = {e["operation"] for e in FILES.values() if e["shape"].startswith("ZDS 1.2")}
    assert zds12 == {op.name for op in OPERATIONS if op.supported}
    zds11 = {(e["operation"], e["shape"].removeprefix("ZDS 1.1: ZKN:")) for e in FILES.values()
             if e["shape"].startswith("ZDS 1.1")}
    assert zds11 == {(op.name, el) for op in OPERATIONS if op.supported for el in op.zkn_elements}


#: the person questions the broker answers (broker.bg.read) -> the placeholders the fixture carries
BG_QUESTIONS = {"bsn": ("bsn",), "geslachtsnaam-geboortedatum": ("geslachtsnaam", "geboortedatum"),
                "postcode-huisnummer": ("postcode", "huisnummer")}


def test_every_stuf_bg_operation_and_person_question_has_a_fixture() -> None:
    bg = {name: e for name, e in FILES.items() if e["shape"].startswith("StUF-BG")}
    assert {e["operation"] for e in bg.values()} == {op.name for op in BG_OPERATIONS}
    assert {e["question"] for e in bg.values() if e["operation"] == "npsLv01"} == set(BG_QUESTIONS)
    assert all(name.startswith("bg/") for name in bg)


def test_every_entry_says_what_it_needs_and_creates() -> None:
    known = {"zaak", "document", "besluit", "checkout"}
    for name, entry in FILES.items():
        assert set(entry) >= {"operation", "shape", "soap_action", "endpoint", "answer", "needs", "creates"}, name
        assert set(entry["needs"]) | set(entry["creates"]) <= known, name
    assert MANIFEST["shared"], "the manifest says what the tests take from ../shared"


def test_what_the_manifest_says_the_tests_take_from_shared_names_files_that_exist() -> None:
    repo = FIXTURES.parent
    for entry in MANIFEST["shared"]:
        assert entry["take"].startswith("../shared/"), entry
        for user in entry["tests"]:
            path = user.split(" ")[0]
            assert list(repo.glob(path)), f"{path} (manifest: shared) does not exist"


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_fixture_is_a_valid_request_for_its_operation(schemas, name: str) -> None:
    entry = FILES[name]
    data = (FIXTURES / name).read_bytes()
    request = soap.parse_request(data, "text/xml; charset=utf-8", f'"{entry["soap_action"]}"')
    assert request.version == "1.1"
    body = request.body_element
    problems = schemas.issues(body)
    assert not problems, [str(p) for p in problems[:3]]

    if ns.namespace(body.tag) == ns.BG:
        operation, resolve, endpoint = BG_BY_NAME[entry["operation"].lower()], bg_dispatch.resolve, "/{}"
    else:
        operation, resolve, endpoint = BY_NAME[entry["operation"].lower()], dispatch.resolve, "/zds/{}"
    assert entry["endpoint"] == endpoint.format(operation.port)
    # (a ZDS 1.1 shape may resolve to the operation with its own stuurgegevens: Operation.as_sent_in)
    assert resolve(body, entry["soap_action"]).operation.name == operation.name
    assert resolve(body, None).operation.name == operation.name, "the content alone names the operation too"

    text = data.decode("utf-8")
    assert PLACEHOLDERS["referentienummer"] in text and PLACEHOLDERS["tijdstipBericht"] in text
    if entry["shape"].startswith("StUF-BG"):
        for key in BG_QUESTIONS.get(entry.get("question", ""), ("bsn",) if entry["operation"] == "npsLk01" else ()):
            assert f">{PLACEHOLDERS[key]}<" in text, f"{name} has no {key} placeholder"
    elif entry.get("question") == "bsn":  # the zaken of a person: its BTR identificatie
        assert f">11{PLACEHOLDERS['initiator']}<" in text, f"{name} has no initiator placeholder"
    elif entry["operation"] == "creeerZaak":
        assert f">{PLACEHOLDERS['initiator']}<" in text, f"{name} has no initiator placeholder"
    for thing in entry["needs"] + entry["creates"]:
        if thing != "checkout" or entry["operation"] != "geefZaakdocumentbewerken":
            assert PLACEHOLDERS[thing] in text, f"{name} has no {thing} placeholder"
