"""One rule for where every command finds its configuration and its data, wherever it is run from;
a command never creates a database where none was (only serve, worker and db upgrade do)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.cli import main
from broker.config import DEFAULT_CONFIG_DIR, load_settings

REPO = Path(__file__).resolve().parent.parent

ZGW_ROUTES = """\
targets:
  openzaak:
    adapter: zgw
    zaken_url: https://oz.example.org/zaken/api/v1
    catalogi_url: https://oz.example.org/catalogi/api/v1
    documenten_url: https://oz.example.org/documenten/api/v1
    besluiten_url: https://oz.example.org/besluiten/api/v1
    client_id: broker
    secret_env: OPENZAAK_SECRET_NOT_SET
routes:
  - {operations: ["*"], deliver: [{target: openzaak}]}
"""


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory that is not the checkout, and no location in the environment."""
    for name in ("STUF_BROKER_CONFIG", "STUF_BROKER_DATA_DIR", "STUF_BROKER_DATABASE_URL", "OPENZAAK_SECRET_NOT_SET"):
        monkeypatch.delenv(name, raising=False)
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A configuration directory with a relative data_dir: ../data, beside it."""
    target = tmp_path / "site" / "config"
    shutil.copytree(REPO / "config", target)
    broker_yaml = target / "broker.yaml"
    broker_yaml.write_text(broker_yaml.read_text().replace("data_dir: ../var", "data_dir: ../data"))
    return target


def _cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_relative_paths_follow_the_configuration_directory_not_the_working_directory(elsewhere: Path,
                                                                                    config: Path) -> None:
    settings = load_settings(config, env={})
    assert settings.data_dir == config.parent / "data"
    assert settings.database_url == f"sqlite:///{config.parent / 'data' / 'broker.db'}"
    default = load_settings(env={})
    assert default.config_dir == DEFAULT_CONFIG_DIR and default.data_dir == REPO / "var"
    assert default.database_url == f"sqlite:///{REPO / 'var' / 'broker.db'}"
    assert load_settings(env={"STUF_BROKER_CONFIG": str(config)}).config_dir == config


def test_stuf_broker_data_dir_moves_the_sqlite_database(elsewhere: Path, config: Path, tmp_path: Path) -> None:
    settings = load_settings(config, env={"STUF_BROKER_DATA_DIR": str(tmp_path / "other")})
    assert settings.data_dir == tmp_path / "other"
    assert settings.database_url == f"sqlite:///{tmp_path / 'other' / 'broker.db'}"
    relative = load_settings(config, env={"STUF_BROKER_DATA_DIR": "here"})  # relative to the working directory
    assert relative.database_url == f"sqlite:///{elsewhere / 'here' / 'broker.db'}"


@pytest.mark.parametrize("command", [["users", "list"], ["queue", "status"], ["mappings", "history", "mappings/shv.yaml"],
                                     ["afnemers", "list"]])
def test_a_command_without_a_database_says_where_it_looked_and_creates_none(elsewhere: Path, config: Path,
                                                                           command: list[str]) -> None:
    result = _cli(*command, "--config", str(config))
    assert result.exit_code == 2
    assert f"no database at {config.parent / 'data' / 'broker.db'}" in result.output
    assert f"configuration {config}" in result.output and "stuf-broker db upgrade" in result.output
    assert not (config.parent / "data" / "broker.db").exists() and list(elsewhere.iterdir()) == []


def test_db_upgrade_creates_it_and_every_command_then_finds_it_from_anywhere(elsewhere: Path, config: Path,
                                                                              tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cli("db", "upgrade", "--config", str(config)).exit_code == 0
    assert (config.parent / "data" / "broker.db").is_file()
    added = CliRunner().invoke(
        main, ["users", "add", "ada", "--role", "administrator", "--password-stdin", "--config", str(config)],
        input="correct horse battery staple 7\n", catch_exceptions=False)
    assert added.exit_code == 0, added.output
    other = tmp_path / "other-cwd"
    other.mkdir()
    monkeypatch.chdir(other)
    listed = _cli("users", "list", env={"STUF_BROKER_CONFIG": str(config)})  # the same rule through the environment
    assert listed.exit_code == 0 and listed.output.startswith("ada")
    assert list(other.iterdir()) == []


def test_queue_commands_run_without_the_open_zaak_secret(elsewhere: Path, config: Path) -> None:
    (config / "routes.yaml").write_text(ZGW_ROUTES)
    assert _cli("db", "upgrade", "--config", str(config)).exit_code == 0
    status = _cli("queue", "status", "--config", str(config))
    assert status.exit_code == 0, status.output
    assert _cli("queue", "list", "--state", "dead", "--config", str(config)).exit_code == 0
    assert "0 deliveries queued again" in _cli("queue", "retry", "--state", "dead", "--config", str(config)).output
