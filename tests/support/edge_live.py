"""One live broker shared by the tests of a module, with its own settings overrides.

Starting a broker costs ~0.4 s; the SOAP-edge tests send many independent requests (each with a fresh
referentienummer and identificatie), so a module shares one broker where the tests do not depend on
an empty message log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from broker.stuf.schemas import SchemaSet
from tests.support import live
from tests.support.soapcall import SoapCaller


@dataclass
class Edge:
    broker: live.LiveBroker
    soap: SoapCaller

    @property
    def url(self) -> str:
        return self.broker.url


@contextmanager
def running(tmp: Path, schemas: SchemaSet, **overrides: object) -> Iterator[Edge]:
    lb = live.start(live.make_settings(tmp, **overrides))
    caller = SoapCaller(lb.url, schemas)
    try:
        yield Edge(lb, caller)
    finally:
        caller.close()
        lb.stop()
