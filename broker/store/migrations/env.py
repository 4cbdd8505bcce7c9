"""Alembic environment: runs with the connection broker.store.migrate hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

import broker.adapters.embedded.tables  # registers the zs_ tables
import broker.adapters.zgw.tables  # zgw_steps, zgw_counters, zgw_own_writes
import broker.intake.tables  # used_nonces
import broker.mappings.tables  # config_versions
import broker.queue.tables  # deliveries, attempts, circuits
import broker.routing.tables  # zaak_routes
import broker.services.afnemerindicaties  # afnemerindicaties
import broker.store.tables
import broker.web.dashboard.tables  # noqa: F401 - users, audit_log, message_views
from broker.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("alembic: no connection given and no sqlalchemy.url configured")
        engine = create_engine(url)
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
