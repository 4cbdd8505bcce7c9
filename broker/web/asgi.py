"""ASGI factory for uvicorn workers: ``uvicorn --factory broker.web.asgi:create``.

Each worker process builds its own broker from ``STUF_BROKER_CONFIG`` (set by ``stuf-broker serve``).
"""

from __future__ import annotations

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
    return create_app(broker)
