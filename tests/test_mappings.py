"""The mapping files: a published JSON Schema, ``stuf-broker mappings check`` with file:line and
"did you mean", and ``stuf-broker mappings preview`` showing the case model and the API requests
without touching the network."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from broker.cli import main
from broker.mappings.schema import json_schema
from tests.support import live
from tests.support import zgw_messages as zm

REPO = live.REPO
SCHEMA_FILE = REPO / "docs" / "mappings.schema.json"


def _cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A copy of the default configuration directory, mappings included."""
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def _line(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if fragment in line)


# -- the published schema ----------------------------------------------------------------------
def test_the_published_json_schema_is_up_to_date() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json_schema(), (
        "docs/mappings.schema.json is stale: run `stuf-broker mappings schema --write`")


def test_the_example_mappings_conform_to_the_published_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    files = sorted((REPO / "config" / "mappings").glob("*.yaml"))
    assert [f.name for f in files] == ["omv.yaml", "shv.yaml"]
    for path in files:
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_the_schema_command_prints_it() -> None:
    result = _cli("mappings", "schema")
    assert result.exit_code == 0 and json.loads(result.output) == json_schema()


# -- check -------------------------------------------------------------------------------------
def test_check_accepts_the_default_configuration(config: Path) -> None:
    result = _cli("mappings", "check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "; 2 mapping file(s) (zaaktypen: OMV, SHV);" in result.output.splitlines()[0]


def test_check_reports_every_problem_with_file_line_and_a_suggestion(config: Path) -> None:
    shv = config / "mappings" / "shv.yaml"
    text = shv.read_text()
    text = text.replace("    statustypen:", "    statustypes:", 1)
    text = text.replace("vertrouwelijkheidaanduiding: vertrouwelijk", "vertrouwelijkheidaanduiding: vertrouwlijk")
    text = text.replace("    taal: nld ", "    tall: nld ")
    text = text.replace("      heeftAlsUitvoerende:", "      heeftAlsUitvoerder:")
    shv.write_text(text)
    omv = config / "mappings" / "omv.yaml"
    omv.write_text(omv.read_text().replace("      OMV-3: Besluit genomen", "      OMV-9: Besluit genomen"))
    result = _cli("mappings", "check", "--config", str(config))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    expected = [
        (shv, "statustypes:", "unknown setting", "'statustypen'"),
        (shv, "vertrouwlijk", "vertrouwelijkheidaanduiding", "'vertrouwelijk'"),
        (shv, "tall: nld", "'tall' is not a field", "'taal'"),
        (shv, "heeftAlsUitvoerder", "not a StUF-ZKN rol", "'heeftAlsUitvoerende'"),
        (omv, "OMV-9", "status 'OMV-9' is not in the zaaktypecatalogus", "'OMV-3'"),
    ]
    for path, fragment, what, suggestion in expected:
        where = f"{path}:{_line(path, fragment)}: "
        found = [line for line in lines if line.startswith(where) and what in line]
        assert found, f"no {what!r} at {where} in:\n{result.output}"
        assert f"(did you mean {suggestion}?)" in found[0], found[0]
    assert result.output.splitlines()[-1] == f"5 problem(s) in {config}"


def test_check_finds_a_zaaktype_mapped_in_two_files(config: Path) -> None:
    shv, omv = config / "mappings" / "shv.yaml", config / "mappings" / "omv.yaml"
    omv.write_text(omv.read_text() + "  SHV:\n    zaaktype: SHV\n")
    result = _cli("mappings", "check", "--config", str(config))
    assert result.exit_code == 1
    (twice,) = [line for line in result.output.splitlines() if "zaaktype SHV is mapped in" in line]
    # files are read in name order: the later one is told where the zaaktype is mapped already
    assert twice.startswith(f"{shv}:{_line(shv, '  SHV:')}: ") and f"{omv}:{_line(omv, '  SHV:')}" in twice


def test_check_reports_yaml_errors_with_their_line(config: Path) -> None:
    bad = config / "mappings" / "kapot.yaml"
    bad.write_text("zaaktypen:\n  SHV: [niet afgesloten\n")
    result = _cli("mappings", "check", "--config", str(config))
    assert result.exit_code == 1 and f"{bad}:" in result.output and "not valid YAML" in result.output


# -- preview -----------------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not even loopback: a preview sends nothing anywhere."""
    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"the preview connected to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def test_preview_prints_the_case_model_and_the_requests_without_network(config: Path, tmp_path: Path,
                                                                        no_network: None) -> None:
    message = tmp_path / "creeer.xml"
    message.write_text(zm.creeer_zaak("1234PREV0001"), encoding="utf-8")
    result = _cli("mappings", "preview", str(message), "--config", str(config))
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["operation"] == "creeerZaak" and shown["answer"] == "Bv03Bericht"
    assert shown["case_model"]["zaak"]["identificatie"] == "1234PREV0001"
    writes = [(r["method"], r["url"].split("/api/v1/")[1]) for r in shown["requests"] if r["method"] != "GET"]
    assert writes == [("POST", "zaken")] + [("POST", "rollen")] * 4 + [("POST", "zaakobjecten"), ("POST", "statussen")]
    zaak = next(r for r in shown["requests"] if r["method"] == "POST")
    assert zaak["json"]["identificatie"] == "1234PREV0001" and zaak["json"]["bronorganisatie"] == "002220647"
    assert zaak["json"]["vertrouwelijkheidaanduiding"] == "vertrouwelijk"
    assert zaak["headers"]["Authorization"] == "Bearer …" and zaak["headers"]["Content-Crs"] == "EPSG:4326"


def test_preview_of_an_eindstatus_shows_the_resultaat_first(config: Path, tmp_path: Path, no_network: None) -> None:
    message = tmp_path / "status.xml"
    message.write_text(zm.actualiseer_zaakstatus("1234PREV0001", zm.heeft("SHV-4", "Zaak afgerond", "4")))
    result = _cli("mappings", "preview", str(message), "--config", str(config))
    assert result.exit_code == 0, result.output
    writes = [r["url"].rsplit("/", 1)[1] for r in json.loads(result.output)["requests"] if r["method"] == "POST"]
    assert writes == ["resultaten", "statussen"]


def test_preview_says_what_is_wrong_with_an_invalid_message(config: Path, tmp_path: Path) -> None:
    message = tmp_path / "kapot.xml"
    message.write_text(zm.creeer_zaak("1234PREV0001").replace("<ZKN:omschrijving>Aanvraag", "<ZKN:onbekend>x</ZKN:onbekend><ZKN:omschrijving>Aanvraag"))
    result = CliRunner().invoke(main, ["mappings", "preview", str(message), "--config", str(config)])
    assert result.exit_code == 1 and "StUF055" in result.output
