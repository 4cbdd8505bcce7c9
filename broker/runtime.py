"""The running broker: every component built once at start-up, in dependency order.

Start-up refuses, with a clear message, when the installed schemas are missing or altered, when a
schema does not compile, or when a configuration file is invalid (file:line).
"""

from __future__ import annotations

import time

import structlog

from broker.adapters.embedded import EmbeddedZaaksysteem
from broker.adapters.embedded.files import FileStore
from broker.config import MANIFEST, Settings
from broker.intake.pipeline import Pipeline
from broker.mappings.catalogus import load_catalogus
from broker.store import migrate
from broker.store.db import Database
from broker.stuf.schemas import SchemaSet
from broker.stuf.stuurgegevens import Systeem
from broker.stuf.xsd_install import verify_installed
from broker.zds import services
from broker.zds.kern import SchemaModel

log = structlog.get_logger("broker")


class Broker:
    def __init__(self, settings: Settings, *, migrate_db: bool = True) -> None:
        start = time.perf_counter()
        self.settings = settings
        verify_installed(settings.xsd_dir, MANIFEST)
        self.schemas = SchemaSet(settings.xsd_dir)
        self.schema_model = SchemaModel(settings.xsd_dir)
        self.catalogus = load_catalogus(settings.config_dir)
        self.db = Database(settings.database_url)
        if migrate_db:
            migrate.upgrade(self.db)
        self.files = FileStore(settings.files_dir)
        self.target = EmbeddedZaaksysteem(settings.broker, self.catalogus, self.schema_model, self.files)
        self.handlers = services.load_all()
        self.pipeline = Pipeline(self)
        log.info(
            "broker ready",
            schemas={k: round(v, 3) for k, v in self.schemas.compile_seconds.items()},
            startup_s=round(time.perf_counter() - start, 3),
            database=self.db.engine.url.render_as_string(hide_password=True),
        )

    @property
    def own(self) -> Systeem:
        i = self.settings.broker.identity
        return Systeem(i.organisatie, i.applicatie, i.administratie, i.gebruiker)

    def close(self) -> None:
        self.db.dispose()
