"""ASGI factory for uvicorn workers: ``uvicorn --factory broker.web.asgi:create``.

Each worker process builds its own broker from ``STUF_BROKER_CONFIG`` (set by ``stuf-broker serve``),
with the schemas ``serve`` compiled before it forked the worker (:func:`prepare`), when it did.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from starlette.applications import Starlette

from broker import logging as broker_logging
from broker.config import Settings, load_settings
from broker.runtime import Broker, prepare_workers
from broker.stuf.schemas import SchemaSet
from broker.web import metrics, protocol
from broker.web.app import create_app

#: the served schemas compiled in the process the workers are forked from (or run in)
_compiled: SchemaSet | None = None


def prepare(settings: Settings) -> None:
    """Compile the served schemas here, once, for every worker this process starts (broker.cli.workers),
    and make what else each would make alike (:func:`broker.runtime.prepare_workers`)."""
    global _compiled
    _compiled = prepare_workers(settings)
    metrics.preload()


def create() -> Starlette:
    config = os.environ.get("STUF_BROKER_CONFIG")
    settings = load_settings(Path(config) if config else None)
    broker_logging.configure(settings.broker.log_format)
    protocol.configure(settings.broker)  # this process's connection limits
    broker = Broker(settings, migrate_db=os.environ.get("STUF_BROKER_SKIP_MIGRATE") != "1", schemas=_compiled)
    app = create_app(broker)
    # what start-up built (schemas, the ORM's mappers, the catalogue) lives as long as the process: out of
    # the garbage collector's full collections, which would otherwise walk it again and again under load
    gc.collect()
    gc.freeze()
    return app
