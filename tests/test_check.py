"""``stuf-broker check``: every configuration file at once, every problem as file:line with a suggestion,
exit 1 on any; ``mappings check`` is the same command, so it sees routes.yaml too."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.cli import main

REPO = Path(__file__).resolve().parent.parent

ROUTES = """\
targets:
  zaaksysteem: {adapter: embedded}
  archief: {adapter: stuf, url: "https://archief.example.org/zds", timout: 10}
  openzaak:
    adapter: zgw
    zaken_url: https://oz.example.org/zaken/api/v1
    catalogi_url: https://oz.example.org/catalogi/api/v1
    documenten_url: https://oz.example.org/documenten/api/v1
    besluiten_url: https://oz.example.org/besluiten/api/v1
    client_id: broker
    secret: geheim
routes:
  - operations: [creeerZaak]
    zenders: [PERSPECTIEF]
    deliver:
      - {target: zaaksysteem, mode: sync}
      - {target: archief, mode: queud}
  - operations: ["*"]
    deliver: [{target: zaaksysteme}]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def _check(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_default_configuration_is_ok_and_the_routes_are_shown_with_their_zenders(config: Path) -> None:
    (config / "routes.yaml").write_text(ROUTES.replace(", timout: 10", "").replace("queud", "queued")
                                        .replace("zaaksysteme}", "zaaksysteem}"))
    result = _check("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    first, *table = result.output.splitlines()
    assert first.startswith(f"ok: {config}: broker.yaml; zaaktypecatalogus.yaml (2 zaaktypen); 2 mapping file(s)")
    assert re.search(r"routes.yaml \(\d+ target\(s\), \d+ route\(s\)\)", first)
    assert table[1].split() == ["#", "operations", "zenders", "zaaktypen", "deliver", "to"]
    assert table[2].split() == ["1", "creeerZaak", "PERSPECTIEF", "any", "zaaksysteem", "(sync),", "archief", "(queued)"]
    assert table[3].split() == ["2", "*", "any", "any", "zaaksysteem", "(sync)"]


@pytest.mark.parametrize("command", [["check"], ["mappings", "check"]])
def test_every_problem_of_every_file_is_reported_at_once(config: Path, command: list[str]) -> None:
    broker_yaml, routes = config / "broker.yaml", config / "routes.yaml"
    broker_yaml.write_text(broker_yaml.read_text().replace("log_format: auto", "log_format: text"))
    catalogus = config / "zaaktypecatalogus.yaml"
    catalogus.write_text(catalogus.read_text().replace("generiek: Behandelaar}", "generiek: Behandelaars}"))
    shv = config / "mappings" / "shv.yaml"
    shv.write_text(shv.read_text().replace("    roltypen:", "    roltype:"))
    routes.write_text(ROUTES)
    (config / "route.yaml").write_text("routes: []\n")
    applications = config / "applications.yaml"
    applications.write_text('applications:\n  - organisatie: "1234"\n    applicatie: FORMS\n'
                            "    authentication: {certificate: {subject: \"CN=forms.example\"}}\n"
                            "    operations: [creeerZaak, creerZaak]\n")
    result = _check(*command, "--config", str(config))
    assert result.exit_code == 1
    out = result.output
    assert f"{broker_yaml}:{_line(broker_yaml, 'log_format')}: log_format: 'text' is not allowed; allowed: auto, json, console" in out
    assert f"{catalogus}:{_line(catalogus, 'Behandelaars')}: " in out and "(did you mean 'Behandelaar'?)" in out
    assert f"{shv}:{_line(shv, 'roltype:')}: unknown setting 'zaaktypen.SHV.roltype'" in out
    assert (f"{routes}:{_line(routes, 'queud')}: routes.0.deliver.1.mode: 'queud' is not allowed; allowed: sync, "
            "queued (did you mean 'queued'?)") in out
    assert (f"{applications}:{_line(applications, 'creerZaak]')}: unknown operation 'creerZaak' "
            "(did you mean 'creeerZaak'?)") in out
    assert f"{config / 'route.yaml'}: not a file the broker reads" in out and "(did you mean 'routes.yaml'?)" in out
    assert "problem(s) in" in out


def test_an_unknown_target_and_a_bad_option_are_errors(config: Path) -> None:
    routes = config / "routes.yaml"
    routes.write_text(ROUTES.replace("queud", "queued"))
    result = _check("mappings", "check", "--config", str(config))
    assert result.exit_code == 1
    assert f"{routes}:{_line(routes, 'zaaksysteme}')}: unknown target 'zaaksysteme' (did you mean 'zaaksysteem'?)" \
        in result.output
    assert f"{routes}:{_line(routes, 'timout')}: target 'archief': unknown option 'timout' (did you mean 'timeout'?)" \
        in result.output


def test_a_zgw_target_whose_secret_is_not_in_the_environment_is_a_problem(config: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OZ_SECRET_FOR_CHECK", raising=False)
    routes = config / "routes.yaml"
    routes.write_text(ROUTES.replace("queud", "queued").replace("zaaksysteme}", "zaaksysteem}").replace(
        ", timout: 10", "").replace("secret: geheim", "secret_env: OZ_SECRET_FOR_CHECK"))
    result = _check("check", "--config", str(config))
    assert result.exit_code == 1
    assert "environment variable OZ_SECRET_FOR_CHECK (secret_env) is not set" in result.output
    assert f"{routes}:{_line(routes, 'secret_env')}:" in result.output
