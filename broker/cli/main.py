"""The ``stuf-broker`` command."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import click

from broker import logging as broker_logging
from broker.cli.afnemers import afnemers
from broker.cli.check import check
from broker.cli.config import config
from broker.cli.dev import dev
from broker.cli.mappings import mappings
from broker.cli.queue import queue
from broker.cli.send import send
from broker.cli.users import users
from broker.cli.workers import check_apart, fork_workers
from broker.config import DEFAULT_XSD_DIR, MANIFEST, PROJECT_ROOT, load_settings
from broker.errors import BrokerError, StufError
from broker.runtime import SERVED, Broker
from broker.store.db import Database
from broker.stuf import faults, ns, soap, xmlsafe
from broker.stuf.schemas import SchemaSet
from broker.stuf.stuurgegevens import Systeem
from broker.stuf.xsd_install import install, verify_installed
from broker.web import balance, protocol
from broker.web.metrics import prepare_multiprocess_dir


def _fail(exc: BaseException) -> None:
    click.echo(f"stuf-broker: {exc}", err=True)
    sys.exit(2)


@click.group()
def main() -> None:
    """StUF integration broker (ZDS 1.2 / StUF-ZKN 03.10)."""
    # the database, payloads and documents hold personal data: whatever the broker creates is its own
    # (files 0600, folders 0700), in this process and the workers it starts
    os.umask(0o077)


@main.command()
@click.option("--host", default=None, help="interface to listen on (default from broker.yaml: 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (default from broker.yaml: 8080)")
@click.option("--workers", type=int, default=None, help="worker processes (default: broker.yaml, 1)")
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="configuration directory replacing config/")
def serve(host: str | None, port: int | None, workers: int | None, config_dir: Path | None) -> None:
    """Run the broker on a production ASGI server (uvicorn)."""
    import uvicorn  # only serve needs it

    try:
        settings = load_settings(config_dir)
        broker_logging.configure(settings.broker.log_format)
        # before anything imports prometheus_client: the worker processes share their metrics there
        prepare_multiprocess_dir(settings.data_dir)
    except BrokerError as exc:
        _fail(exc)
    def meanwhile() -> None:  # what every worker needs: imported and compiled here, once
        from broker.web import asgi

        asgi.prepare(settings)

    # schemas, configuration, migration, in a child; meanwhile the web application is imported and
    # the schemas are compiled here
    check_apart(lambda: Broker(settings, check_only=True).close(), _fail, meanwhile=meanwhile)
    server = settings.broker.server
    os.environ["STUF_BROKER_CONFIG"] = str(settings.config_dir)
    os.environ["STUF_BROKER_SKIP_MIGRATE"] = "1"
    processes = workers or server.workers
    # forked workers start with the modules this process loaded (broker.cli.workers), and spread
    # their connections evenly over each other (broker.web.balance)
    balance.prepare(processes if processes > 1 and fork_workers() else 1)
    uvicorn.run(
        "broker.web.asgi:create",
        factory=True,
        host=host or server.host,
        port=port or server.port,
        workers=processes,
        loop="broker.web.balance:new_event_loop",  # uvloop
        # the broker's HTTP protocol (bounded heads, no slow clients), HTTPS when server.tls is set
        **protocol.uvicorn_options(settings.broker),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


@main.group()
def xsd() -> None:
    """The official StUF schemas."""


@xsd.command("install")
@click.option("--from", "source", type=click.Path(path_type=Path), default=None,
              help="directory or ZIP with the official schema set (default: $STUF_XSD_SOURCE or ../shared/xsd)")
def xsd_install(source: Path | None) -> None:
    """Copy the official schema set into xsd/installed/, checked against xsd/MANIFEST.sha256."""

    source = source or Path(os.environ.get("STUF_XSD_SOURCE", PROJECT_ROOT.parent / "shared" / "xsd"))
    target = Path(os.environ.get("STUF_XSD_DIR", DEFAULT_XSD_DIR))
    try:
        n = install(source, target, MANIFEST, SERVED)  # prepared as serve compiles them
    except BrokerError as exc:
        _fail(exc)
    click.echo(f"installed {n} schema files from {source} into {target}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Validate a StUF message (bare, or in a SOAP envelope) against the official schemas."""
    from lxml import etree


    try:
        settings = load_settings()
        verify_installed(settings.xsd_dir, MANIFEST)
        schemas = SchemaSet(settings.xsd_dir)
    except BrokerError as exc:
        _fail(exc)
    data = file.read_bytes()
    try:
        root = xmlsafe.parse(data)
        if ns.local(root.tag) == "Envelope" and ns.namespace(root.tag) in (ns.SOAP11, ns.SOAP12):
            root = soap.parse_request(data, "text/xml", None).body_element
        schemas.assert_valid(root)
    except StufError as exc:
        fo = faults.fo_bericht("Fo02", exc, None, Systeem(applicatie="STUFBROKER"))
        click.echo(f"{file}: invalid ({exc.code}: {exc.omschrijving})")
        click.echo(etree.tostring(fo, pretty_print=True, encoding="unicode"))
        sys.exit(1)
    click.echo(f"{file}: valid")


@main.command()
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--concurrency", type=int, default=None, help="threads delivering at the same time (default: routes.yaml); they help remote "
              "targets: the embedded zaaksysteem's deliveries are claimed and written by one thread at a time")
def worker(config_dir: Path | None, concurrency: int | None) -> None:
    """Deliver queued messages (any number of workers may share one PostgreSQL database)."""
    import signal
    import threading


    try:
        settings = load_settings(config_dir)
        broker_logging.configure(settings.broker.log_format)
        broker = Broker(settings)
    except BrokerError as exc:
        _fail(exc)
    # what the broker built (schemas, mappers, configuration) lives as long as the process: out of the
    # collector's full collections, which the drain's allocations would otherwise make walk it again
    # and again (about 5 % of a delivery's time)
    gc.collect()
    gc.freeze()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = broker.start_worker(concurrency)
    click.echo(f"worker {worker.name} delivering; Ctrl-C or SIGTERM stops it", err=True)
    stop.wait()
    broker.close()


main.add_command(queue)
main.add_command(users)
main.add_command(mappings)
main.add_command(check)
main.add_command(config)
main.add_command(send)
main.add_command(dev)
main.add_command(afnemers)


@main.group()
def db() -> None:
    """The broker's database."""


@db.command("upgrade")
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def db_upgrade(config_dir: Path | None) -> None:
    """Create the database, or bring its schema up to date (serve also does this at start-up)."""
    try:
        settings = load_settings(config_dir)
    except BrokerError as exc:
        _fail(exc)
    from broker.store import migrate  # Alembic: only the commands that migrate import it

    database = Database(settings.database_url)
    migrate.upgrade(database)
    shown = database.engine.url.render_as_string(hide_password=True)
    click.echo(f"database {shown} at revision {migrate.current(database)}")
    database.dispose()


if __name__ == "__main__":  # pragma: no cover
    main()
