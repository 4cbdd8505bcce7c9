"""Accounts, passwords and the session secret.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters); a hash made with weaker
parameters than today's is replaced at the next login. The session cookie is signed (itsdangerous,
through Starlette's SessionMiddleware) with a secret from ``STUF_BROKER_SECRET`` or, when that is
not set, one generated once and kept in ``<data dir>/dashboard-secret`` (mode 0600), so every broker
process on the host signs alike. The cookie carries the user id and the account's session version;
changing a password bumps the version and ends every other session of that account.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.web.dashboard.tables import ADMINISTRATOR, OPERATOR, ROLES, VIEWER, User

SECRET_ENV = "STUF_BROKER_SECRET"
SECRET_FILE = "dashboard-secret"
MIN_PASSWORD = 12
#: zxcvbn's score (0-4) a password needs at least
MIN_STRENGTH = 3
_RANK = {VIEWER: 0, OPERATOR: 1, ADMINISTRATOR: 2}
_hasher = PasswordHasher()


@functools.cache
def _dummy() -> str:
    """Verified against when the account does not exist, so a wrong name costs as long as a wrong
    password. Made at the first sign-in, not at import: one hash takes 0.1 s and 64 MB (argon2), which
    every worker process paid at start-up."""
    return _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """A request about accounts that cannot be honoured (unknown role, short password, taken name)."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the pages see it."""

    id: int
    username: str
    role: str
    #: the interface language the user chose ("nl", "en"), None when not chosen
    language: str | None = None

    def can(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]

    @property
    def sees_personal_data(self) -> bool:
        return self.can(OPERATOR)


def local_secret(data_dir: Path, env_name: str, file_name: str, env: Mapping[str, str] | None = None) -> str:
    """The secret in ``env_name``, else the one kept in ``<data dir>/file_name``, made on first use. The
    file appears whole (written aside, then linked into place), so a process that starts at the same
    moment reads the winner's secret, never an empty file."""
    secret = (os.environ if env is None else env).get(env_name)
    if secret:
        return secret
    path = data_dir / file_name
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = data_dir / f".{file_name}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)  # fails when another process was first: its secret stands
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text().strip()


def session_secret(data_dir: Path, env: Mapping[str, str] | None = None) -> str:
    return local_secret(data_dir, SECRET_ENV, SECRET_FILE, env)


def check_password_rules(password: str, username: str = "") -> None:
    """At least MIN_PASSWORD characters, and not easy to guess: zxcvbn's estimate (common passwords,
    words, names, keyboard patterns, repeats, the user name itself) must be at least MIN_STRENGTH."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    from zxcvbn import zxcvbn  # here, not at import: its word lists take 12 MB in every worker process

    estimate = zxcvbn(password[:100], user_inputs=[username] if username else [])
    if estimate["score"] < MIN_STRENGTH:
        why = estimate["feedback"].get("warning") or "it is a common password or follows a common pattern"
        raise AccountError(f"this password is too easy to guess: {why.rstrip('.')}; use a longer phrase")


def end_sessions(session: Session, user_id: int) -> None:
    """Every session of this user ends (sign-out, password change): their cookies name an older version."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_version = (user.session_version or 1) + 1


def check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")


def add_user(session: Session, username: str, role: str, password: str) -> User:
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise AccountError("a user name is 1 to 100 characters without spaces")
    check_role(role)
    check_password_rules(password, username)
    if find(session, username) is not None:
        raise AccountError(f"user {username!r} exists already")
    user = User(username=username, role=role, password_hash=_hasher.hash(password), session_version=1,
                created_at=datetime.now(UTC))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    user = _existing(session, username)
    check_password_rules(password, username)
    user.password_hash = _hasher.hash(password)
    user.session_version = (user.session_version or 1) + 1
    return user


def set_role(session: Session, username: str, role: str) -> User:
    user = _existing(session, username)
    check_role(role)
    user.role = role
    return user


def find(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def all_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.username)).scalars())


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user when the password is right (rehashing an outdated hash), else None."""
    user = find(session, username)
    try:
        _hasher.verify(user.password_hash if user is not None else _dummy(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = datetime.now(UTC)
    return user


def principal_of(session: Session, user_id: object, version: object) -> Principal | None:
    """The user a session cookie names, if the account still exists with the same session version."""
    if not isinstance(user_id, int) or not isinstance(version, int):
        return None
    user = session.get(User, user_id)
    if user is None or user.session_version != version:
        return None
    return Principal(user.id, user.username, user.role, user.language)


def set_language(session: Session, user_id: int, language: str) -> None:
    user = session.get(User, user_id)
    if user is not None:
        user.language = language


def _existing(session: Session, username: str) -> User:
    user = find(session, username)
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user
