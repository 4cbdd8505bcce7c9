"""Where a command finds its configuration and its database: one rule for every command.

The configuration directory is ``--config DIR``, else ``$STUF_BROKER_CONFIG``, else ``config/`` of the
checkout; the data directory and the database follow from it (broker.config.load_settings). Only
``serve``, ``worker`` and ``db upgrade`` create a database; every other command opens the one that is
there, or says where it looked and how to create it, and exits 2.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.engine import make_url

from broker.config import Settings, load_settings
from broker.errors import BrokerError
from broker.store.db import Database


class Missing(click.ClickException):
    exit_code = 2


def settings(config_dir: Path | None) -> Settings:
    try:
        return load_settings(config_dir)
    except BrokerError as exc:
        raise Missing(str(exc)) from None


def _where(s: Settings) -> str:
    return (f"configuration {s.config_dir}, data directory {s.data_dir}; set --config or STUF_BROKER_CONFIG, "
            "STUF_BROKER_DATA_DIR or STUF_BROKER_DATABASE_URL if the broker runs with others")


def existing_database(s: Settings) -> Database:
    """The broker's database, brought up to date; :class:`Missing` when there is none yet."""
    url = make_url(s.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database or "")
        if not path.is_file():
            raise Missing(f"no database at {path} ({_where(s)}); it is created by 'stuf-broker serve' or "
                          "'stuf-broker db upgrade'")
    from broker.store import migrate  # Alembic: imported by the commands that use a database

    db = Database(s.database_url)
    try:
        revision = migrate.current(db)
    except Exception as exc:  # cannot connect: say so in one line, with the address (no password)
        db.dispose()
        shown = url.render_as_string(hide_password=True)
        raise Missing(f"cannot open the database {shown}: {str(exc).splitlines()[0]}") from None
    if revision is None:
        db.dispose()
        shown = url.render_as_string(hide_password=True)
        raise Missing(f"the database {shown} holds no broker tables ({_where(s)}); run "
                      "'stuf-broker db upgrade' to create them")
    migrate.upgrade(db)  # an existing database of an older version: brought up to date, as serve would
    return db
