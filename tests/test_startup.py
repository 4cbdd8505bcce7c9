"""Start-up work that is done once and then skipped (issue 9): the installed set's cache file
(broker.stuf.xsd_cache) and the workers forked from the checked ``serve`` process. Nothing here is
timed; each test asserts that the work is skipped, or done again when it must be."""

from __future__ import annotations

import gzip
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from broker import runtime
from broker.adapters import personen_register
from broker.adapters.person_target import PersonenTarget
from broker.config import DEFAULT_XSD_DIR, MANIFEST, Settings
from broker.errors import SchemaError
from broker.stuf import datums, ns, xsd_cache, xsd_install
from broker.stuf.schemas import SchemaSet
from tests.support import live


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A copy of the installed set without a cache file."""
    target = tmp_path / "installed"
    shutil.copytree(DEFAULT_XSD_DIR, target, ignore=shutil.ignore_patterns(".broker-cache*"))
    return target


def _forbid(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError(f"{target} was called, the cache file should have made it unnecessary")

    monkeypatch.setattr(target, refuse)


def test_the_date_index_is_read_from_the_cache_file_instead_of_the_schemas(
        installed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    computed = datums.date_elements(installed, MANIFEST)  # no cache yet: read from the schemas, then kept
    assert computed["registratiedatum"] == datums.DATUM and computed["tijdstipBericht"] == datums.TIJDSTIP
    assert xsd_cache.read(installed, MANIFEST)["dates"] == computed
    _forbid(monkeypatch, "broker.stuf.datums._date_elements")
    assert datums.DateChecks(installed, MANIFEST).kinds == computed


def test_a_cache_file_made_for_another_manifest_is_not_used(installed: Path, tmp_path: Path) -> None:
    datums.date_elements(installed, MANIFEST)
    other = tmp_path / "MANIFEST.sha256"
    other.write_bytes(MANIFEST.read_bytes() + b"# another set\n")
    assert xsd_cache.read(installed, other) == {}
    assert not SchemaSet.compiled_before(installed, other)


def test_unchanged_files_are_not_hashed_again_and_a_changed_one_is(
        installed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[int] = []
    real_check = xsd_install.check

    def counting(read, entries):  # type: ignore[no-untyped-def]
        hashed.append(len(entries))
        return real_check(read, entries)

    monkeypatch.setattr("broker.stuf.xsd_install.check", counting)
    xsd_install.verify_installed(installed, MANIFEST)
    xsd_install.verify_installed(installed, MANIFEST)
    assert len(hashed) == 1  # the second start-up compared sizes and times only

    victim = installed / "zkn0310/entiteiten/zkn0310_ent_basis.xsd"
    victim.write_bytes(victim.read_bytes().replace(b"<", b" <", 1))
    with pytest.raises(SchemaError, match="altered: zkn0310/entiteiten/zkn0310_ent_basis.xsd"):
        xsd_install.verify_installed(installed, MANIFEST)
    assert len(hashed) == 2


def test_a_checking_broker_leaves_schemas_that_compiled_before_to_first_use(installed: Path) -> None:
    assert not SchemaSet.compiled_before(installed, MANIFEST)
    SchemaSet(installed, manifest=MANIFEST)  # compiles everything and records it
    assert SchemaSet.compiled_before(installed, MANIFEST)
    lazy = SchemaSet(installed, manifest=MANIFEST, eager=False)
    assert lazy.schemas == {}
    assert lazy.schema_for(ns.STUF) is not None and list(lazy.schemas) == [ns.STUF]


def test_install_writes_the_cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "installed"
    xsd_install.install(DEFAULT_XSD_DIR, target, MANIFEST)
    cache = xsd_cache.read(target, MANIFEST)
    assert set(cache) >= {"files", "dates", "compiled"}
    _forbid(monkeypatch, "broker.stuf.xsd_install.check")
    _forbid(monkeypatch, "broker.stuf.datums._date_elements")
    xsd_install.verify_installed(target, MANIFEST)
    datums.date_elements(target, MANIFEST)


def test_the_command_imports_the_broker_without_full_collections_and_freezes_it() -> None:
    """``stuf-broker`` (broker.__main__.run) imports the broker with the garbage collector off, then
    freezes what the import made and switches the collector on before a command runs."""
    probe = (
        "import gc, sys\n"
        "full = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and info['generation'] == 2 and full.append(1))\n"
        "sys.argv = ['stuf-broker', '--help']\n"
        "from broker.__main__ import run\n"
        "try:\n"
        "    run()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('RESULT', len(full), gc.get_freeze_count(), gc.isenabled())\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    _, full, frozen, enabled = next(line for line in out.stdout.splitlines() if line.startswith("RESULT")).split()
    assert full == "0" and int(frozen) > 50_000 and enabled == "True", out.stdout[-2000:]


def _some_persons(path: Path, n: int) -> Path:
    with gzip.open(personen_register.TESTSET, "rt", encoding="utf-8") as f:
        path.write_text("".join(line for _, line in zip(range(n), f, strict=False)), encoding="utf-8")
    return path


def test_a_person_seed_is_read_once_per_process_and_again_when_it_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = _some_persons(tmp_path / "personen.jsonl", 3)
    first = personen_register.PersonenRegister("een", seed)
    assert len(first.by_bsn) == 3
    with monkeypatch.context() as m:
        _forbid(m, "broker.adapters.personen_register.Persoon.from_dict")
        second = personen_register.PersonenRegister("twee", seed)  # another broker in this process
    assert second.by_bsn is first.by_bsn
    _some_persons(seed, 2)  # rewritten: read again
    assert len(personen_register.PersonenRegister("drie", seed).by_bsn) == 2


def test_serve_loads_the_person_seeds_before_it_forks_its_workers(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``serve`` makes once for every worker (broker.web.asgi.prepare): with it, a worker's
    broker builds its person register without reading the seed."""
    monkeypatch.setattr(personen_register, "_LOADED", {})
    runtime.prepare_workers(settings)
    assert len(personen_register._LOADED) == 1
    _forbid(monkeypatch, "broker.adapters.personen_register.Persoon.from_dict")
    broker = runtime.Broker(settings)
    try:
        bronnen = [t.bron for t in broker.targets.values() if isinstance(t, PersonenTarget)]
        assert [len(b.by_bsn) for b in bronnen if isinstance(b, personen_register.PersonenRegister)] == [1176]
    finally:
        broker.close()


