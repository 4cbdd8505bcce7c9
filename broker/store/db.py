"""Engine, sessions and transactions for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite: WAL mode, ``synchronous=FULL`` (a commit is on disk before it returns, so an answer sent
after it survives a power loss, StUF 03.01 §4.4), foreign keys on, and write transactions serialised
across processes with a file lock (``BEGIN IMMEDIATE`` under it), which keeps writers from colliding
and backing off with sleeps (shared/docs/performance-notes.md). PostgreSQL: a pooled engine with
``synchronous_commit=on``; the queue uses row locks (``FOR UPDATE SKIP LOCKED``) so several broker
processes can share one database.

Group commit (:meth:`Database.grouped`, :meth:`Database.submit`): the writes of many requests in one
transaction and one fsync. Request threads hand their write to one committer thread and wait; each
request's write runs in a savepoint of its own only when the group has to be retried, so a duplicate
key fails that request alone. On a SQLite file the writes of the small requests an event loop
handles (a queued message's rows, a question's log rows, a sync message's work in the embedded
zaaksysteem) are committed by the loop itself, one group per turn of the loop, whenever the write lock
is free (:class:`_LoopCommitter`): a committer thread holding the write lock would wait for the
interpreter at every call into SQLite while the loop runs Python, and the other processes would wait
for it. Writes that promise nothing to anyone (a question's log rows) may ask not to wait for the disk
(``durable=False``); a group made only of them commits without an fsync, and the next durable commit
takes them to the disk too.

SQLite checkpoints (:class:`_Checkpointer`): a thread of each writing process copies the WAL into the
database file shortly after writes, beside the writers, so that a commit no longer stops for a
checkpoint of thousands of pages and its fsync (tens of milliseconds, every few seconds under load,
which every request waiting for that commit paid). SQLite's own checkpoint after a commit stays, at
2,000 pages, for what is left and to let the WAL start over from its beginning.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import logging
import os
import queue
import sqlite3
import threading
import time
from asyncio import AbstractEventLoop, get_running_loop
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

#: what Core statements run on: an ORM session or a plain connection (Database.write_connection)
Executor = Session | Connection
T = TypeVar("T")
log = logging.getLogger(__name__)


class Database:
    def __init__(self, url: str, *, echo: bool = False, threads: int = 16) -> None:
        """``threads``: how many of this process's threads may use the database at once (the request
        handlers); the connection pool is sized for them plus the delivery worker's. A database error
        names its statement but not its parameters (``hide_parameters``): they hold personal data (a
        rol's XML, a message's names), and an error's text reaches log lines and a delivery's last error."""
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
                url, echo=echo, hide_parameters=True, connect_args={"timeout": 30, "check_same_thread": False},
                **pool)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite's own transaction handling is replaced by explicit BEGIN statements
            event.listen(self.engine, "begin", _sqlite_begin)
            self._lock_path = Path(path + ".writelock") if path and path != ":memory:" else None
        else:
            # synchronous_commit=on is PostgreSQL's default; stated so a server-wide "off" cannot weaken it
            # (added to the URL's own options, which connect_args would otherwise replace)
            given = make_url(url).query.get("options")
            options = " ".join([*([given] if isinstance(given, str) else list(given or ())),
                                "-c synchronous_commit=on"])
            self.engine = create_engine(url, echo=echo, pool_size=10, max_overflow=max(20, threads + 16),
                                        pool_pre_ping=True, hide_parameters=True, connect_args={"options": options})
            self._lock_path = None
        self._thread_lock = threading.RLock()
        self._lock_fd: tuple[int, int] | None = None  # (pid, fd): the lock file, opened once per process
        self._lock_held = False  # changed only by the thread holding _thread_lock
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._committer: _GroupCommitter | None = None
        self._committer_guard = threading.Lock()
        #: a SQLite database file's path, for the checkpointer's connection
        self._checkpoint_path = make_url(url).database if self._lock_path is not None else None
        self._checkpointer: _Checkpointer | None = None
        #: per thread: its event loop's _LoopCommitter (SQLite files only; see submit's ``on_loop``)
        self._loop_committers = threading.local()

    def grouped(self, work: Callable[[Connection], T], *, durable: bool = True) -> T:
        """Run ``work`` in a write transaction shared with other requests' writes and wait until that
        transaction is committed (durably, unless ``durable`` is False: see :meth:`submit`): its result,
        or the exception it (or the commit) raised. ``work`` runs on the committer thread and may run
        twice (the group is retried with savepoints when one request's write fails), so it must only
        write to the database."""
        return self.submit(work, durable=durable).result()

    def submit(self, work: Callable[[Connection], T], *, batch: Batch[T] | None = None,
               item: object = None, on_loop: bool = False, durable: bool = True) -> Future[T] | asyncio.Future[T]:
        """:meth:`grouped` without waiting: a future that completes once ``work`` is committed (an
        event loop awaits it with ``asyncio.wrap_future`` instead of holding a thread). A future
        cancelled before its group starts is dropped unwritten.

        ``batch`` (with this job's ``item``) does the work of several such jobs at once: jobs next to
        each other in a group with the same ``batch`` go to it together, ``batch(conn, items)`` giving
        their results in order (each table's rows in one statement instead of one per job). Should it
        fail, the group runs again as without it: each job's ``work`` in a savepoint of its own.

        ``on_loop``: the caller is the event loop running in this thread, which awaits the future, and
        ``work`` is a small request's (a few rows' statements, or a small message's work in the
        embedded zaaksysteem; the pipeline sends a large body to a thread). On a SQLite file the loop
        then commits such writes itself (:class:`_LoopCommitter`), as one group per turn of the loop,
        when the write lock is free: on a local disk a commit takes a fraction of a millisecond, while
        the committer thread would wait for the interpreter at every call into SQLite with the write
        lock held. The future is then the loop's own (``asyncio.wrap_future`` returns it as it is).

        ``durable=False``: a write whose loss in a power cut (not in a crash of the process) harms no one,
        because nothing was promised on it: the log rows of a question (an La01 acknowledges nothing).
        A group made only of such writes is committed without waiting for the disk (SQLite
        ``synchronous=NORMAL`` for that transaction, PostgreSQL ``synchronous_commit=off``); the next
        durable commit takes them to the disk with it. A group with one durable write is durable."""
        job = _Job(work, batch, item, durable)
        if on_loop and self._lock_path is not None:
            loop = get_running_loop()
            committer = getattr(self._loop_committers, "committer", None)
            if committer is None or committer.loop is not loop:
                committer = self._loop_committers.committer = _LoopCommitter(self, loop)
            return committer.add(job)
        self._committer_thread().add(job)
        return job.future

    def commit_here(self, jobs: list[tuple[Callable[[Connection], Any], Batch[Any] | None, object]]
                    ) -> list[Future[Any]]:
        """``jobs`` (each ``submit``'s ``work``, ``batch`` and ``item``) as one group committed by the
        calling thread, which would otherwise only wait for the committer thread (a delivery worker's
        claim): their futures, done. The same transaction, retry with savepoints and write lock as
        :meth:`submit`; not joined by other threads' writes."""
        group = [_Job(work, batch, item) for work, batch, item in jobs]
        for job in group:
            job.future.set_running_or_notify_cancel()
        _commit(group, self)
        return [job.future for job in group]

    def _committer_thread(self) -> _GroupCommitter:
        committer = self._committer
        if committer is None or committer.pid != os.getpid():
            with self._committer_guard:
                committer = self._committer
                if committer is None or committer.pid != os.getpid():
                    committer = self._committer = _GroupCommitter(self)
        return committer

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
    def _write_lock(self, *, wait: bool = True) -> Iterator[bool]:
        """The write lock of this process's threads and, on a SQLite file, of every process (a file
        lock). Yields True once held; with ``wait=False``, False at once when another holds it."""
        if not self.is_sqlite:
            yield True
            return
        if not self._thread_lock.acquire(blocking=wait):
            yield False
            return
        try:
            if self._lock_path is None or self._lock_held:
                # nested in this thread's own write lock: the flock is held already (the one descriptor
                # is shared, so an inner LOCK_UN would release the outer block's lock)
                yield True
                return
            fd = self._lock_file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                locked = False
            else:
                locked = True
            if not locked:
                yield False
                return
            self._lock_held = True
            try:
                yield True
            finally:
                self._lock_held = False
                fcntl.flock(fd, fcntl.LOCK_UN)
                self._written()
        finally:
            self._thread_lock.release()

    def _written(self) -> None:
        """Wake this process's checkpointer (started here at the first write, again after a fork)."""
        checkpointer = self._checkpointer
        if checkpointer is None or checkpointer.pid != os.getpid():
            with self._committer_guard:
                checkpointer = self._checkpointer
                if checkpointer is None or checkpointer.pid != os.getpid():
                    assert self._checkpoint_path is not None  # (a file: it has a lock path)
                    checkpointer = self._checkpointer = _Checkpointer(self._checkpoint_path)
        checkpointer.wake()

    def _lock_file(self) -> int:
        """The lock file's descriptor, opened once per process (a forked child opens its own: a flock
        belongs to the open file, which a child would otherwise share with its parent)."""
        pid = os.getpid()
        if self._lock_fd is None or self._lock_fd[0] != pid:
            assert self._lock_path is not None
            self._lock_fd = (pid, os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
        return self._lock_fd[1]

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        committer, self._committer = self._committer, None
        if committer is not None:
            committer.stop()
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None and checkpointer.pid == os.getpid():
            checkpointer.stop()
        if self._lock_fd is not None and self._lock_fd[0] == os.getpid():
            os.close(self._lock_fd[1])
        self._lock_fd = None
        self.engine.dispose()


#: the work of several jobs at once: their items in, their results out, in the same order
Batch = Callable[[Connection, list[Any]], list[T]]


class _Job(Generic[T]):
    __slots__ = ("work", "batch", "item", "durable", "future", "result", "error")

    def __init__(self, work: Callable[[Connection], T], batch: Batch[T] | None = None, item: object = None,
                 durable: bool = True) -> None:
        self.work = work
        self.batch = batch
        self.item = item
        self.durable = durable
        self.future: Future[T] = Future()
        self.result: T | None = None
        self.error: BaseException | None = None


class _GroupCommitter:
    """One thread that commits the writes of waiting requests together.

    While one group is being committed (the fsync), the next requests queue up; the thread then takes
    all of them (up to ``limit``) into the next transaction. No request waits for others to arrive:
    under light load a group is one request. A group runs first without savepoints (the usual case,
    nothing fails); when one write fails, the transaction is rolled back and the group run again with
    a savepoint per write, so the failing request gets its error and the others are committed."""

    limit = 64

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pid = os.getpid()
        self.jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="group-commit", daemon=True)
        self.thread.start()

    def add(self, job: _Job[Any]) -> None:
        self.jobs.put(job)

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            group = [job] if job.future.set_running_or_notify_cancel() else []
            stop = False
            while len(group) < self.limit:
                try:
                    more = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                if more.future.set_running_or_notify_cancel():  # False: its caller went away
                    group.append(more)
            if group:
                _commit(group, self.db)
            if stop:
                return


def _commit(group: list[_Job[Any]], db: Database) -> float:
    """One group's transaction (again with savepoints when a write failed), its jobs' futures set; the
    seconds its COMMIT took (what the disk costs, apart from the jobs' work)."""
    if not group:
        return 0.0
    committing = 0.0
    try:
        committing = _attempt(group, db, savepoints=False)
        if committing < 0:
            committing = _attempt(group, db, savepoints=True)
    except BaseException as exc:  # the transaction or its commit failed: none of the group is stored
        for job in group:
            if job.error is None:
                job.error = exc
    finally:
        for job in group:
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.result)  # set when error is None
    return max(committing, 0.0)


def _attempt(group: list[_Job[Any]], db: Database, *, savepoints: bool) -> float:
    """One transaction for the group: the seconds of its COMMIT; -1.0 (rolled back) when a write failed
    without savepoints."""
    durable = any(job.durable for job in group)
    with db._write_lock(), db.engine.connect() as conn, _lasting(conn, durable):
        conn = conn.execution_options(sqlite_write=True)
        with conn.begin() as tx:
            if not durable and not db.is_sqlite:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")
            i = 0
            while i < len(group):
                run = _run_of(group, i) if not savepoints else [group[i]]
                i += len(run)
                if len(run) > 1:  # several jobs' work at once (Database.submit's batch)
                    for job in run:
                        job.result, job.error = None, None
                    batch = run[0].batch
                    assert batch is not None  # (a run of several shares one)
                    try:
                        results = batch(conn, [job.item for job in run])
                        for job, result in zip(run, results, strict=True):
                            job.result = result
                    except Exception as exc:
                        for job in run:
                            job.error = exc
                        tx.rollback()
                        return -1.0
                    continue
                job = run[0]
                job.result, job.error = None, None
                if not savepoints:
                    try:
                        job.result = job.work(conn)
                    except Exception as exc:
                        job.error = exc
                        tx.rollback()
                        return -1.0
                    continue
                savepoint = conn.begin_nested()
                try:
                    job.result = job.work(conn)
                except Exception as exc:
                    savepoint.rollback()
                    job.error = exc
                else:
                    savepoint.commit()
            started = time.monotonic()
            tx.commit()
            return time.monotonic() - started


@contextmanager
def _lasting(conn: Connection, durable: bool) -> Iterator[None]:
    """On SQLite, a transaction begun in this block whose jobs are none of them ``durable`` is
    committed without an fsync (``synchronous=NORMAL``; SQLite takes the setting only outside a
    transaction, so it is set on the driver's connection before the BEGIN and put back after the
    commit). A connection whose setting could not be put back is not used again."""
    if durable or conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA synchronous=NORMAL")
    try:
        yield
    finally:
        try:
            driver.execute("PRAGMA synchronous=FULL")
        except BaseException:
            conn.invalidate()  # closed and replaced in the pool rather than left at NORMAL
            raise


def _run_of(group: list[_Job[Any]], start: int) -> list[_Job[Any]]:
    """The jobs from ``start`` on that share its batch (just that job when it has none)."""
    batch = group[start].batch
    end = start + 1
    if batch is not None:
        while end < len(group) and group[end].batch == batch:
            end += 1
    return group[start:end]


class _LoopCommitter:
    """The group commit of the writes an event loop's small requests make on a SQLite file
    (``Database.submit``'s ``on_loop``), run by the loop itself.

    The first write of a turn of the loop schedules the commit (``call_soon``); the writes of the
    requests handled in the same turn join it. The commit runs on the loop when the write lock is free;
    while another process or thread holds it, the loop looks again every ``retry`` seconds (serving
    other requests meanwhile, whose writes join the group) and after ``patience`` seconds hands the
    group to the committer thread. When the COMMITs on the loop take longer than ``slow`` seconds on
    average (a slow disk; the jobs' own work does not count, it is their requests' as much as their
    parsing is), the groups go to the committer thread for ``pause`` seconds. Each write's caller
    awaits an asyncio future of the loop, settled in place when the loop commits."""

    slow = 0.005
    pause = 1.0
    retry = 0.001
    patience = 0.01

    def __init__(self, db: Database, loop: AbstractEventLoop) -> None:
        self.db, self.loop = db, loop
        self.jobs: list[tuple[_Job[Any], asyncio.Future[Any]]] = []
        self._thread_until = 0.0  # time.monotonic() until which the groups go to the committer thread
        self._average = 0.0  # of the commits' durations on the loop, seconds
        self._busy_since: float | None = None  # since when the write lock was found held

    def add(self, job: _Job[T]) -> asyncio.Future[T]:
        if not self.jobs:
            self.loop.call_soon(self._flush)
        waiter: asyncio.Future[T] = self.loop.create_future()
        self.jobs.append((job, waiter))
        return waiter

    def _flush(self) -> None:
        now = time.monotonic()
        if now >= self._thread_until:
            with self.db._write_lock(wait=False) as locked:
                if locked:
                    jobs, self.jobs, self._busy_since = self.jobs, [], None
                    # a caller gone meanwhile (its waiter cancelled): its write is dropped
                    jobs = [(job, waiter) for job, waiter in jobs
                            if not waiter.cancelled() and job.future.set_running_or_notify_cancel()]
                    committing = _commit([job for job, _ in jobs], self.db)
                    for job, waiter in jobs:
                        _settle(job.future, waiter)
                    # a moving average of the COMMITs alone (the disk's part; the jobs' work is the
                    # requests' own): one that met a checkpoint or a busy moment does not count
                    self._average += (committing - self._average) * 0.2
                    if self._average > self.slow:
                        self._thread_until, self._average = now + self.pause, self.slow / 2
                    return
            if self._busy_since is None:
                self._busy_since = now
            if now - self._busy_since < self.patience:
                self.loop.call_later(self.retry, self._flush)
                return
        jobs, self.jobs, self._busy_since = self.jobs, [], None
        committer = self.db._committer_thread()
        for job, waiter in jobs:
            job.future.add_done_callback(functools.partial(self._settle_from_thread, waiter))
            waiter.add_done_callback(functools.partial(_cancel_if_cancelled, job.future))
            committer.add(job)

    def _settle_from_thread(self, waiter: asyncio.Future[Any], done: Future[Any]) -> None:
        if not done.cancelled():
            self.loop.call_soon_threadsafe(_settle, done, waiter)


def _settle(done: Future[T], waiter: asyncio.Future[T]) -> None:
    """A committed job's outcome on the loop's future (unless its caller has gone)."""
    if waiter.cancelled():
        return
    error = done.exception()
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(done.result())


def _cancel_if_cancelled(job: Future[Any], waiter: asyncio.Future[Any]) -> None:
    if waiter.cancelled():
        job.cancel()  # dropped unless its group has started


class _Checkpointer:
    """A thread that checkpoints a SQLite database's WAL (passive: beside the writers) ``delay``
    seconds after it is woken by a write, with a connection of its own, so that the bulk of the copying
    and the database file's fsync happen off the commit path. A commit then finds little left for
    SQLite's own checkpoint (``wal_autocheckpoint``), which lets the WAL start over."""

    delay = 0.1

    def __init__(self, path: str) -> None:
        self.path = path
        self.pid = os.getpid()
        self._woken = threading.Event()
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
        self.thread.start()

    def wake(self) -> None:
        self._woken.set()

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA synchronous=FULL")  # the database file synced once the WAL is copied
            while True:
                self._woken.wait()
                if self._stopping.wait(self.delay):  # the writes of the next moments join this checkpoint
                    return
                self._woken.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # left to the next one, or to SQLite's own after a commit
                    log.warning("a checkpoint of the SQLite WAL failed: %s", exc)
                    if self._stopping.wait(1):
                        return
        finally:
            conn.close()


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.isolation_level = None  # autocommit at the driver; SQLAlchemy emits BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # the bulk of each checkpoint is done by the process's checkpointer thread (_Checkpointer); what it
    # left when the WAL holds this many pages is copied by the commit that finds it, after which the WAL
    # starts over from its beginning
    cur.execute("PRAGMA wal_autocheckpoint=2000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    """A transaction's BEGIN (IMMEDIATE for a write: the write lock at once, not at the first write),
    sent on the driver's connection: through ``Connection.exec_driver_sql`` it cost 70-110 µs of CPU
    per transaction (an execution context of SQLAlchemy's), on the driver about 20. A driver error is
    raised as SQLAlchemy raises it, the connection invalidated when the error says it is gone."""
    statement = "BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_write", False) else "BEGIN"
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        driver.execute(statement)
    except sqlite3.Error as exc:
        if conn.dialect.is_disconnect(cast(Any, exc), driver, None):
            conn.invalidate(exc)
        raise as_sqlalchemy_error(statement, None, exc, conn) from exc


def connection_of(executor: Executor) -> Connection:
    """The connection an executor's statements run on (an ORM session's, begun if it was not)."""
    return executor.connection() if isinstance(executor, Session) else executor


def as_sqlalchemy_error(sql: str, params: Any, exc: Exception, conn: Connection) -> Exception:
    """The driver's error as SQLAlchemy raises it (sqlite3.IntegrityError: sqlalchemy's IntegrityError)."""
    dbapi = conn.dialect.loaded_dbapi
    if isinstance(exc, dbapi.Error):
        # without the rows' values when the engine hides them (broker.store.db: personal data)
        return DBAPIError.instance(sql, params, exc, dbapi.Error, hide_parameters=conn.engine.hide_parameters,
                                   dialect=conn.dialect)
    return exc
