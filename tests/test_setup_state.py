"""scripts/setup skips pip and the schema install on a checkout that is set up (so scripts/run serves
within seconds) and runs them again when pyproject.toml, the Python or the schema manifest changes."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("setup_state", REPO / "scripts" / "setup_state.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


state = _load()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / "xsd").mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(REPO / "xsd" / "MANIFEST.sha256", root / "xsd" / "MANIFEST.sha256")
    return root


def _venv(root: Path) -> None:
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").write_text("")


def test_a_fresh_checkout_needs_both_steps(checkout: Path) -> None:
    assert state.pip_needed(checkout, test=False)
    assert state.xsd_needed(checkout)


def test_pip_is_skipped_after_an_install_from_the_same_pyproject_and_python(checkout: Path) -> None:
    _venv(checkout)
    assert state.pip_needed(checkout, test=False), "a virtualenv without a stamp was never installed into"
    state.record(checkout, "pip", test=False)
    assert not state.pip_needed(checkout, test=False)


def test_pip_runs_again_when_pyproject_or_the_python_changes(checkout: Path) -> None:
    _venv(checkout)
    state.record(checkout, "pip", test=False)
    assert state.pip_needed(checkout, test=False, python_version="3.99.0")
    with (checkout / "pyproject.toml").open("a") as f:
        f.write("\n# a new dependency\n")
    assert state.pip_needed(checkout, test=False)


def test_the_test_extra_is_installed_when_asked_and_serves_a_plain_run(checkout: Path) -> None:
    _venv(checkout)
    state.record(checkout, "pip", test=False)
    assert state.pip_needed(checkout, test=True)
    state.record(checkout, "pip", test=True)
    assert not state.pip_needed(checkout, test=True)
    assert not state.pip_needed(checkout, test=False)


def test_a_removed_virtualenv_or_a_damaged_stamp_means_install(checkout: Path) -> None:
    _venv(checkout)
    state.record(checkout, "pip", test=False)
    (checkout / ".venv" / ".setup-stamp").write_text("{not json")
    assert state.pip_needed(checkout, test=False)
    shutil.rmtree(checkout / ".venv")
    assert state.pip_needed(checkout, test=False)


def test_the_schemas_are_installed_again_only_when_the_manifest_changes(checkout: Path) -> None:
    (checkout / "xsd" / "installed").mkdir()
    assert state.xsd_needed(checkout)
    state.record(checkout, "xsd", test=False)
    assert not state.xsd_needed(checkout)
    with (checkout / "xsd" / "MANIFEST.sha256").open("a") as f:
        f.write("# another schema version\n")
    assert state.xsd_needed(checkout)

