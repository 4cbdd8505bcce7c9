"""Adapters by alias, as routes.yaml names them; third parties register through the entry-point
group ``stuf_broker.adapters`` (a callable ``factory(name, deps, **options) -> Target``, ``deps`` an
:class:`broker.adapters.deps.AdapterDeps`).

Every built-in adapter declares its options as a pydantic model that refuses unknown keys
(broker.adapters.options); a mistake is a ConfigError the broker reports at its line of routes.yaml.
A third-party factory validates its own options, or is an :class:`Adapter` too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from broker.adapters import personen_register
from broker.adapters.brp_personen import BrpOptions
from broker.adapters.deps import AdapterDeps
from broker.adapters.embedded import EmbeddedZaaksysteem
from broker.adapters.embedded.files import FileStore
from broker.adapters.options import Options, parse
from broker.adapters.person_target import PersonenTarget
from broker.adapters.stuf_forward import StufForward, StufOptions
from broker.adapters.targets import RemoteZaaksysteemTarget, Target, ZaaksysteemTarget
from broker.adapters.webhook import Webhook, WebhookOptions

Factory = Callable[..., Target]
OptionsT = TypeVar("OptionsT", bound=BaseModel)


@dataclass(frozen=True)
class Adapter(Generic[OptionsT]):
    """A factory with declared options: ``build(name, deps, options)`` gets them validated."""

    options: type[OptionsT]
    build: Callable[[str, AdapterDeps, OptionsT], Target]

    def __call__(self, name: str, deps: AdapterDeps, **options: Any) -> Target:
        return self.build(name, deps, parse(self.options, name, options))


class EmbeddedOptions(Options):
    """The embedded zaaksysteem has no options (broker.yaml configures it)."""


def _embedded(name: str, deps: AdapterDeps, _: EmbeddedOptions) -> Target:
    adapter = EmbeddedZaaksysteem(deps.settings, deps.catalogus, deps.schema_model, FileStore(deps.files_dir))
    return ZaaksysteemTarget(name, adapter, deps.handlers, shares_transaction=True)


def _zgw(name: str, deps: AdapterDeps, **options: Any) -> Target:
    # options: broker.adapters.zgw.adapter.ZgwOptions (extra="forbid"), checked by zgw.build with the same
    # ConfigError (it also resolves the secret and the identificatie templates). Imported here: only
    # a broker with a ZGW target pays for its import (0.15 s)
    from broker.adapters.zgw import adapter as zgw

    return RemoteZaaksysteemTarget(name, zgw.build(name, deps, options), deps.handlers)


def _brp(name: str, deps: AdapterDeps, options: BrpOptions) -> Target:
    from broker.adapters import brp_personen

    return PersonenTarget(name, brp_personen.build(name, options), deps.person_handlers, shares_transaction=False,
                          db=deps.db)


def _register(name: str, deps: AdapterDeps, options: personen_register.RegisterOptions) -> Target:
    bron = personen_register.build(name, deps.config_dir, options)
    return PersonenTarget(name, bron, deps.person_handlers, shares_transaction=True, db=deps.db)


ALIASES: dict[str, Factory] = {
    "embedded": Adapter(EmbeddedOptions, _embedded),
    "stuf": Adapter(StufOptions, lambda name, deps, o: StufForward(name, o.url, o.timeout, o.soap_version,
                                                                  files_dir=deps.files_dir)),
    "webhook": Adapter(WebhookOptions, lambda name, _, o: Webhook(name, o.url, o.timeout, o.headers)),
    "zgw": _zgw,
    "personen-register": Adapter(personen_register.RegisterOptions, _register),
    "brp-personen": Adapter(BrpOptions, _brp),
}


@functools.cache
def _plugins() -> tuple[tuple[str, Factory], ...]:
    """The third-party adapters, looked up once per process (reading every installed distribution's
    entry points costs about 10 ms; a new plugin needs a restart either way)."""
    return tuple((ep.name, ep.load()) for ep in metadata.entry_points(group="stuf_broker.adapters"))


def available() -> dict[str, Factory]:
    found = dict(ALIASES)
    for name, factory in _plugins():
        if name in found:
            raise RuntimeError(f"adapter alias {name!r} registered twice")
        found[name] = factory
    return found


def build(name: str, alias: str, deps: AdapterDeps, options: dict[str, Any]) -> Target:
    return available()[alias](name, deps, **options)
