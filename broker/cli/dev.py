"""``stuf-broker dev``: tools for trying the broker without the systems it talks to.

``dev zgw-fake`` serves the ZGW APIs (Zaken 1.5.1, Catalogi 1.3.1, Documenten 1.4.2, Besluiten 1.0.2)
on loopback from memory, checks every request and answer against the official OpenAPI specs and says
what did not conform; seeded with a catalogue so that a ``zgw`` target (routes.yaml) works at once.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

CLIENT_ID, SECRET = "stuf-broker", "stuf-broker-secret"


@click.group()
def dev() -> None:
    """Tools for trying the broker without Open Zaak and other systems."""


@dev.command("zgw-fake")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to listen on")
@click.option("--port", type=int, default=8090, show_default=True, help="port (0: any free one)")
@click.option("--seed", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML with the catalogue's zaaktypen (default: SHV and OMV as config/mappings/ maps them)")
@click.option("--specs", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="folder with the official OpenAPI specs (zgw/*.yaml; default: $ZGW_OPENAPI_DIR or ../shared/openapi)")
@click.option("--client", "clients", multiple=True, metavar="ID:SECRET",
              help=f"a client the fake accepts (JWT); default {CLIENT_ID}:{SECRET}")
def zgw_fake(host: str, port: int, seed: Path | None, specs: Path | None, clients: tuple[str, ...]) -> None:
    """Serve the ZGW APIs on loopback, validated against the official specs, until interrupted."""
    try:
        from broker.devtools.zgw_fake import ZGWFake, seedfile
    except ImportError as exc:  # openapi-core is in the dev extra
        raise click.ClickException(f"{exc.name} is not installed: pip install -e '.[dev]' (scripts/setup does)") \
            from exc
    pairs = [tuple(c.split(":", 1)) for c in clients] or [(CLIENT_ID, SECRET)]
    if any(len(p) != 2 for p in pairs):
        raise click.UsageError("--client takes ID:SECRET")
    try:
        data = seedfile.load(seed or seedfile.DEFAULT_SEED)
        fake = ZGWFake([(p[0], p[1]) for p in pairs], spec_dir=specs, host=host, port=port)
        seedfile.apply(fake, data)
    except (seedfile.SeedError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc

    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    fake.start()
    signal.signal(signal.SIGTERM, _stop)  # after start: the server's start-up sets its own handlers
    signal.signal(signal.SIGINT, _stop)
    client_id, secret = pairs[0]
    click.echo(f"ZGW APIs on http://{host}:{fake.port}, zaaktypen "
               f"{', '.join(zt['identificatie'] for zt in data['zaaktypen'])}; a target for routes.yaml:\n")
    click.echo("  targets:\n    zgw-fake:\n      adapter: zgw")
    for api in ("zaken", "catalogi", "documenten", "besluiten"):
        click.echo(f"      {api}_url: {fake.url(api)}")
    click.echo(f"      client_id: {client_id}\n      secret: {secret}\n")
    click.echo(f"Notificaties API on {fake.url('notificaties')}: give the target notificaties: {{url, callback_url, "
               "auth}} and changes made here directly are told to the subscribers.", err=True)
    click.echo("Every request and answer is checked against the specs; what does not conform is printed here.",
               err=True)
    seen = 0
    try:
        while not stop.wait(0.5):
            for violation in fake.violations[seen:]:
                click.echo(f"not conform the spec: {violation}", err=True)
            seen = len(fake.violations)
    finally:
        fake.stop()
    click.echo(f"stopped; {len(fake.requests)} requests, {len(fake.violations)} not conform the specs", err=True)
