"""``stuf-broker queue``: status, list, show, retry, cancel, purge (operator commands)."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from broker import logging as broker_logging
from broker.adapters import registry
from broker.adapters.targets import DeliveryRequest
from broker.cli import context
from broker.errors import BrokerError
from broker.queue import admin
from broker.queue.admin import Filters
from broker.queue.engine import Queue
from broker.routing.config import RoutesFile, load_routes
from broker.store.db import Database
from broker.store.requests import StoredRequest
from broker.web.dashboard import audit

#: a click command function
F = TypeVar("F", bound=Callable[..., Any])

_config = click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None)


def _filters(f: F) -> F:
    for opt in (
        click.option("--state", help="pending, in_progress, delivered, retrying, dead, cancelled"),
        click.option("--operation", help="e.g. creeerZaak"),
        click.option("--zender", help="zender applicatie"),
        click.option("--zaak", help="zaak identificatie"),
        click.option("--target", help="target name from routes.yaml"),
    ):
        f = opt(f)
    return f


@dataclass
class Operations:
    """What the queue commands need: the database, routes.yaml and the queue. No target is built, so
    they run without the targets' secrets (an Open Zaak secret_env) and connect to nothing else."""

    db: Database
    routes: RoutesFile
    queue: Queue


class _NoRequests:
    """The queue commands do not deliver: they never read a request."""

    def from_stored(self, message_id: int, stored: StoredRequest | None, *, raw: bool = True) -> DeliveryRequest:
        raise RuntimeError("the queue commands do not deliver")


def _broker(config_dir: Path | None) -> Operations:
    settings = context.settings(config_dir)
    broker_logging.configure(settings.broker.log_format, level="WARNING")
    try:
        routes = load_routes(settings.config_dir, sorted(registry.available()))
    except BrokerError as exc:
        raise context.Missing(str(exc)) from None
    db = context.existing_database(settings)
    return Operations(db, routes, Queue(db, routes.delivery, {}, _NoRequests()))


def _echo(data: object) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _audit(broker: Operations, action: str, detail: dict[str, Any]) -> None:
    with broker.db.write() as s:
        audit.record(s, f"cli:{getpass.getuser()}", action, detail)


@click.group()
def queue() -> None:
    """Operate the delivery queue."""


@queue.command("status")
@_config
def status_cmd(config_dir: Path | None) -> None:
    """Deliveries per state and target, and the circuit of every target."""
    b = _broker(config_dir)
    with b.db.read() as s:
        _echo(admin.status(s))


@queue.command("list")
@_config
@_filters
@click.option("--limit", type=int, default=50)
def list_cmd(config_dir: Path | None, state: str | None, operation: str | None, zender: str | None, zaak: str | None, target: str | None, limit: int) -> None:
    """Deliveries, newest first, filtered."""
    b = _broker(config_dir)
    with b.db.read() as s:
        rows = admin.listing(s, Filters(state, operation, zender, zaak, target), limit,
                             hold_dead=b.routes.delivery.on_dead == "hold")
    for r in rows:
        click.echo(f"{r['id']:>8}  {r['state']:<11} {r['target']:<16} {r['operation'] or '':<24} "
                   f"{r['zaak'] or '':<24} {r['zender'] or '':<12} attempts={r['attempts']}"
                   + (f"  waits behind {r['waiting_behind']['id']} ({r['waiting_behind']['state']})"
                      if r["waiting_behind"] else "")
                   + (f"  {r['last_error'][:80]}" if r['last_error'] else ""))


@queue.command("show")
@_config
@click.argument("delivery_id", type=int)
def show_cmd(config_dir: Path | None, delivery_id: int) -> None:
    """One delivery with every attempt and the target's answers."""
    b = _broker(config_dir)
    with b.db.read() as s:
        data = admin.show(s, delivery_id, hold_dead=b.routes.delivery.on_dead == "hold")
    if data is None:
        raise click.ClickException(f"no delivery {delivery_id}")
    _echo(data)


def _ids(b: Operations, ids: tuple[int, ...], filters: Filters) -> list[int]:
    if ids:
        return list(ids)
    if not any(vars(filters).values()):
        raise click.UsageError("name delivery ids, or filters (--state dead --target ...)")
    with b.db.read() as s:
        return admin.matching_ids(s, filters)


def _act(config_dir: Path | None, action: str, filters: Filters, ids: tuple[int, ...], done: str) -> None:
    b = _broker(config_dir)
    chosen = _ids(b, ids, filters)
    n = getattr(b.queue, action)(chosen, actor=f"cli:{getpass.getuser()}")  # kept on each delivery too
    _audit(b, f"queue.{action}", {"ids": chosen[:1000], "count": n})
    click.echo(f"{n} deliveries {done}")


@queue.command("retry")
@_config
@_filters
@click.argument("ids", type=int, nargs=-1)
def retry_cmd(config_dir: Path | None, state: str | None, operation: str | None, zender: str | None, zaak: str | None, target: str | None, ids: tuple[int, ...]) -> None:
    """Deliver again: dead, cancelled or waiting deliveries become due now."""
    _act(config_dir, "retry", Filters(state, operation, zender, zaak, target), ids, "queued again")


@queue.command("cancel")
@_config
@_filters
@click.argument("ids", type=int, nargs=-1)
def cancel_cmd(config_dir: Path | None, state: str | None, operation: str | None, zender: str | None, zaak: str | None, target: str | None, ids: tuple[int, ...]) -> None:
    """Give up on deliveries (they stay visible as cancelled)."""
    _act(config_dir, "cancel", Filters(state, operation, zender, zaak, target), ids, "cancelled")


@queue.command("purge")
@_config
@click.option("--older-than-days", type=int, default=None, help="default: delivery.retention_days")
def purge_cmd(config_dir: Path | None, older_than_days: int | None) -> None:
    """Drop the raw XML of old messages (metadata and delivery history stay)."""
    b = _broker(config_dir)
    n = b.queue.purge_payloads(older_than_days)
    _audit(b, "queue.purge", {"older_than_days": older_than_days, "count": n})
    click.echo(f"payloads of {n} messages purged")


__all__ = ["queue", "datetime", "timedelta", "timezone"]