def test_serve_with_two_workers_forks_them_and_is_ready(tmp_path: Path) -> None:
    """The workers are forked from the checked process (broker.cli.workers), with the schemas it
    compiled, and serve."""
    proc, port, log = live.serve_process(tmp_path)
    try:
        pids: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(pids) < 2:
            assert proc.poll() is None, log.read_text()
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5, headers={"connection": "close"})
                assert r.status_code == 200, r.text
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            pids = {line.split("[")[1].split("]")[0] for line in log.read_text().splitlines()
                    if "Started server process" in line}
        assert len(pids) == 2, log.read_text()
        assert "workers are spawned" not in log.read_text()
        # the served schemas were compiled once, in the checked process, while its check ran apart
        ready = [line for line in log.read_text().splitlines() if "broker ready" in line]
        assert sum("schemas_compiled" in line and "by serve" in line for line in ready) == 2, ready
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0, log.read_text()


def test_the_delivery_worker_is_started_once(live_broker: live.LiveBroker) -> None:
    """serve's lifespan starts the worker; starting it again (a test helper did) gets the running one
    rather than a second scheduler that closing the broker would leave running."""
    running = live_broker.broker.worker
    assert running is not None
    assert live_broker.broker.start_worker() is running
    live_broker.broker.close()
    assert live_broker.broker.worker is None and not running.scheduler.running
