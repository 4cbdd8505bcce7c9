"""The documentation that must not drift: the configuration reference is generated from the models
(stale: run ``stuf-broker config reference --write``), every fault code the broker can answer is in
the troubleshooting page, the systemd units pass ``systemd-analyze verify``, the LICENSE is the EUPL; and
what issue 15 found missing: the README says what exists and how to use PostgreSQL, the deployment guide
covers every part of a production set-up, the design decisions say why lxml and no spyne and why
SQLite, zeep is only a test dependency."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from broker.admin.reference import REFERENCE_FILE, reference, rows
from broker.config import BrokerSettings
from broker.foutcodes import FOUTCODES

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def test_the_configuration_reference_is_up_to_date() -> None:
    assert REFERENCE_FILE.read_text(encoding="utf-8") == reference(), (
        "docs/configuration.md is stale: run `stuf-broker config reference --write` and commit it")


def test_the_reference_names_every_key_of_broker_yaml_with_its_meaning() -> None:
    keys = {key: text for key, _, _, text in rows(BrokerSettings)}
    assert {"gemeentecode", "database_url", "data_dir", "log_format", "server.tls.client_ca",
            "limits.max_body_bytes", "checks.invalid_answers"} <= set(keys)
    assert [k for k, text in keys.items() if not text] == []
    text = REFERENCE_FILE.read_text(encoding="utf-8")
    for heading in ("## broker.yaml", "## routes.yaml", "### Options of a `zgw` target", "## zaaktypecatalogus.yaml",
                    "## applications.yaml", "## mappings/*.yaml"):
        assert heading in text


def _codes_in_the_broker() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "broker").rglob("*.py"):
        found |= set(re.findall(r"""["'](StUF\d{3})["']""", path.read_text(encoding="utf-8")))
    return found


def test_every_fault_code_the_broker_can_answer_has_causes_and_fixes() -> None:
    page = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## (StUF\d{3})\n(.*?)(?=^## |\Z)", page, re.S | re.M))
    codes = set(FOUTCODES) | _codes_in_the_broker()
    assert sorted(codes - set(sections)) == [], "add these codes to docs/troubleshooting.md"
    for code, body in sections.items():
        assert "**Fix**" in body, f"{code}: no fix"


UNITS = sorted((REPO / "deploy").glob("*.service"))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_the_systemd_units_pass_systemd_analyze_verify(unit: Path, tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: point the unit at the virtualenv running the tests
    program = Path(sys.executable).with_name("stuf-broker")
    assert program.is_file()
    text = unit.read_text().replace("/opt/stuf-broker/.venv/bin/stuf-broker", str(program))
    text = text.replace("/opt/stuf-broker", str(REPO))
    assert f"ExecStart={program} " in text
    local = tmp_path / unit.name
    local.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    assert "ExecStartPre=/opt/stuf-broker/.venv/bin/stuf-broker check" in unit.read_text()


def test_the_licence_is_the_eupl_1_2_as_publiccode_yml_says() -> None:
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert licence.lstrip().startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2")
    assert "Compatible Licences" in licence and len(licence) > 13000
    assert re.search(r"^\s*license:\s*EUPL-1\.2\s*$", (REPO / "publiccode.yml").read_text(), re.M)


# -- what issue 15 found missing stays there ---------------------------------------------------------

def _sections(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    return {m.group(1): m.group(2) for m in re.finditer(r"^#+ ([^\n]+)\n(.*?)(?=^#+ |\Z)", text, re.S | re.M)}


def test_the_readme_says_what_exists_and_how_to_use_postgresql() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = readme.split("\n\n")[1]
    assert "later release" not in first
    for target in ("embedded zaaksysteem", "ZGW APIs (Open Zaak)", "StUF endpoints", "webhooks", "StUF-BG"):
        assert target in first, target
    postgres = next(p for p in readme.split("\n\n") if p.startswith("**PostgreSQL.**"))
    for setting in ("CREATE ROLE", "CREATE DATABASE", "database_url: postgresql://", "STUF_BROKER_DATABASE_URL",
                    "sslmode", "stuf-broker db upgrade", "max_connections", "docs/deployment.md"):
        assert setting in postgres, setting


def test_the_deployment_guide_covers_every_part_of_a_production_setup() -> None:
    sections = _sections(DOCS / "deployment.md")
    for heading, says in {"PostgreSQL": "STUF_BROKER_DATABASE_URL=postgresql://", "Several processes on several hosts": "worker",
                          "Shared document storage": "files", "TLS": "client_ca",
                          "systemd": "deploy/stuf-broker.service", "Upgrades": "db upgrade",
                          "The official schemas without `../shared`": "xsd install --from"}.items():
        assert heading in sections, heading
        assert says in sections[heading], f"{heading}: {says}"


def test_the_design_decisions_say_why_lxml_and_no_spyne_and_why_sqlite() -> None:
    sections = _sections(DOCS / "decisions.md")
    lxml = next(body for heading, body in sections.items() if "lxml" in heading)
    assert "spyne" in lxml and "zeep" in " ".join(sections)
    assert any("SQLite by default" in heading for heading in sections)


def test_zeep_is_a_test_dependency_that_the_broker_does_not_import() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [d for d in project["dependencies"] if d.startswith("zeep")]
    assert [d for d in project["optional-dependencies"]["test"] if d.startswith("zeep")]
    importing = [p for p in (REPO / "broker").rglob("*.py")
                 if re.search(r"^\s*(import zeep|from zeep)", p.read_text(encoding="utf-8"), re.M)]
    assert importing == []
