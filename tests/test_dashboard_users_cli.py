"""``stuf-broker users add|passwd|role|list``: accounts from the command line, audited as ``cli:<user>``."""

from __future__ import annotations

import getpass
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from broker.cli import main
from broker.store.db import Database
from broker.web.dashboard import auth
from broker.web.dashboard.tables import AuditEntry
from tests.support.configs import write_config


def run(tmp: Path, *args: str, stdin: str | None = None):
    env = {"STUF_BROKER_DATABASE_URL": f"sqlite:///{tmp / 'broker.db'}", "STUF_BROKER_DATA_DIR": str(tmp / "var")}
    config = write_config(tmp)
    if not (tmp / "broker.db").exists():  # the users commands create no database: serve or db upgrade does
        assert CliRunner().invoke(main, ["db", "upgrade", "--config", str(config)], env=env).exit_code == 0
    return CliRunner().invoke(main, ["users", *args, "--config", str(config)], input=stdin, env=env)


def database(tmp: Path) -> Database:
    return Database(f"sqlite:///{tmp / 'broker.db'}")


def test_users_are_added_listed_and_given_new_passwords(tmp_path: Path) -> None:
    added = run(tmp_path, "add", "ada", "--role", "administrator", "--password-stdin", stdin="first password\n")
    assert added.exit_code == 0, added.output
    assert "user ada added as administrator" in added.output
    assert run(tmp_path, "add", "vera", "--role", "viewer", stdin="second password\nsecond password\n").exit_code == 0
    listed = run(tmp_path, "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split()[:2] == ["ada", "administrator"] and lines[1].split()[:2] == ["vera", "viewer"]
    assert run(tmp_path, "passwd", "vera", "--password-stdin", stdin="a third password\n").exit_code == 0
    assert run(tmp_path, "role", "vera", "operator").exit_code == 0
    db = database(tmp_path)
    with db.write() as s:
        assert auth.authenticate(s, "vera", "a third password") is not None
        assert auth.authenticate(s, "vera", "second password") is None
        assert auth.find(s, "vera").role == "operator"
        entries = [(e.actor, e.action, e.detail) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
                   if e.action != "user.login"]
    db.dispose()
    actor = f"cli:{getpass.getuser()}"
    assert entries == [(actor, "user.add", {"username": "ada", "role": "administrator"}),
                       (actor, "user.add", {"username": "vera", "role": "viewer"}),
                       (actor, "user.passwd", {"username": "vera"}),
                       (actor, "user.role", {"username": "vera", "from": "viewer", "to": "operator"})]


def test_mistakes_are_refused_with_a_message(tmp_path: Path) -> None:
    assert run(tmp_path, "add", "ada", "--role", "administrator", "--password-stdin", stdin="long enough pw\n").exit_code == 0
    again = run(tmp_path, "add", "ada", "--role", "viewer", "--password-stdin", stdin="long enough pw\n")
    short = run(tmp_path, "add", "bob", "--role", "viewer", "--password-stdin", stdin="short\n")
    role = run(tmp_path, "add", "bob", "--role", "root", "--password-stdin", stdin="long enough pw\n")
    missing = run(tmp_path, "passwd", "nobody", "--password-stdin", stdin="long enough pw\n")
    assert again.exit_code == short.exit_code == missing.exit_code == 1 and role.exit_code == 2
    assert "exists already" in again.output and "at least 12 characters" in short.output
    assert "no user 'nobody'" in missing.output and "root" in role.output


def test_a_prompted_password_must_be_typed_twice_alike(tmp_path: Path) -> None:
    r = run(tmp_path, "add", "bob", "--role", "viewer", stdin="one long passphrase\nanother one\none long passphrase\none long passphrase\n")
    assert r.exit_code == 0 and "do not match" in r.output.lower()


def test_queue_commands_write_to_the_same_audit_log(tmp_path: Path) -> None:
    env = {"STUF_BROKER_DATABASE_URL": f"sqlite:///{tmp_path / 'broker.db'}", "STUF_BROKER_DATA_DIR": str(tmp_path / "var")}
    config = write_config(tmp_path)
    assert CliRunner().invoke(main, ["db", "upgrade", "--config", str(config)], env=env).exit_code == 0
    r = CliRunner().invoke(main, ["queue", "purge", "--older-than-days", "0", "--config", str(config)], env=env)
    assert r.exit_code == 0, r.output
    db = database(tmp_path)
    with db.read() as s:
        [entry] = s.execute(select(AuditEntry)).scalars()
    db.dispose()
    assert (entry.actor, entry.action, entry.detail) == (f"cli:{getpass.getuser()}", "queue.purge",
                                                         {"older_than_days": 0, "count": 0})
