"""Two adapters for tests, registered under their aliases by :func:`registered`:

- ``memory``: keeps what it receives in memory and acknowledges with a Bv03;
- ``failing``: fails every delivery, retryable or not as its ``retryable`` option declares.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from broker.adapters import registry
from broker.adapters.options import Options
from broker.adapters.targets import DeliveryRequest, default_retryable
from broker.errors import AdapterError
from broker.model.ports import Context, Health
from broker.stuf.berichten import bv03
from broker.zds.request import ZdsAnswer


@dataclass
class Received:
    operation: str
    message_id: int | None
    referentienummer: str | None
    raw: bytes


class MemoryOptions(Options):
    pass


class MemoryTarget:
    shares_transaction = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.received: list[Received] = []

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        sg = request.zds.stuurgegevens
        self.received.append(Received(request.zds.operation.name, request.message_id, sg.referentienummer,
                                      request.raw))
        return ZdsAnswer(bv03(sg, request.zds.own))

    def check(self) -> Health:
        return Health(True, f"{len(self.received)} messages kept")

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)


class FailingOptions(Options):
    retryable: bool = True


class FailingTarget:
    shares_transaction = False

    def __init__(self, name: str, retryable: bool) -> None:
        self.name = name
        self.declared_retryable = retryable
        self.calls = 0

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        self.calls += 1
        raise AdapterError(f"{self.name}: fails as declared (retryable: {self.declared_retryable})",
                           retryable=self.declared_retryable)

    def check(self) -> Health:
        return Health(False, "fails every delivery")

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)


ADAPTERS: dict[str, Any] = {
    "memory": registry.Adapter(MemoryOptions, lambda name, _, o: MemoryTarget(name)),
    "failing": registry.Adapter(FailingOptions, lambda name, _, o: FailingTarget(name, o.retryable)),
}


@contextmanager
def registered() -> Iterator[None]:
    """The test adapters known to the registry, as an entry point would make them."""
    with pytest.MonkeyPatch.context() as mp:
        for alias, factory in ADAPTERS.items():
            mp.setitem(registry.ALIASES, alias, factory)
        yield
