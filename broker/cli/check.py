"""``stuf-broker check [--config DIR]``: every configuration file, every problem as file:line.

Exit 0 when everything is valid (it prints what it checked and the routes in the order they are
tried), 1 with one line per problem. ``stuf-broker mappings check`` is the same command.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from broker.admin.check import check as check_config
from broker.routing.config import RoutesFile
from broker.routing.describe import routes_table


def routes_lines(routes: RoutesFile) -> list[str]:
    """The routes as aligned lines: number, operations, zenders, zaaktypen, where to."""
    rows: list[tuple[str, ...]] = [("#", "operations", "zenders", "zaaktypen", "deliver to")]
    rows += [tuple(r.values()) for r in routes_table(routes)]
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4] for row in rows]


def run(config_dir: Path | None) -> None:
    report = check_config(config_dir)
    if report.problems:
        for problem in report.problems:
            click.echo(str(problem))
        click.echo(f"{len(report.problems)} problem(s) in {report.config_dir}", err=True)
        sys.exit(1)
    click.echo(f"ok: {report.config_dir}: " + "; ".join(report.summary))
    if report.routes is not None:
        click.echo("routes (the first that matches a message decides):")
        for line in routes_lines(report.routes):
            click.echo(line)


@click.command("check")
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="configuration directory (default: $STUF_BROKER_CONFIG, else config/ of the checkout)")
def check(config_dir: Path | None) -> None:
    """Check every configuration file at once (broker.yaml, catalogue, applications, mappings, routes)."""
    run(config_dir)
