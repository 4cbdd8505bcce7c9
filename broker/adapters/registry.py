"""Adapters by alias, as routes.yaml names them; third parties register through the entry-point
group ``stuf_broker.adapters`` (a callable ``factory(name, broker, **options) -> Target``)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any

from broker.adapters.targets import Target, ZaaksysteemTarget

Factory = Callable[..., Target]


def _embedded(name: str, broker: Any, **_: object) -> Target:
    from broker.adapters.embedded import EmbeddedZaaksysteem

    adapter = EmbeddedZaaksysteem(broker.settings.broker, broker.catalogus, broker.schema_model, broker.files)
    return ZaaksysteemTarget(name, adapter, broker.handlers, shares_transaction=True)


def _stuf(name: str, broker: Any, **options: Any) -> Target:
    from broker.adapters.stuf_forward import StufForward

    return StufForward(name, **options)


def _webhook(name: str, broker: Any, **options: Any) -> Target:
    from broker.adapters.webhook import Webhook

    return Webhook(name, **options)


def _zgw(name: str, broker: Any, **options: Any) -> Target:
    from broker.adapters.targets import RemoteZaaksysteemTarget
    from broker.adapters.zgw import build

    return RemoteZaaksysteemTarget(name, build(name, broker, options), broker.handlers)


ALIASES: dict[str, Factory] = {
    "embedded": _embedded,
    "stuf": _stuf,
    "webhook": _webhook,
    "zgw": _zgw,
}


def available() -> dict[str, Factory]:
    found = dict(ALIASES)
    for ep in metadata.entry_points(group="stuf_broker.adapters"):
        if ep.name in found:
            raise RuntimeError(f"adapter alias {ep.name!r} registered twice")
        found[ep.name] = ep.load()
    return found


def build(name: str, alias: str, broker: Any, options: dict[str, Any]) -> Target:
    return available()[alias](name, broker, **options)
