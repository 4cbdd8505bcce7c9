"""Sign-in throttling: guessing passwords costs the guesser, not the broker.

Per account: after ``ACCOUNT_LIMIT`` failed sign-ins in a row within ``WINDOW`` the account is locked
until the window has passed since the first of them; read from the audit log, so every process and
host agrees. Per address: more than ``ADDRESS_LIMIT`` failures within the window block that address
in this process. A locked or blocked attempt is refused before the password is checked, so it costs
no Argon2 work.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.web.dashboard.tables import AuditEntry

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)


def account_locked_until(session: Session, username: str) -> datetime | None:
    """When the account may be tried again, or None when it is not locked."""
    since = datetime.now(UTC) - WINDOW
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.at)
        .where(AuditEntry.actor == f"web:{username[:100]}", AuditEntry.at >= since,
               AuditEntry.action.in_(("user.login", "user.login_failed")))
        .order_by(AuditEntry.id.desc()).limit(ACCOUNT_LIMIT)).all()
    if len(rows) < ACCOUNT_LIMIT or any(action == "user.login" for action, _ in rows):
        return None
    first = rows[-1][1]
    first = first if first.tzinfo else first.replace(tzinfo=UTC)
    return first + WINDOW


class AddressThrottle:
    """Recent failed sign-ins per client address, in this process."""

    def __init__(self, limit: int = ADDRESS_LIMIT, window: timedelta = WINDOW) -> None:
        self.limit = limit
        self.window = window.total_seconds()
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, address: str) -> bool:
        with self._lock:
            times = self._recent(address)
            return times is not None and len(times) >= self.limit

    def failed(self, address: str) -> None:
        with self._lock:
            times = self._recent(address)
            if times is None:
                if len(self._failures) > 10_000:  # bounded memory under a spray of addresses
                    self._failures.clear()
                times = self._failures[address] = deque()
            times.append(time.monotonic())

    def _recent(self, address: str) -> deque[float] | None:
        times = self._failures.get(address)
        if times is not None:
            cutoff = time.monotonic() - self.window
            while times and times[0] < cutoff:
                times.popleft()
        return times
