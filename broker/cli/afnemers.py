"""``stuf-broker afnemers``: the StUF-BG afnemerindicaties (list, place, remove), for administrators.

Every change is recorded in the audit log (actor ``cli:<user>``) with the application, never the BSN
itself (a keyed digest in its place: the audit log is read by more people than the person data).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from broker import logging as broker_logging
from broker.cli import context
from broker.model.person import elfproef
from broker.services import afnemerindicaties
from broker.store.db import Database
from broker.stuf.stuurgegevens import Systeem
from broker.web.dashboard import audit, bsnindex

_config = click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
_afnemer = [click.argument("applicatie"), click.option("--organisatie", default=None),
            click.option("--administratie", default=None)]


def _db(config_dir: Path | None) -> Database:
    settings = context.settings(config_dir)
    broker_logging.configure(settings.broker.log_format, level="WARNING")
    return context.existing_database(settings)


def _bsn(value: str) -> str:
    if not elfproef(value):
        raise click.BadParameter("not a burgerservicenummer (9 digits passing the 11-proof)", param_hint="BSN")
    return value




@click.group()
def afnemers() -> None:
    """StUF-BG afnemerindicaties: which application follows which person."""


@afnemers.command("list")
@click.option("--bsn", default=None)
@click.option("--applicatie", default=None)
@_config
def list_cmd(bsn: str | None, applicatie: str | None, config_dir: Path | None) -> None:
    """The indicaties (JSON), optionally of one person or one application."""
    db = _db(config_dir)
    with db.read() as session:
        rows = afnemerindicaties.listed(session, bsn=bsn, applicatie=applicatie)
    click.echo(json.dumps([{"bsn": r.bsn, "organisatie": r.afnemer.organisatie, "applicatie": r.afnemer.applicatie,
                            "administratie": r.afnemer.administratie, "geplaatst_op": r.geplaatst_op.isoformat(),
                            "bron": r.bron} for r in rows], indent=2))


def _change(action: str, bsn: str, applicatie: str, organisatie: str | None, administratie: str | None,
            config_dir: Path | None) -> None:
    db = _db(config_dir)
    key = bsnindex.index_key(context.settings(config_dir).data_dir)
    afnemer = Systeem(organisatie, applicatie, administratie)
    with db.write() as session:
        if action == "place":
            changed = afnemerindicaties.place(session, _bsn(bsn), afnemer, "beheerder")
        else:
            changed = afnemerindicaties.remove(session, _bsn(bsn), afnemer)
        if changed:
            audit.record(session, f"cli:{getpass.getuser()}", f"afnemerindicatie.{action}",
                         {"afnemer": afnemer.label(), "persoon": bsnindex.audit_digest(key, bsn)})
    click.echo(("placed" if action == "place" else "removed") if changed else "unchanged")


@afnemers.command("place")
@click.argument("bsn")
@_afnemer[0]
@_afnemer[1]
@_afnemer[2]
@_config
def place_cmd(bsn: str, applicatie: str, organisatie: str | None, administratie: str | None,
              config_dir: Path | None) -> None:
    """Place the indicatie of APPLICATIE for the person BSN."""
    _change("place", bsn, applicatie, organisatie, administratie, config_dir)


@afnemers.command("remove")
@click.argument("bsn")
@_afnemer[0]
@_afnemer[1]
@_afnemer[2]
@_config
def remove_cmd(bsn: str, applicatie: str, organisatie: str | None, administratie: str | None,
               config_dir: Path | None) -> None:
    """Remove the indicatie of APPLICATIE for the person BSN."""
    _change("remove", bsn, applicatie, organisatie, administratie, config_dir)
