"""The configuration mistakes a new user makes get a clear answer at the right line, in the user's terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.config import load_settings
from broker.errors import ConfigError
from broker.mappings.store import build, read_files
from tests.support import live

REPO = Path(__file__).resolve().parent.parent


def _problems(config: Path) -> str:
    with pytest.raises(ConfigError) as err:
        load_settings(config, env={})
    return str(err.value)


def _broker_yaml(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "broker.yaml").write_text(text)
    return config


@pytest.mark.parametrize("url", ["postgres://broker:pw@db.example.org:5432/broker",
                                 "postgresql://broker:pw@db.example.org:5432/broker"])
def test_a_postgres_url_without_driver_is_taken_as_postgresql_with_psycopg(tmp_path: Path, url: str) -> None:
    settings = load_settings(_broker_yaml(tmp_path, f"database_url: {url}\n"), env={})
    assert settings.database_url == "postgresql+psycopg://broker:pw@db.example.org:5432/broker"
    env_settings = load_settings(tmp_path / "config", env={"STUF_BROKER_DATABASE_URL": url})
    assert env_settings.database_url.startswith("postgresql+psycopg://")


def test_an_unknown_database_kind_is_refused_at_its_line(tmp_path: Path) -> None:
    text = _problems(_broker_yaml(tmp_path, "gemeentecode: '1234'\ndatabase_url: mysql://x@y/z\n"))
    assert "broker.yaml:2: database_url: 'mysql' is not a database the broker can use" in text
    assert "postgresql://USER:PASSWORD@HOST:5432/DATABASE" in text
    assert "Traceback" not in text


def test_log_format_text_is_refused_with_the_allowed_values(tmp_path: Path) -> None:
    text = _problems(_broker_yaml(tmp_path, "log_format: text\n"))
    assert "broker.yaml:1: log_format: 'text' is not allowed; allowed: auto, json, console" in text


@pytest.mark.parametrize(("written", "shown"), [("0123", "83"), ("1234", "1234")])
def test_an_unquoted_gemeentecode_gets_the_hint_to_quote_it(tmp_path: Path, written: str, shown: str) -> None:
    text = _problems(_broker_yaml(tmp_path, f"identity:\n  applicatie: X\ngemeentecode: {written}\n"))
    assert f"broker.yaml:3: gemeentecode: {written} without quotes is a number to YAML (it reads {shown}" in text
    assert f'write it in quotes: "{written}"' in text
    assert ("drops its leading zero" in text) == written.startswith("0")


@pytest.mark.parametrize(("yaml_text", "line", "says"), [
    ('gemeentecode: "1234"\nidentity\n  organisatie: "1234"\nlog_format: json\n', 2, "'identity' has no ':'"),
    ('log_format: json\ngemeentecode: "1234\nidentity:\n  applicatie: X\n', 2, "not closed"),
    ("server: {host: x, port: 1\nlog_format: json\n", 1, "'[' or '{' opens here"),
    ("limits:\n  max_body_bytes 5\n  max_document_bytes: 4\n", 2, "'max_body_bytes 5' has no ':'"),
    ("server:\n\tport: 8080\n", 2, "a tab character"),
])
def test_a_yaml_syntax_error_is_reported_at_the_line_of_the_mistake(tmp_path: Path, yaml_text: str, line: int,
                                                                   says: str) -> None:
    text = _problems(_broker_yaml(tmp_path, yaml_text))
    assert f"broker.yaml:{line}: not valid YAML: " in text and says in text


def test_no_error_names_a_class_of_the_broker(tmp_path: Path) -> None:
    text = _problems(_broker_yaml(tmp_path, 'ontvangers: ["1234"]\nidentity: STUFBROKER\nlimits: 5\n'))
    for internal in ("SystemId", "Limits", "instance of"):
        assert internal not in text
    assert ("broker.yaml:1: ontvangers.0: expected a mapping (key: value) with the keys organisatie, applicatie, "
            "administratie, gebruiker, found a text") in text
    assert "broker.yaml:2: identity: expected a mapping (key: value)" in text
    assert "broker.yaml:3: limits: expected a mapping (key: value) with the keys max_body_bytes" in text


def _build(tmp_path: Path, changes: dict[str, tuple[str, str]]) -> str:
    tmp_path.mkdir(exist_ok=True)
    config = live.config_with(tmp_path)
    (config / "mappings").mkdir()
    for f in (REPO / "config" / "mappings").iterdir():
        (config / "mappings" / f.name).write_bytes(f.read_bytes())
    texts = read_files(config)
    for name, (old, new) in changes.items():
        assert old in texts[name]
        texts[name] = texts[name].replace(old, new)
    with pytest.raises(ConfigError) as err:
        build(texts, config)
    return str(err.value)


def test_a_generic_roltype_in_the_wrong_case_is_refused_with_the_allowed_values(tmp_path: Path) -> None:
    text = _build(tmp_path, {"zaaktypecatalogus.yaml": ("generiek: Behandelaar}", "generiek: Behandelaars}")})
    assert ("zaaktypecatalogus.yaml:15: zaaktypen.0.roltypen.1.generiek: 'Behandelaars' is not allowed; allowed: "
            "Adviseur, Behandelaar,") in text
    assert "(did you mean 'Behandelaar'?)" in text
    lower = _build(tmp_path / "b", {"zaaktypecatalogus.yaml": ("generiek: Initiator}", "generiek: initiator}")})
    assert "'initiator' is not allowed" in lower and "(did you mean 'Initiator'?)" in lower


def test_an_rsin_that_fails_the_11_proof_is_refused(tmp_path: Path) -> None:
    text = _build(tmp_path, {"mappings/shv.yaml": ('"002220647"', '"002220648"')})
    assert "mappings/shv.yaml:8: gemeenten.1234: RSIN 002220648 fails the 11-proof (elfproef)" in text


def test_every_catalogue_typo_is_reported_at_once(tmp_path: Path) -> None:
    config = live.config_with(tmp_path)
    text = (config / "zaaktypecatalogus.yaml").read_text()
    text = (text.replace("omschrijving: Aanmelding ontvangen", "omschrijvng: Aanmelding ontvangen")
            .replace("{omschrijving: Bouwtekening}", "{omschrijving: Bouwtekening, cod: X}")
            .replace("generiek: Behandelaar}", "generiek: Behandelaars}"))
    with pytest.raises(ConfigError) as err:
        build({"zaaktypecatalogus.yaml": text}, config)
    lines = [p.line for p in err.value.problems]
    assert {9, 15, 27} <= set(lines), err.value
