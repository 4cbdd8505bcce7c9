"""One module per ZDS 1.2 service; each registers its handler here by operation name.

A handler reads the request into the case model, calls the target through the
:class:`broker.model.ports.Zaaksysteem` interface and builds the answer.

Layer: services, above the adapters, below delivery. See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable

from broker.adapters.person_target import PersonHandler
from broker.adapters.targets import Handler
from broker.model.ports import Zaaksysteem
from broker.zds.request import ZdsRequest

HANDLERS: dict[str, Handler] = {}
#: the StUF-BG services (person questions), by operation name
PERSON_HANDLERS: dict[str, PersonHandler] = {}


def service(name: str, *, prepare: Callable[[ZdsRequest, Zaaksysteem], None] | None = None) -> Callable[[Handler], Handler]:
    """Register a handler. ``prepare``, when given, reads the request before the target's transaction
    (into ``ZdsRequest.prepared``), so that the embedded zaaksysteem's write lock covers less work;
    it reads the request only and leaves any error to the handler (ZaaksysteemTarget.prepare)."""
    def register(fn: Handler) -> Handler:
        if name in HANDLERS:
            raise RuntimeError(f"service {name} registered twice")
        if prepare is not None:
            setattr(fn, "prepare", prepare)  # noqa: B010  (a function's attribute, read by the target)
        HANDLERS[name] = fn
        return fn

    return register


def person_service(name: str) -> Callable[[PersonHandler], PersonHandler]:
    def register(fn: PersonHandler) -> PersonHandler:
        if name in PERSON_HANDLERS:
            raise RuntimeError(f"person service {name} registered twice")
        PERSON_HANDLERS[name] = fn
        return fn

    return register


def load_all() -> dict[str, Handler]:
    """Import every service module (they register themselves)."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return HANDLERS
