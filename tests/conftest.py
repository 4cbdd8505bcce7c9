"""Shared fixtures: the broker's schemas, a live broker on loopback per test, a validating SOAP caller,
the database a test runs on (SQLite and PostgreSQL; ``db``: the broker's, migrated) and a counting StUF
target on loopback.

Network access in tests is limited to loopback: an autouse fixture refuses any other destination.
Tests that bound how long other clients wait take ``settled_heap`` (see there).
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.config import DEFAULT_XSD_DIR
from broker.store import migrate
from broker.store.db import Database
from broker.stuf.schemas import SchemaSet
from tests.support import live
from tests.support.pg import schema_url
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("/"):
            raise RuntimeError(f"tests may only connect to loopback, not {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="module")
def settled_heap() -> Iterator[None]:
    """The test process's heap as it was before the module, kept out of the garbage collector's full
    passes until the module is done (``gc.freeze``).

    The broker under test runs in this process, beside everything the suite made before it: late in
    a full run a full collection walks that whole heap and holds the interpreter for 0.2-1.1 s,
    which a latency bound of 100 ms then counts against the broker. A broker in its own process has
    no such heap; the objects made during the module are still collected as usual."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.fixture(scope="session")
def schemas() -> SchemaSet:
    return SchemaSet(DEFAULT_XSD_DIR)


@pytest.fixture
def settings(tmp_path: Path):
    return live.make_settings(tmp_path)


@pytest.fixture
def live_broker(settings) -> Iterator[live.LiveBroker]:
    lb = live.start(settings)
    yield lb
    lb.stop()


@pytest.fixture
def soap(live_broker: live.LiveBroker, schemas: SchemaSet) -> Iterator[SoapCaller]:
    caller = SoapCaller(live_broker.url, schemas)
    yield caller
    caller.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path: Path) -> Iterator[str]:
    """A test using it runs on SQLite and on the machine's PostgreSQL (a private schema per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'broker.db'}"
    else:
        with schema_url() as url:
            yield url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The broker's database with every migration applied, on SQLite and on PostgreSQL."""
    database = Database(db_url)
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def target() -> Iterator[CountingTarget]:
    """A real StUF endpoint on loopback that applies a (zender, referentienummer) once
    (tests.support.target)."""
    t = CountingTarget().start()
    yield t
    t.stop()
