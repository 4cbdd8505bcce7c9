"""``stuf-broker users``: accounts of the dashboard (add, passwd, role, list)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from broker.cli import context
from broker.store.db import Database
from broker.web.dashboard import audit, auth
from broker.web.dashboard.tables import ROLES

_config = click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
_stdin = click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")


def _database(config_dir: Path | None) -> Database:
    return context.existing_database(context.settings(config_dir))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@click.group()
def users() -> None:
    """Accounts of the dashboard (roles: viewer, operator, administrator)."""


@users.command("add")
@_config
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@_stdin
def add_cmd(config_dir: Path | None, name: str, role: str, password_stdin: bool) -> None:
    """Add an account."""
    db = _database(config_dir)
    try:
        with db.write() as s:
            auth.add_user(s, name, role, _password(password_stdin))
            audit.record(s, _actor(), "user.add", {"username": name, "role": role})
    except auth.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(f"user {name} added as {role}")


@users.command("passwd")
@_config
@click.argument("name")
@_stdin
def passwd_cmd(config_dir: Path | None, name: str, password_stdin: bool) -> None:
    """Set a new password (the account's sessions end)."""
    db = _database(config_dir)
    try:
        with db.write() as s:
            auth.set_password(s, name, _password(password_stdin))
            audit.record(s, _actor(), "user.passwd", {"username": name})
    except auth.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(f"password of {name} changed")


@users.command("role")
@_config
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def role_cmd(config_dir: Path | None, name: str, role: str) -> None:
    """Give an account another role."""
    db = _database(config_dir)
    try:
        with db.write() as s:
            user = auth.find(s, name)
            before = user.role if user is not None else None
            auth.set_role(s, name, role)
            audit.record(s, _actor(), "user.role", {"username": name, "from": before, "to": role})
    except auth.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(f"{name} is now {role}")


@users.command("list")
@_config
def list_cmd(config_dir: Path | None) -> None:
    """Every account with its role and last sign-in."""
    db = _database(config_dir)
    try:
        with db.read() as s:
            rows = auth.all_users(s)
    finally:
        db.dispose()
    for u in rows:
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
        click.echo(f"{u.username:<24} {u.role:<14} last sign-in {last}")
