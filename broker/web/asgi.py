"""ASGI factory for uvicorn workers: ``uvicorn --factory broker.web.asgi:create``.

Each worker process builds its own broker from ``STUF_BROKER_CONFIG`` (set by ``stuf-broker serve``).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from starlette.applications import Starlette

from broker import logging as broker_logging
from broker.config import load_settings
from broker.runtime import Broker
from broker.web import protocol
from broker.web.app import create_app


def create() -> Starlette:
    config = os.environ.get("STUF_BROKER_CONFIG")
    settings = load_settings(Path(config) if config else None)
    broker_logging.configure(settings.broker.log_format)
    protocol.configure(settings.broker)  # this process's connection limits
    broker = Broker(settings, migrate_db=os.environ.get("STUF_BROKER_SKIP_MIGRATE") != "1")
    app = create_app(broker)
    # what start-up built (schemas, the ORM's mappers, the catalogue) lives as long as the process: out of
    # the garbage collector's full collections, which would otherwise walk it again and again under load
    gc.collect()
    gc.freeze()
    return app
