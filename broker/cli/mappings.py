"""``stuf-broker mappings``: check, preview, and the version history of the mapping files.

    stuf-broker mappings check [--config DIR]               # every problem as file:line (did you mean ...?)
    stuf-broker mappings preview MESSAGE.xml [--config DIR] # case model + the API requests, nothing sent
    stuf-broker mappings schema [--write]                   # the JSON Schema (docs/mappings.schema.json)
    stuf-broker mappings history NAME [--config DIR]        # versions: number, time, author, comment
    stuf-broker mappings rollback NAME VERSION --author WHO [--config DIR]

``check`` and ``preview`` read the files in the configuration directory (what an administrator is
editing), without a database or network; ``history`` and ``rollback`` work on the versions in the
broker's database (broker.mappings.store).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from broker.admin.preview import Previewer
from broker.config import PROJECT_ROOT, load_settings
from broker.errors import BrokerError, ConfigError, StufError
from broker.mappings.schema import json_schema
from broker.mappings.store import ConfigStore, build, read_files
from broker.store.db import Database

SCHEMA_FILE = PROJECT_ROOT / "docs" / "mappings.schema.json"
_CONFIG = click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                       help="configuration directory (default: config/)")


def _config_dir(config_dir: Path | None) -> Path:
    return load_settings(config_dir).config_dir


@click.group()
def mappings() -> None:
    """The mapping files for the ZGW adapter (config/mappings/*.yaml)."""


@mappings.command("check")
@_CONFIG
def check(config_dir: Path | None) -> None:
    """The same as ``stuf-broker check``: every configuration file, routes.yaml too."""
    from broker.cli import check as check_command

    check_command.run(config_dir)


@mappings.command("preview")
@click.argument("message", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_CONFIG
def preview(message: Path, config_dir: Path | None) -> None:
    """The case model of MESSAGE and the ZGW API requests it would cause; nothing is sent."""

    directory = _config_dir(config_dir)
    try:
        catalogus, found = build(read_files(directory), directory)
        result = Previewer.from_config_dir(directory).run(message.read_bytes(), found, catalogus)
    except StufError as exc:
        click.echo(f"{message}: {exc.code}: {exc.omschrijving}" + (f" ({exc.details})" if exc.details else ""), err=True)
        sys.exit(1)
    except BrokerError as exc:
        click.echo(f"stuf-broker: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))


@mappings.command("schema")
@click.option("--write", is_flag=True, help=f"write it to {SCHEMA_FILE.relative_to(PROJECT_ROOT)}")
def schema(write: bool) -> None:
    """The JSON Schema of a mapping file."""

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if write:
        SCHEMA_FILE.write_text(text, encoding="utf-8")
        click.echo(f"wrote {SCHEMA_FILE}")
    else:
        click.echo(text, nl=False)


def _store(config_dir: Path | None) -> tuple[ConfigStore, Database]:
    from broker.cli import context

    settings = context.settings(config_dir)
    db = context.existing_database(settings)
    return ConfigStore(db, settings.config_dir), db


@mappings.command("history")
@click.argument("name")
@_CONFIG
def history(name: str, config_dir: Path | None) -> None:
    """The versions of NAME (e.g. mappings/shv.yaml), newest first."""
    try:
        store, db = _store(config_dir)
    except BrokerError as exc:
        click.echo(f"stuf-broker: {exc}", err=True)
        sys.exit(2)
    try:
        versions = store.history(name)
        if not versions:
            click.echo(f"{name}: no versions", err=True)
            sys.exit(1)
        for v in versions:
            click.echo(f"{v.version:>4}  {v.created_at:%Y-%m-%d %H:%M:%S}  {v.author:<20}  {v.comment}")
    finally:
        db.dispose()


@mappings.command("rollback")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--author", required=True, help="who does the rollback (kept with the new version)")
@_CONFIG
def rollback(name: str, version: int, author: str, config_dir: Path | None) -> None:
    """Make the text of VERSION the new version of NAME (running brokers pick it up within seconds)."""
    try:
        store, db = _store(config_dir)
    except BrokerError as exc:
        click.echo(f"stuf-broker: {exc}", err=True)
        sys.exit(2)
    try:
        new = store.rollback(name, version, author)
    except KeyError:
        click.echo(f"{name}: no version {version}", err=True)
        sys.exit(1)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    finally:
        db.dispose()
    click.echo(f"{name}: version {version} restored as version {new.version}")
