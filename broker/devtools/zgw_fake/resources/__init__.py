"""Request handlers per API, keyed by the spec's ``operationId``."""

from __future__ import annotations

from . import besluiten, catalogi, documenten, reservations, zaak_relations, zaken
from .common import Call, Handler, Reply

HANDLERS: dict[str, dict[str, Handler]] = {
    "zaken": {**zaken.HANDLERS, **zaak_relations.HANDLERS, **reservations.ZAKEN_HANDLERS},
    "catalogi": catalogi.HANDLERS,
    "documenten": {**documenten.HANDLERS, **reservations.DOCUMENTEN_HANDLERS},
    "besluiten": besluiten.HANDLERS,
}

__all__ = ["Call", "HANDLERS", "Handler", "Reply"]
