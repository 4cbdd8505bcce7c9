"""Schema management with Alembic: ``upgrade`` runs at start-up and from ``stuf-broker db upgrade``.

Several broker processes may start at once against one PostgreSQL: an advisory lock lets one of them
migrate while the others wait. SQLite uses the broker's write lock.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from broker.store.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_ID = 0x5755_4642  # "STUF" as an advisory lock key


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    cfg = alembic_config(db)
    if db.is_sqlite:
        with db._write_lock(), db.engine.begin() as conn:  # same package
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_ID})
        conn.commit()  # the advisory lock belongs to the session and outlives this transaction
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_ID})
            conn.commit()


def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
