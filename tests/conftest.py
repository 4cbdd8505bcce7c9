"""Shared fixtures: the broker's schemas, a live broker on loopback per test, a validating SOAP caller.

Network access in tests is limited to loopback: an autouse fixture refuses any other destination.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.config import DEFAULT_XSD_DIR
from broker.stuf.schemas import SchemaSet
from tests.support import live
from tests.support.soapcall import SoapCaller

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
