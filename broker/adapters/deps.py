"""What the composition root hands an adapter factory: the parts of the broker an adapter may use,
typed, and nothing more (no adapter receives the whole broker)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from broker.adapters.person_target import PersonHandler
from broker.adapters.targets import Handler
from broker.config import BrokerSettings
from broker.mappings.catalogus import Catalogus
from broker.mappings.mapping import MappingSet
from broker.store.db import Database
from broker.zds.kern import SchemaModel


@dataclass(frozen=True)
class AdapterDeps:
    settings: BrokerSettings
    #: where routes.yaml lives (errors name its lines)
    config_dir: Path
    #: the broker's database; None in a preview (no identificatie counters, no step records)
    db: Database | None
    #: the zaaktypecatalogus and the mappings in use; both follow hot reloads
    catalogus: Catalogus
    mappings: MappingSet
    schema_model: SchemaModel
    #: the embedded zaaksysteem's file store
    files_dir: Path
    #: the ZDS service handlers by operation name, for zaaksystemen behind them
    handlers: Mapping[str, Handler]
    #: the StUF-BG service handlers by operation name, for person sources behind them
    person_handlers: Mapping[str, PersonHandler] = field(default_factory=dict)
