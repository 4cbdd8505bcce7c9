"""Engine, sessions and transactions for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite: WAL mode, ``synchronous=NORMAL``, foreign keys on, and write transactions serialised across
processes with a file lock (``BEGIN IMMEDIATE`` under it), which keeps writers from colliding and
backing off with sleeps (shared/docs/performance-notes.md). PostgreSQL: a pooled engine; the queue
uses row locks (``FOR UPDATE SKIP LOCKED``) so several broker processes can share one database.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

#: what Core statements run on: an ORM session or a plain connection (Database.write_connection)
Executor = Session | Connection


class Database:
    def __init__(self, url: str, *, echo: bool = False, threads: int = 16) -> None:
        """``threads``: how many of this process's threads may use the database at once (the request
        handlers); the connection pool is sized for them plus the delivery worker's."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # a file: each thread checks out a connection of its own (sessions never cross threads);
            # in memory: one connection, the only way all threads see the same database
            memory = not path or path == ":memory:"
            pool = {"poolclass": StaticPool} if memory else {"pool_size": threads, "max_overflow": threads + 16}
            self.engine: Engine = create_engine(
                url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}, **pool
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite's own transaction handling is replaced by explicit BEGIN statements
            event.listen(self.engine, "begin", _sqlite_begin)
            self._lock_path = Path(path + ".writelock") if path and path != ":memory:" else None
        else:
            self.engine = create_engine(url, echo=echo, pool_size=10, max_overflow=max(20, threads + 16),
                                        pool_pre_ping=True)
            self._lock_path = None
        self._thread_lock = threading.RLock()
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on an exception."""
        with self._write_lock():
            session = self.sessions()
            try:
                with session.begin():
                    session.connection(execution_options={"sqlite_write": True})
                    yield session
            finally:
                session.close()

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A write transaction on a plain Core connection, for hot paths that need no ORM."""
        with self._write_lock(), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()  # ends the transaction; loaded objects stay readable (detached, not expired)

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        if not self.is_sqlite:
            yield
            return
        with self._thread_lock:
            if self._lock_path is None:
                yield
                return
            with open(self._lock_path, "a+b") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def checkpoint(self) -> None:
        """Move the SQLite WAL into the database file outside the request path."""
        if self.is_sqlite:
            with self._write_lock(), self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.isolation_level = None  # autocommit at the driver; SQLAlchemy emits BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # checkpoints are run by the scheduler (Database.checkpoint), not by a request that happens to commit
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("sqlite_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
