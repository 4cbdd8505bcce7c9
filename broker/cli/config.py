"""``stuf-broker config reference [--write]``: the configuration reference, generated from the models."""

from __future__ import annotations

import click

from broker.admin.reference import REFERENCE_FILE, reference


@click.group("config")
def config() -> None:
    """The configuration files."""


@config.command("reference")
@click.option("--write", is_flag=True, help="write it to docs/configuration.md")
def reference_cmd(write: bool) -> None:
    """Every key of every configuration file, as Markdown."""
    text = reference()
    if write:
        REFERENCE_FILE.write_text(text, encoding="utf-8")
        click.echo(f"wrote {REFERENCE_FILE}")
    else:
        click.echo(text, nl=False)
