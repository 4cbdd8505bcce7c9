"""The broker's own writes to the ZGW APIs, so that their notifications are not told again.

A ZGW API announces every write once (Notificaties API). :class:`OwnWrites` keeps one row per write
the target made (table ``zgw_own_writes``, shared by every broker process: a notification may reach
another process than the one that wrote) until a notification claims it:

- :meth:`OwnWrites.writing` brackets one write: a row without ``url`` while it is in flight, which
  gets the written resource's URL (a create: the ``url`` it answered; a change or delete: the resource
  it was sent to) when it succeeded, and is removed when it failed;
- :meth:`OwnWrites.claim`: is a notification's ``resourceUrl`` a write of the broker's own not claimed
  before? It marks that row as claimed by the notification (the same notification sent again, to a
  second abonnement or after no answer, finds it). A ZGW API may announce a write before the writer read its answer, so
  while writes that started earlier are still in flight (in any process) it looks again, for at most
  ``wait`` seconds. A later change by someone else to the same resource finds no row and is told.

Rows older than ``seconds`` (a write the API did not announce, such as a lock) are removed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import CursorResult, delete, func, insert, select, update

from broker.adapters.zgw.tables import ZgwOwnWrite
from broker.store.db import Database


class Write:
    """One write in flight; :meth:`done` says what it wrote."""

    def __init__(self) -> None:
        self.url: str | None = None

    def done(self, method: str, url: str, response: httpx.Response) -> None:
        written = url if method != "POST" else None
        if response.content and "json" in response.headers.get("content-type", ""):
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("url"), str):
                written = body["url"]
        self.url = _key(written) if written else None


class OwnWrites:
    def __init__(self, db: Database, target: str, seconds: float = 300.0, wait: float = 15.0) -> None:
        self.db = db
        self.target = target
        self.seconds = seconds
        self.wait = wait

    @contextmanager
    def writing(self) -> Iterator[Write]:
        with self.db.write() as s:
            row_id = s.execute(insert(ZgwOwnWrite).values(target=self.target, url=None, started_at=_now())
                               .returning(ZgwOwnWrite.id)).scalar_one()
        write = Write()
        try:
            yield write
        finally:
            with self.db.write() as s:
                if write.url is None:  # failed, or nothing to recognise
                    s.execute(delete(ZgwOwnWrite).where(ZgwOwnWrite.id == row_id))
                else:
                    s.execute(update(ZgwOwnWrite).where(ZgwOwnWrite.id == row_id).values(url=write.url))
                if row_id % 100 == 0:  # also when no notification comes to claim them
                    s.execute(delete(ZgwOwnWrite).where(
                        ZgwOwnWrite.started_at < _now() - timedelta(seconds=self.seconds)))

    def claim(self, url: str, notification: str) -> bool:
        """Is the notification (``notification``: what identifies it, the same when it is sent again)
        about a write of the broker's own? It takes the oldest unclaimed row of ``url``; the same
        notification sent again finds the row it took."""
        key = _key(url)
        deadline = time.monotonic() + self.wait
        with self.db.read() as s:  # the writes in flight now (an earlier one may be this notification's)
            before = s.execute(select(func.max(ZgwOwnWrite.id)).where(ZgwOwnWrite.target == self.target)).scalar()
        mine = (ZgwOwnWrite.target == self.target, ZgwOwnWrite.url == key)
        while True:
            now = _now()
            with self.db.write() as s:
                s.execute(delete(ZgwOwnWrite).where(ZgwOwnWrite.started_at < now - timedelta(seconds=self.seconds)))
                if s.execute(select(ZgwOwnWrite.id).where(*mine, ZgwOwnWrite.claimed == notification)
                             .limit(1)).scalar() is not None:
                    return True  # told before: the same notification again
                found = s.execute(select(ZgwOwnWrite.id).where(*mine, ZgwOwnWrite.claimed.is_(None))
                                  .order_by(ZgwOwnWrite.id).limit(1)).scalar()
                if found is not None:
                    taken = s.execute(update(ZgwOwnWrite).where(ZgwOwnWrite.id == found, ZgwOwnWrite.claimed.is_(None))
                                      .values(claimed=notification))
                    if isinstance(taken, CursorResult) and taken.rowcount:
                        return True
                    continue  # claimed by another process meanwhile: look again
                in_flight = before is not None and s.execute(
                    select(func.count()).select_from(ZgwOwnWrite).where(
                        ZgwOwnWrite.target == self.target, ZgwOwnWrite.url.is_(None),
                        ZgwOwnWrite.id <= before)).scalar_one() > 0
            if not in_flight or time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def _key(url: str) -> str:
    return url.split("?")[0].rstrip("/")[:1000]


def _now() -> datetime:
    return datetime.now(UTC)
