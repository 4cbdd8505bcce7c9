"""Group commit (broker.store.db.Database.grouped): several requests' writes in one transaction and
one fsync, each request answered only once its write is committed, a failing write failing only its
own request; and the durability settings behind the Bv03 (StUF 03.01 §4.4).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import fcntl
import functools
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from broker.adapters.targets import ZaaksysteemTarget
from broker.errors import StufError
from broker.intake.answers import HttpAnswer
from broker.model.ports import Context, Deferred
from broker.queue import engine
from broker.runtime import Broker
from broker.store import db as dbmodule
from broker.store.db import Database, _LoopCommitter
from broker.store.tables import Message, MessagePayload
from broker.stuf.schemas import SchemaSet
from broker.zds import kennisgeving, read
from tests.support import configs, live, pg
from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support.target import CountingTarget

meta = MetaData()
items = Table("items", meta, Column("id", Integer, primary_key=True), Column("name", String(20), unique=True))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path: Path) -> Iterator[Database]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'g.db'}"
        else:
            url = stack.enter_context(pg.schema_url())
        database = Database(url)
        stack.callback(database.dispose)
        meta.create_all(database.engine)
        yield database


def _ident() -> str:
    return f"1234G{uuid.uuid4().hex[:12]}"


def _add(name: str, gate: threading.Event | None = None):
    def work(conn: Connection) -> int:
        if gate is not None:
            gate.wait(5)
        return conn.execute(insert(items).returning(items.c.id), {"name": name}).scalar_one()
    return work


def _names(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return sorted(conn.execute(select(items.c.name)).scalars())


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """(group size, with savepoints) of every transaction the group committer runs."""
    seen: list[tuple[int, bool]] = []
    attempt = dbmodule._attempt

    def counted(group: list, db: Database, *, savepoints: bool) -> bool:
        seen.append((len(group), savepoints))
        return attempt(group, db, savepoints=savepoints)

    monkeypatch.setattr(dbmodule, "_attempt", counted)
    return seen


@contextlib.contextmanager
def _committer_held(database: Database) -> Iterator[Callable[[int], None]]:
    """The group committer held by a job of its own; ``release(n)`` lets it go once ``n`` more jobs wait
    behind it, so that those are committed as one group."""
    gate, holding = threading.Event(), threading.Event()

    def hold(conn: object) -> bool:
        holding.set()
        return gate.wait(10)

    held = database.submit(hold)
    # the committer must be inside the held job before any other is queued: otherwise it may take the
    # held job and the first of the others as one group, and the rest become a group of their own
    assert holding.wait(10)
    committer = database._committer
    assert committer is not None

    def release(n: int) -> None:
        deadline = time.monotonic() + 10
        while committer.jobs.qsize() < n and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.set()

    try:
        yield release
    finally:
        gate.set()
        held.result(10)


def _send(broker: Broker, body: bytes) -> HttpAnswer:
    """A creeerZaak sent to the broker's asynchronous port, as the edge hands it over: in a context of
    its own (the log context the pipeline binds does not stay behind in this thread)."""
    return contextvars.copy_context().run(
        broker.pipeline.handle, e.ASYNC, body, "text/xml; charset=utf-8",
        '"http://www.stufstandaarden.nl/koppelvlak/zds0120/creeerZaak_ZakLk01"')


def _creeer_zaak_broker(stack: contextlib.ExitStack, tmp_path: Path, backend: str) -> Broker:
    """A broker that queues creeerZaak for the embedded zaaksysteem and has no worker of its own."""
    config = configs.write_config(tmp_path, routes={
        "targets": {"zs": {"adapter": "embedded"}},
        "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zs", "mode": "queued"}]},
                   {"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
        "delivery": {"worker_in_serve": False}})
    url = stack.enter_context(pg.schema_url()) if backend == "postgres" else None
    broker = Broker(live.make_settings(tmp_path, config_dir=config, database_url=url))
    stack.callback(broker.close)
    return broker


def _queued_and_claimed(broker: Broker, count: int) -> tuple[list[str], list[int]]:
    """``count`` new zaken sent as queued creeerZaken (each answered with a Bv03), then claimed by a
    worker "w": (their identificaties, the claimed deliveries)."""
    new = [_ident() for _ in range(count)]
    for z in new:
        answer = _send(broker, e.envelope(m.creeer_zaak(z)))
        assert answer.status == 200 and b"Bv03" in answer.body
    ids = broker.queue.claim("w")
    assert len(ids) == count
    return new, ids


def test_writes_of_many_threads_are_committed_together_and_a_conflict_fails_only_its_own(
        db: Database, attempts: list[tuple[int, bool]]) -> None:
    db.grouped(_add("taken"))
    gate = threading.Event()
    # the first write holds the committer until the others have queued up behind it: one group
    first = threading.Thread(target=db.grouped, args=(_add("first", gate),))
    first.start()
    names = [f"n{i}" for i in range(12)] + ["taken"] + [f"m{i}" for i in range(12)]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        futures = [pool.submit(db.grouped, _add(name)) for name in names]
        gate.set()
        results = {}
        for name, future in zip(names, futures, strict=True):
            try:
                results[name] = future.result(10)
            except IntegrityError as exc:
                results[name] = exc
    first.join(10)
    assert isinstance(results.pop("taken"), IntegrityError)
    assert all(isinstance(v, int) for v in results.values()), results
    assert len(set(results.values())) == len(results)
    assert _names(db) == sorted({"taken", "first", *results})
    # the writes queued behind "first" went in groups; the group with the conflict ran again with savepoints
    assert max(size for size, _ in attempts) > 1
    assert any(savepoints for _, savepoints in attempts)


def test_a_failed_commit_fails_every_request_of_the_group(db: Database) -> None:
    def broken(conn: Connection) -> int:
        conn.execute(insert(items), {"name": "rolled back"})
        raise RuntimeError("not this one")

    with pytest.raises(RuntimeError):
        db.grouped(broken)
    assert "rolled back" not in _names(db)
    assert db.grouped(_add("after")) > 0  # the committer carries on


def test_sqlite_commits_are_durable(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        with database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        database.dispose()


def test_a_sqlite_write_transaction_holds_the_write_lock_from_its_begin_and_a_failed_begin_is_sqlalchemys(
        tmp_path: Path) -> None:
    """The BEGIN goes to the driver itself (broker.store.db._sqlite_begin): a write transaction is
    BEGIN IMMEDIATE (another writer is refused while it is open, a reader is not), a read is a plain
    BEGIN, and a BEGIN the database refuses raises SQLAlchemy's OperationalError, as a statement would."""
    path = tmp_path / "b.db"
    database = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        meta.create_all(database.engine)
        with database.write_connection() as conn:
            conn.execute(insert(items), {"name": "held"})
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            with database.read() as s:  # a reader begins beside the writer
                assert s.execute(select(func.count()).select_from(items)).scalar_one() == 0
        other.execute("BEGIN IMMEDIATE")  # the writer is done: the lock is free
        try:
            with database.engine.connect() as conn:
                driver = conn.connection.driver_connection
                assert driver is not None
                driver.execute("PRAGMA busy_timeout=50")
                with pytest.raises(OperationalError, match="BEGIN IMMEDIATE"):
                    conn.execution_options(sqlite_write=True).begin()
                driver.execute("PRAGMA busy_timeout=30000")
        finally:
            other.execute("ROLLBACK")
        assert _names(database) == ["held"]
    finally:
        other.close()
        database.dispose()


def test_sqlite_commits_are_checkpointed_beside_the_writers(tmp_path: Path) -> None:
    """The WAL reaches the database file itself shortly after commits, with no further commit (the
    process's checkpointer thread); a commit copies only what is left at 2,000 pages."""
    path = tmp_path / "c.db"
    database = Database(f"sqlite:///{path}")
    try:
        meta.create_all(database.engine)
        for i in range(5):
            database.grouped(lambda conn, i=i: conn.execute(insert(items).values(name=f"ckpt{i}")).rowcount)
        with database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 2000

        def in_the_file_itself() -> int:
            copy = tmp_path / f"copy-{uuid.uuid4().hex}.db"
            copy.write_bytes(path.read_bytes())  # the database file without its WAL
            with contextlib.closing(sqlite3.connect(copy)) as conn:
                try:
                    return conn.execute("SELECT count(*) FROM items").fetchone()[0]
                except sqlite3.OperationalError:  # the table itself is not in the file yet
                    return 0

        deadline = time.monotonic() + 20
        while in_the_file_itself() < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert in_the_file_itself() == 5
        assert database._checkpointer is not None
        thread = database._checkpointer.thread
    finally:
        database.dispose()
    assert not thread.is_alive()


def _on_a_loop(database: Database, names: list[str]) -> list[tuple[int, int]]:
    """``names`` written with ``Database.submit(on_loop=True)`` in one turn of an event loop:
    (row id, thread that ran the write) of each."""
    def work(name: str) -> Callable[[Connection], tuple[int, int]]:
        def run(conn: Connection) -> tuple[int, int]:
            row = conn.execute(insert(items).returning(items.c.id), {"name": name}).scalar_one()
            return row, threading.get_ident()
        return run

    async def main() -> list[tuple[int, int]]:
        futures = [asyncio.wrap_future(database.submit(work(n), on_loop=True)) for n in names]
        return list(await asyncio.gather(*futures))
    return asyncio.run(main())


def test_an_event_loops_light_writes_are_committed_by_the_loop_itself(
        tmp_path: Path, attempts: list[tuple[int, bool]]) -> None:
    """The writes an event loop makes in one turn (a queued message's rows, a question's log rows) are
    one transaction, run by the loop's own thread: no committer thread is started for them."""
    database = Database(f"sqlite:///{tmp_path / 'l.db'}")
    try:
        meta.create_all(database.engine)
        done = _on_a_loop(database, ["a", "b", "c"])
        assert {thread for _, thread in done} == {threading.get_ident()}  # asyncio.run's loop: this thread
        assert attempts == [(3, False)]
        assert database._committer is None
        assert _names(database) == ["a", "b", "c"]
    finally:
        database.dispose()


def test_the_loop_does_not_wait_for_a_write_lock_held_elsewhere(tmp_path: Path) -> None:
    """While another process holds the write lock, the loop goes on serving (it looks again every
    ``retry`` seconds); after ``patience`` the group goes to the committer thread, which waits for the
    lock, and the writes are committed once it is free."""
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    other = os.open(tmp_path / "w.db.writelock", os.O_RDWR | os.O_CREAT)  # another process's open file
    try:
        meta.create_all(database.engine)
        fcntl.flock(other, fcntl.LOCK_EX)
        threading.Timer(0.5, fcntl.flock, (other, fcntl.LOCK_UN)).start()

        async def main() -> tuple[int, int, int]:
            def run(conn: Connection) -> int:
                conn.execute(insert(items), {"name": "late"})
                return threading.get_ident()
            future = asyncio.wrap_future(database.submit(run, on_loop=True))
            ticks = 0
            while not future.done():  # the loop is free: this coroutine keeps running meanwhile
                await asyncio.sleep(0.01)
                ticks += 1
            return await future, ticks, threading.get_ident()

        writer, ticks, loop_thread = asyncio.run(main())
        assert ticks >= 20  # half a second of 10 ms naps: the loop never stood still
        assert database._committer is not None and writer == database._committer.thread.ident != loop_thread
        assert _names(database) == ["late"]
        # with the lock free again, the loop commits itself
        assert {thread for _, thread in _on_a_loop(database, ["next"])} == {threading.get_ident()}
    finally:
        os.close(other)
        database.dispose()


def test_slow_commits_on_the_loop_send_its_writes_to_the_committer_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk whose commits take longer than ``slow`` on average: the loop's groups go to the committer
    thread for ``pause`` seconds, so that the loop does not stand still for every fsync."""
    monkeypatch.setattr(_LoopCommitter, "slow", 0.0)  # every commit is too slow
    database = Database(f"sqlite:///{tmp_path / 's.db'}")
    try:
        meta.create_all(database.engine)
        here = threading.get_ident()

        async def main() -> list[int]:
            threads = []
            for name in ("first", "second"):
                def run(conn: Connection, name: str = name) -> int:
                    conn.execute(insert(items), {"name": name})
                    return threading.get_ident()
                threads.append(await asyncio.wrap_future(database.submit(run, on_loop=True)))
            return threads

        first, second = asyncio.run(main())
        assert first == here and second != here
        assert _names(database) == ["first", "second"]
    finally:
        database.dispose()


def test_only_the_commit_counts_as_slow_on_the_loop_not_the_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes whose own work takes longer than ``slow`` (a sync message's statements) stay on the loop:
    the guard is for a slow disk, and only the COMMITs' time counts toward it."""
    monkeypatch.setattr(_LoopCommitter, "slow", 0.005)
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        meta.create_all(database.engine)

        async def main() -> list[int]:
            threads = []
            for name in ("first", "second", "third"):
                def run(conn: Connection, name: str = name) -> int:
                    time.sleep(0.02)  # the work: four times ``slow``
                    conn.execute(insert(items), {"name": name})
                    return threading.get_ident()
                threads.append(await asyncio.wrap_future(database.submit(run, on_loop=True)))
            return threads

        assert set(asyncio.run(main())) == {threading.get_ident()}
        assert database._committer is None
        assert _names(database) == ["first", "second", "third"]
    finally:
        database.dispose()


def _sync_broker(tmp_path: Path) -> Broker:
    """A broker that delivers every operation sync to the embedded zaaksysteem (no worker of its own)."""
    config = configs.write_config(tmp_path, routes={
        "targets": {"zs": {"adapter": "embedded"}},
        "routes": [{"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
        "delivery": {"worker_in_serve": False}})
    return Broker(live.make_settings(tmp_path, config_dir=config))


def _begun_on_a_loop(broker: Broker, bodies: list[bytes], port: str = e.ASYNC,
                     operation: str = "creeerZaak_ZakLk01") -> list[HttpAnswer]:
    """Requests (creeerZaken unless said otherwise) begun in one turn of an event loop, each driven in a
    task of its own, as the web edge does (broker.web.app): their answers."""
    action = f'"http://www.stufstandaarden.nl/koppelvlak/zds0120/{operation}"'

    async def one(body: bytes) -> HttpAnswer:
        return await broker.pipeline.begin(port, body, "text/xml; charset=utf-8", action).drive(asyncio.to_thread)

    async def main() -> list[HttpAnswer]:
        return list(await asyncio.gather(*(one(body) for body in bodies)))
    return asyncio.run(main())


def test_sync_work_of_small_messages_begun_on_the_event_loop_is_committed_by_the_loop(
        tmp_path: Path, schemas: SchemaSet, monkeypatch: pytest.MonkeyPatch,
        attempts: list[tuple[int, bool]]) -> None:
    """Small sync creeerZaken into the embedded zaaksysteem, begun on the event loop as the web edge
    begins them: the target's work, the messages and their deliveries are written and committed by the
    loop's own thread, in one group for the requests of one turn, without a hand-off to the committer
    thread and back. A zaak that exists among them still gets StUF058 (the group runs again with
    savepoints, on the loop too), the others their Bv03."""
    broker = _sync_broker(tmp_path)
    try:
        delivered_on: list[int] = []
        deliver = ZaaksysteemTarget.deliver

        def on_thread(self, request, ctx):  # type: ignore[no-untyped-def]
            delivered_on.append(threading.get_ident())
            return deliver(self, request, ctx)
        monkeypatch.setattr(ZaaksysteemTarget, "deliver", on_thread)

        old, new = _ident(), [_ident() for _ in range(5)]
        (first,) = _begun_on_a_loop(broker, [e.envelope(m.creeer_zaak(old))])
        assert first.status == 200 and b"Bv03" in first.body
        attempts.clear()
        delivered_on.clear()
        answers = _begun_on_a_loop(broker, [e.envelope(m.creeer_zaak(z)) for z in new] + [e.envelope(m.creeer_zaak(old))])

        assert all(a.status == 200 and b"Bv03" in a.body for a in answers[:-1])
        assert answers[-1].status == 500 and b"StUF058" in answers[-1].body
        assert set(delivered_on) == {threading.get_ident()}  # asyncio.run's loop runs in this thread
        assert attempts[:2] == [(6, False), (6, True)]  # one group for the turn, then again with savepoints
        with broker.db.read() as s:
            zaken = set(s.execute(text("SELECT identificatie FROM zs_zaken")).scalars())
        assert zaken == {old, *new}
    finally:
        broker.close()


def _batch_sizes(monkeypatch: pytest.MonkeyPatch, broker: Broker, name: str) -> list[int]:
    """The number of items of each call of the pipeline's batch method ``name`` (a group commit's batch)."""
    sizes: list[int] = []
    real = getattr(type(broker.pipeline), name)

    def counted(self, executor, items):  # type: ignore[no-untyped-def]
        sizes.append(len(items))
        return real(self, executor, items)
    monkeypatch.setattr(type(broker.pipeline), name, counted)
    return sizes


def _stored_rows(broker: Broker, zaak: str) -> dict[str, object]:
    """What a sync creeerZaak of ``zaak`` left in the database, without its ids, times and own values."""
    with broker.db.read() as s:
        message = s.execute(text(
            "SELECT id, operation, berichtcode, answer_berichtcode, http_status, outcome, state, attempts, "
            "replays FROM messages WHERE zaak_identificatie = :z"), {"z": zaak}).one()
        deliveries = s.execute(text(
            "SELECT id, target, mode, \"primary\", operation, ordering_key = :z, attempts, state, "
            "finished_at IS NOT NULL FROM deliveries WHERE message_id = :m ORDER BY id"),
            {"m": message.id, "z": zaak}).all()
        tried = s.execute(text(
            "SELECT number, worker, outcome, duration_ms IS NOT NULL FROM delivery_attempts "
            "WHERE delivery_id IN (SELECT id FROM deliveries WHERE message_id = :m)"), {"m": message.id}).all()
        payload = s.execute(text("SELECT length(request), answer IS NOT NULL FROM message_payloads "
                                 "WHERE message_id = :m"), {"m": message.id}).one()
        zaak_row = s.execute(text("SELECT id, omschrijving, startdatum, zaaktype_code, length(stuf_xml) "
                                  "FROM zs_zaken WHERE identificatie = :z"), {"z": zaak}).one()
        rollen = s.execute(text("SELECT position, relatie, betrokkene_type, length(stuf_xml) FROM zs_rollen "
                                "WHERE zaak_id = :i ORDER BY position"), {"i": zaak_row.id}).all()
    return {"message": tuple(message)[1:], "deliveries": [tuple(d)[1:] for d in deliveries],
            "attempts": [tuple(a) for a in tried], "payload": tuple(payload), "zaak": tuple(zaak_row)[1:],
            "rollen": [tuple(r) for r in rollen]}


def test_the_sync_work_of_a_turns_new_messages_is_done_together_and_stores_what_one_at_a_time_does(
        tmp_path: Path, schemas: SchemaSet, monkeypatch: pytest.MonkeyPatch,
        attempts: list[tuple[int, bool]]) -> None:
    """New sync creeerZaken into the embedded zaaksysteem in one group are done together
    (Pipeline._deliver_together: one ORM session, their new zaken in one statement, a statement per
    table for their messages and deliveries); what they store is what the same message stores when it
    is the only one in its group."""
    broker = _sync_broker(tmp_path)
    try:
        together = _batch_sizes(monkeypatch, broker, "_deliver_together")

        alone = _ident()
        single = _send(broker, e.envelope(m.creeer_zaak(alone)))  # a group of its own, on the committer thread
        assert single.status == 200 and together == []
        attempts.clear()
        new = [_ident() for _ in range(4)]
        answers = _begun_on_a_loop(broker, [e.envelope(m.creeer_zaak(z)) for z in new])

        assert all(a.status == 200 and b"Bv03" in a.body for a in answers)
        assert len({a.message_id for a in answers} | {single.message_id}) == 5
        assert together == [4] and attempts == [(4, False)]
        expected = _stored_rows(broker, alone)
        assert expected["attempts"] == [(1, "intake", "delivered", True)] and expected["rollen"]
        for z in new:
            assert _stored_rows(broker, z) == expected
    finally:
        broker.close()


def test_the_log_rows_of_a_turns_questions_are_written_together_and_as_one_alone_writes_them(
        tmp_path: Path, schemas: SchemaSet, monkeypatch: pytest.MonkeyPatch,
        attempts: list[tuple[int, bool]]) -> None:
    """geefZaakdetails answered on the event loop from the embedded zaaksysteem: the log rows of the
    questions of one turn (message, payload, delivery, attempt) are written together
    (Pipeline._write_new, as a turn's queued messages are), and are what a question alone leaves."""
    broker = _sync_broker(tmp_path)
    try:
        together = _batch_sizes(monkeypatch, broker, "_write_new")
        zaak = _ident()
        assert _send(broker, e.envelope(m.creeer_zaak(zaak))).status == 200
        alone = contextvars.copy_context().run(
            broker.pipeline.handle, e.VRAAG, e.envelope(m.geef_zaakdetails(zaak)), "text/xml; charset=utf-8",
            '"http://www.stufstandaarden.nl/koppelvlak/zds0120/geefZaakdetails_ZakLv01"')
        assert alone.status == 200 and zaak.encode() in alone.body and together == []
        attempts.clear()
        answers = _begun_on_a_loop(broker, [e.envelope(m.geef_zaakdetails(zaak)) for _ in range(4)], e.VRAAG,
                                   "geefZaakdetails_ZakLv01")

        assert all(a.status == 200 and zaak.encode() in a.body for a in answers)
        assert together == [4] and attempts == [(4, False)]

        def stored(message_id: int | None) -> tuple[object, ...]:
            with broker.db.read() as s:
                return (tuple(s.execute(text("SELECT operation, answer_berichtcode, outcome, state, attempts "
                                             "FROM messages WHERE id = :m"), {"m": message_id}).one()),
                        [tuple(row) for row in s.execute(text("SELECT d.mode, d.state, d.attempts, a.worker, a.outcome FROM deliveries d "
                                       "JOIN delivery_attempts a ON a.delivery_id = d.id WHERE d.message_id = :m"),
                                  {"m": message_id})])
        expected = stored(alone.message_id)
        assert expected[0][3] == "done" and expected[1]
        for answer in answers:
            assert stored(answer.message_id) == expected
    finally:
        broker.close()


@contextlib.contextmanager
def _postgres() -> Iterator[Database]:
    with pg.schema_url() as url:
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()


@pytest.mark.postgres
def test_postgres_writes_on_a_loop_go_to_the_committer_thread() -> None:
    """PostgreSQL: a commit is a round trip to the server, which the loop does not wait for."""
    with _postgres() as database:
        meta.create_all(database.engine)
        assert {thread for _, thread in _on_a_loop(database, ["pg"])} != {threading.get_ident()}


@pytest.mark.postgres
def test_postgres_commits_wait_for_the_wal() -> None:
    with _postgres() as database, database.engine.connect() as conn:
        assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
        assert conn.execute(text("SHOW search_path")).scalar() != "\"$user\", public"  # URL options kept


def test_queued_intake_under_concurrency_keeps_duplicates_apart(tmp_path: Path, schemas: SchemaSet) -> None:
    """Many queued creeerZaken at once, among them the same message several times: each new one gets its
    Bv03 and one row, the repeats the stored answer, and one message under the same key with other
    content StUF016."""
    config = configs.write_config(tmp_path, routes={
        "targets": {"zs": {"adapter": "embedded"}},
        "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zs", "mode": "queued"}]},
                   {"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
        "delivery": {"worker_in_serve": False}})
    settings = live.make_settings(tmp_path, config_dir=config)
    broker = Broker(settings)
    try:
        send = functools.partial(_send, broker)

        repeat_ref, other_ref = m.ref(), m.ref()
        repeated = e.envelope(m.creeer_zaak(_ident(), referentienummer=repeat_ref))
        bodies = [e.envelope(m.creeer_zaak(_ident())) for _ in range(20)]
        bodies[5:5] = [repeated] * 4
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(send, bodies))
        assert {a.status for a in answers} == {200}, [a.body[:300] for a in answers if a.status != 200]
        assert len({a.body for a in answers[5:9]}) == 1  # the repeats: the same stored Bv03
        different = e.envelope(m.creeer_zaak(_ident(), referentienummer=repeat_ref))
        assert b"StUF016" in send(different).body
        assert send(e.envelope(m.creeer_zaak(_ident(), referentienummer=other_ref))).status == 200
        with broker.db.read() as s:
            rows = s.execute(select(Message.referentienummer, func.count(), func.max(Message.replays))
                             .where(Message.outcome == "ok").group_by(Message.referentienummer)).all()
        per_ref = {ref: (count, replays) for ref, count, replays in rows}
        assert per_ref[repeat_ref] == (1, 3)
        assert len(per_ref) == 20 + 1 + 1
    finally:
        broker.close()


def test_a_nested_write_lock_keeps_the_lock_file_locked(tmp_path: Path) -> None:
    """The lock file is opened once per process; an inner block of the same thread must not unlock it."""
    database = Database(f"sqlite:///{tmp_path / 'n.db'}")
    other = os.open(tmp_path / "n.db.writelock", os.O_RDWR | os.O_CREAT)
    try:
        with database._write_lock():
            with database._write_lock():
                pass
            with pytest.raises(BlockingIOError):  # another open file (another process) cannot take it
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once the outer block ends
        fcntl.flock(other, fcntl.LOCK_UN)
    finally:
        os.close(other)
        database.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sync_work_of_the_embedded_zaaksysteem_joins_the_group_and_a_failure_stays_its_own(
        tmp_path: Path, schemas: SchemaSet, backend: str, attempts: list[tuple[int, bool]]) -> None:
    """``sync`` creeerZaken into the embedded zaaksysteem queued up behind one write are committed as one
    group; among them a zaak that already exists (StUF058), a repeated message (its stored answer) and two
    messages creating the same new zaak (one Bv03, one StUF058): each gets its own answer, and exactly the
    zaken and messages of the Bv03s are stored."""
    sizes = attempts
    config = configs.write_config(tmp_path, routes={
        "targets": {"zs": {"adapter": "embedded"}},
        "routes": [{"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
        "delivery": {"worker_in_serve": False}})
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(pg.schema_url()) if backend == "postgres" else None
        broker = Broker(live.make_settings(tmp_path, config_dir=config, database_url=url))
        stack.callback(broker.close)

        send = functools.partial(_send, broker)

        old, twice = _ident(), _ident()
        assert send(e.envelope(m.creeer_zaak(old))).status == 200
        repeated_zaak = _ident()
        repeated = e.envelope(m.creeer_zaak(repeated_zaak, referentienummer=m.ref()))
        assert send(repeated).status == 200
        new = [_ident() for _ in range(8)]
        bodies = {**{z: e.envelope(m.creeer_zaak(z)) for z in new},
                  "exists": e.envelope(m.creeer_zaak(old)), "repeat": repeated,
                  "twice-a": e.envelope(m.creeer_zaak(twice)), "twice-b": e.envelope(m.creeer_zaak(twice))}
        with _committer_held(broker.db) as release, ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            sizes.clear()
            futures = {name: pool.submit(send, body) for name, body in bodies.items()}
            release(len(bodies))
            answers = {name: f.result(30) for name, f in futures.items()}

        assert all(answers[z].status == 200 and b"Bv03" in answers[z].body for z in new)
        assert answers["exists"].status == 500 and b"StUF058" in answers["exists"].body
        assert answers["repeat"].status == 200 and b"Bv03" in answers["repeat"].body
        assert sorted(b"StUF058" in answers[k].body for k in ("twice-a", "twice-b")) == [False, True]
        assert max(size for size, _ in sizes) > 1  # one transaction for several requests
        assert any(savepoints for _, savepoints in sizes)  # the failures: the group again, with savepoints
        with broker.db.read() as s:
            zaken = set(s.execute(text("SELECT identificatie FROM zs_zaken")).scalars())
            stored_ok = s.execute(select(func.count()).select_from(Message)
                                  .where(Message.outcome == "ok")).scalar_one()
        assert zaken == {old, twice, repeated_zaak, *new}
        assert stored_ok == 2 + len(new) + 1  # the two sent first, the new ones and one of "twice"



def test_a_sync_creeer_zaak_is_read_and_acknowledged_before_the_write_transaction(
        tmp_path: Path, schemas: SchemaSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """The group's transaction holds the write lock of every worker process: a sync creeerZaak into the
    embedded zaaksysteem is read into the case model, its rows made and its Bv03 made, on the request's
    own thread before it; in the transaction only the statements. The answer sent is the answer stored; a zaak that
    exists still gets StUF058, not the Bv03 made beforehand."""
    from broker.intake import pipeline
    from broker.services import creeer_zaak as service

    threads: dict[str, list[str]] = {"read": [], "bv03": []}
    real_read = service.read.zaak

    def read_zaak(el):  # type: ignore[no-untyped-def]
        threads["read"].append(threading.current_thread().name)
        return real_read(el)

    written = pipeline.bv03_envelope

    def made_bv03(*args):  # type: ignore[no-untyped-def]
        threads["bv03"].append(threading.current_thread().name)
        return written(*args)

    from broker.adapters.embedded.zaken import ZakenMixin
    real_rows = ZakenMixin._new_zaak
    threads["rows"] = []

    def new_zaak(self, zaak):  # type: ignore[no-untyped-def]
        threads["rows"].append(threading.current_thread().name)
        return real_rows(self, zaak)

    monkeypatch.setattr(service.read, "zaak", read_zaak)
    monkeypatch.setattr(pipeline, "bv03_envelope", made_bv03)
    monkeypatch.setattr(ZakenMixin, "_new_zaak", new_zaak)
    config = configs.write_config(tmp_path, routes={
        "targets": {"zs": {"adapter": "embedded"}},
        "routes": [{"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
        "delivery": {"worker_in_serve": False}})
    broker = Broker(live.make_settings(tmp_path, config_dir=config))
    try:
        send = functools.partial(_send, broker)

        zaak = _ident()
        first = send(e.envelope(m.creeer_zaak(zaak)))
        assert first.status == 200 and b"Bv03" in first.body
        assert threads["read"] and threads["bv03"] and threads["rows"]
        assert "group-commit" not in threads["read"] + threads["bv03"] + threads["rows"], threads
        with broker.db.read() as s:
            stored = s.execute(text("SELECT answer FROM message_payloads WHERE message_id = :i"),
                               {"i": first.message_id}).scalar_one()
            assert s.execute(text("SELECT identificatie FROM zs_zaken")).scalars().all() == [zaak]
        assert bytes(stored) == first.body
        again = send(e.envelope(m.creeer_zaak(zaak)))
        assert again.status == 500 and b"StUF058" in again.body and b"Bv03" not in again.body
    finally:
        broker.close()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_claims_deliveries_to_the_embedded_zaaksysteem_share_one_transaction_and_a_failure_stays_its_own(
        tmp_path: Path, schemas: SchemaSet, backend: str, attempts: list[tuple[int, bool]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's deliveries of one claim to the embedded zaaksysteem go to the group commit together
    (Queue.run_many), committed by the worker's own thread: one transaction and one fsync for all of
    them. Among them a zaak that already exists: that delivery fails alone (its writes rolled back, its
    failure recorded), the others are delivered, and the delivery metric counts each delivered one
    once."""
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, backend)
        queue = broker.queue
        delivered: list[str] = []
        queue.listeners.append(lambda target, outcome, _seconds: delivered.append(outcome))

        def send(body: bytes) -> None:
            answer = _send(broker, body)
            assert answer.status == 200 and b"Bv03" in answer.body

        old = _ident()
        send(e.envelope(m.creeer_zaak(old)))
        assert [o.result for o in queue.run_many(queue.claim("w"), "w")] == ["delivered"]
        new = [_ident() for _ in range(6)]
        send(e.envelope(m.creeer_zaak(old)))  # the same zaak again, in a message of its own
        for z in new:
            send(e.envelope(m.creeer_zaak(z)))
        ids = queue.claim("w")
        assert len(ids) == 7
        attempts.clear()
        delivered.clear()
        committed_by: list[int] = []
        attempt = dbmodule._attempt

        def by(group: list, db: Database, *, savepoints: bool) -> bool:
            committed_by.append(threading.get_ident())
            return attempt(group, db, savepoints=savepoints)

        monkeypatch.setattr(dbmodule, "_attempt", by)
        with ThreadPoolExecutor(max_workers=1) as pool:
            worker_thread, outcomes = pool.submit(lambda: (threading.get_ident(), queue.run_many(ids, "w"))).result(30)
        assert set(committed_by) == {worker_thread}

        assert [o.result for o in outcomes][1:] == ["delivered"] * 6
        assert outcomes[0].result in ("retry", "dead")
        assert attempts[0] == (7, False)  # the claim's deliveries in one transaction ...
        assert (7, True) in attempts  # ... and again with savepoints, when one failed
        assert delivered.count("delivered") == 6
        with broker.db.read() as s:
            zaken = set(s.execute(text("SELECT identificatie FROM zs_zaken")).scalars())
            states = {i: st for i, st in s.execute(text("SELECT id, state FROM deliveries"))}
        assert zaken == {old, *new}
        assert [states[i] for i in ids[1:]] == ["delivered"] * 6
        assert states[ids[0]] in ("retrying", "dead")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_new_zaken_of_a_claim_are_inserted_with_one_statement_per_table(
        tmp_path: Path, schemas: SchemaSet, backend: str) -> None:
    """The embedded zaaksysteem leaves a claim's new zaken to the end of the claim's batch
    (Context.deferred): the zaken, and their rollen, of all its creeerZaken go to the database in one
    statement per table instead of two per delivery (on PostgreSQL a round trip each)."""
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, backend)
        new, ids = _queued_and_claimed(broker, 6)
        statements: list[str] = []

        def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            statements.append(statement)

        from broker.adapters.embedded import zaken as embedded_zaken

        rollen_calls: list[int] = []
        zaken_calls: list[int] = []
        rollen, zaken_insert = embedded_zaken._NEW_ROLLEN, embedded_zaken._NEW_ZAKEN
        original, original_zaken = rollen.rows, zaken_insert.rows_unless_taken

        def rows(executor: object, given: list) -> None:  # the rollen go to the driver (broker.store.inserts)
            rollen_calls.append(len(given))
            original(executor, given)  # type: ignore[arg-type]

        def zaken_rows(executor: object, given: list, *args: object) -> dict:  # the zaken too, on SQLite
            zaken_calls.append(len(given))
            return original_zaken(executor, given, *args)  # type: ignore[arg-type]

        event.listen(broker.db.engine, "before_cursor_execute", seen)
        rollen.rows = rows  # type: ignore[method-assign]
        zaken_insert.rows_unless_taken = zaken_rows  # type: ignore[method-assign]
        try:
            outcomes = broker.queue.run_many(ids, "w")
        finally:
            event.remove(broker.db.engine, "before_cursor_execute", seen)
            del rollen.rows, zaken_insert.rows_unless_taken
        assert [o.result for o in outcomes] == ["delivered"] * 6
        # one call for all the zaken: on PostgreSQL one Core statement; on SQLite through its driver
        assert zaken_calls == [6], zaken_calls
        assert sum(s.startswith("INSERT INTO zs_zaken") for s in statements) == (1 if backend == "postgres" else 0)
        assert len(rollen_calls) == 1 and rollen_calls[0] >= 6, rollen_calls  # one call (statement) for all
        with broker.db.read() as s:
            zaken = dict(s.execute(text("SELECT identificatie, id FROM zs_zaken")).all())
            rollen = s.execute(text("SELECT zaak_id, relatie, betrokkene_key FROM zs_rollen")).all()
        assert set(zaken) == set(new)
        # each zaak has its own initiator, under its own id
        assert sorted((r.zaak_id, r.relatie) for r in rollen) == sorted((zaken[z], "heeftAlsInitiator") for z in new)


def test_a_claims_creeer_zaken_are_read_and_their_rows_made_before_the_write_transaction(
        tmp_path: Path, schemas: SchemaSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """The drain's group transaction holds the write lock of every worker process, as the intake's
    does: each queued creeerZaak of a claim is read into the case model and its rows are made on the
    worker's own thread before it (the service's prepare, as for a sync delivery); in the transaction
    only the statements, once for the zaak it was made for."""
    from broker.adapters.embedded.zaken import ZakenMixin
    from broker.services import creeer_zaak as service

    threads: dict[str, list[str]] = {"read": [], "rows": []}
    real_read, real_rows = service.read.zaak, ZakenMixin._new_zaak

    def read_zaak(el):  # type: ignore[no-untyped-def]
        threads["read"].append(threading.current_thread().name)
        return real_read(el)

    def new_zaak(self, zaak):  # type: ignore[no-untyped-def]
        threads["rows"].append(threading.current_thread().name)
        return real_rows(self, zaak)

    monkeypatch.setattr(service.read, "zaak", read_zaak)
    monkeypatch.setattr(ZakenMixin, "_new_zaak", new_zaak)
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, "sqlite")
        new, ids = _queued_and_claimed(broker, 3)
        assert [o.result for o in broker.queue.run_many(ids, "w")] == ["delivered"] * 3
        assert len(threads["read"]) == len(threads["rows"]) == 3, threads  # each once, not again inside
        assert "group-commit" not in threads["read"] + threads["rows"], threads
        with broker.db.read() as s:
            assert set(s.execute(text("SELECT identificatie FROM zs_zaken")).scalars()) == set(new)


def test_a_deferred_new_zaak_is_written_before_anything_else_reads_the_transaction(
        tmp_path: Path, schemas: SchemaSet) -> None:
    """What follows a deferred creeerZaak in the same batch (another delivery reading or changing a
    zaak) sees the new zaak: the embedded zaaksysteem writes what was deferred before it uses the
    transaction otherwise. An identificatie that is taken fails the batch when the zaken are written
    (StUF058), so that the queue delivers each on its own."""
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, "sqlite")
        target = broker.queue.target("zs")
        assert isinstance(target, ZaaksysteemTarget)
        ident = _ident()
        (obj,) = kennisgeving.objects(etree.fromstring(m.creeer_zaak(ident).encode()), "T", "ZAK")
        zaak = read.zaak(obj)

        def stored(conn: Connection) -> int:
            return conn.execute(text("SELECT count(*) FROM zs_zaken WHERE identificatie = :i"),
                                {"i": ident}).scalar_one()

        with broker.db.write_connection() as conn, Session(bind=conn) as session:
            ctx = Context(session=session, deferred=Deferred())
            target.adapter.creeer_zaak(ctx, zaak)
            assert stored(conn) == 0  # deferred
            found = target.adapter.geef_zaak(ctx, ident)  # writes what was deferred, then reads
            assert found is not None and found.identificatie == ident
            assert stored(conn) == 1

            again = Context(session=session, deferred=Deferred())
            target.adapter.creeer_zaak(again, zaak)
            assert again.deferred is not None
            with pytest.raises(StufError) as taken:
                again.deferred.flush()
            assert taken.value.code == "StUF058"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_queued_messages_of_one_group_are_written_together_and_a_repeat_among_them_stays_its_own(
        tmp_path: Path, schemas: SchemaSet, backend: str, attempts: list[tuple[int, bool]]) -> None:
    """Queued creeerZaken waiting for the same group go to the database together (Database.submit's
    batch: each table's rows in one statement): each message's row holds its own request and answer and
    its delivery points at it. When a message repeated among them breaks the batch (its key is taken),
    the group runs again with a savepoint per message: the repeat gets the stored answer, the others
    are stored once."""
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, backend)
        batches: list[int] = []
        many = broker.pipeline._write_new

        def counted(executor, messages):
            batches.append(len(messages))
            return many(executor, messages)

        broker.pipeline._write_new = counted  # type: ignore[method-assign]

        send = functools.partial(_send, broker)

        def group(bodies: list[bytes]) -> list:
            with _committer_held(broker.db) as release, ThreadPoolExecutor(max_workers=len(bodies)) as pool:
                futures = [pool.submit(send, body) for body in bodies]
                release(len(bodies))
                return [f.result(30) for f in futures]

        idents = [_ident() for _ in range(6)]
        bodies = [e.envelope(m.creeer_zaak(z)) for z in idents]
        answers = group(bodies)
        assert all(a.status == 200 and b"Bv03" in a.body for a in answers)
        assert batches == [6]  # the six messages' rows in one batch
        with broker.db.read() as s:
            stored = s.execute(text(
                "SELECT m.zaak_identificatie, p.request, p.answer, d.state FROM messages m "
                "JOIN message_payloads p ON p.message_id = m.id JOIN deliveries d ON d.message_id = m.id")).all()
        by_zaak = {z: (bytes(req), bytes(ans), state) for z, req, ans, state in stored}
        assert set(by_zaak) == set(idents)
        for z, body, answer in zip(idents, bodies, answers, strict=True):
            assert by_zaak[z] == (body, answer.body, "pending")

        repeated = bodies[2]
        more = [e.envelope(m.creeer_zaak(_ident())) for _ in range(3)]
        attempts.clear()
        again = group([more[0], repeated, more[1], more[2]])
        assert [a.status for a in again] == [200] * 4
        assert again[1].body == answers[2].body  # the repeat: the answer stored for it the first time
        assert (4, True) in attempts  # the batch failed on the repeat's key: again with savepoints
        with broker.db.read() as s:
            count = s.execute(select(func.count()).select_from(Message)).scalar_one()
        assert count == 6 + 3


def _refused() -> bytes:
    """A new creeerZaak with an element the schema does not know: well-formed, refused (StUF055)."""
    return e.envelope(m.creeer_zaak(_ident()).replace("<ZKN:omschrijving>", "<ZKN:onbekend>x</ZKN:onbekend>"
                                                      "<ZKN:omschrijving>", 1))


def test_a_refused_new_message_is_logged_in_two_plain_statements(tmp_path: Path) -> None:
    """A fault of a new message (the usual one, and all of hostile traffic) writes its message row and
    its payload in one insert each, after one look for an earlier row under its key: not the ORM's
    six statements (insert, read back, payload, two updates), which made a fault cost three times an
    accepted message. Its row is the same as before."""
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, "sqlite")
        committer: list[str] = []

        def seen(statement: str) -> None:
            words = statement.replace('"', "").split()
            if threading.current_thread().name == "group-commit" and words[0] in ("SELECT", "INSERT", "UPDATE"):
                table = words[words.index({"SELECT": "FROM", "INSERT": "INTO"}.get(words[0], "UPDATE")) + 1]
                committer.append(f"{words[0]} {table}")

        def traced(dbapi_conn, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.set_trace_callback(seen)  # what SQLite runs (the inserts go to the driver directly)

        event.listen(broker.db.engine, "checkout", traced)
        answer = _send(broker, _refused())
        event.remove(broker.db.engine, "checkout", traced)
        committed = list(committer)
        assert answer.status == 500 and b"StUF055" in answer.body
        assert committed == ["SELECT messages", "INSERT messages", "INSERT message_payloads"], committed
        with broker.db.read() as session:
            row = session.get(Message, answer.message_id)
            assert row is not None and row.dedupe_key is not None
            assert (row.outcome, row.foutcode, row.fout_plek, row.attempts, row.replays, row.state) == \
                ("fault", "StUF055", "client", 1, 0, "done")
            stored = session.get(MessagePayload, row.id)
            assert stored is not None and stored.answer == answer.body and stored.request.startswith(b"<")


def test_an_invalid_message_on_the_event_loop_is_validated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether an invalid message is a resend (whose earlier answer comes first, Tabel 4.1) is a
    database read: the event loop leaves it, and the fault, to a handler thread, which goes on with
    the request as parsed and validated on the loop instead of handling it again from its bytes
    (an invalid message cost twice the parsing and validation of a valid one)."""
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, "sqlite")
        validated: list[int] = []
        issues = broker.schemas.issues
        monkeypatch.setattr(broker.schemas, "issues", lambda element: validated.append(1) or issues(element))
        request = contextvars.copy_context()  # as the edge's task for the request has
        begun = request.run(broker.pipeline.begin, e.ASYNC, _refused(), "text/xml; charset=utf-8",
                            '"http://www.stufstandaarden.nl/koppelvlak/zds0120/creeerZaak_ZakLk01"')
        assert begun.answer is None and begun.rest is not None  # the rest in a thread, as the edge runs it
        answer = request.run(begun.wait)
        assert answer.status == 500 and b"StUF055" in answer.body
        assert len(validated) == 1


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_faults_of_concurrent_requests_are_logged_in_one_group(
        tmp_path: Path, schemas: SchemaSet, backend: str, attempts: list[tuple[int, bool]]) -> None:
    """A refused message's log row goes to the group commit like an accepted one's: faults arriving
    together share one transaction and one fsync instead of one each (broken or hostile traffic
    would otherwise make every other request wait behind its commits). Each is still logged with its
    own foutcode and answered with its own fault."""
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, backend)
        # creeerZaken with an element the schema does not know: well-formed, refused (StUF055)
        refused = [_refused() for _ in range(6)]
        assert all(b"onbekend" in body for body in refused)
        attempts.clear()
        with _committer_held(broker.db) as release, ThreadPoolExecutor(max_workers=len(refused)) as pool:
            answers = [pool.submit(_send, broker, body) for body in refused]
            release(len(refused))
            results = [a.result(30) for a in answers]
        assert all(r.status == 500 and b"Fo03" in r.body and b"StUF055" in r.body for r in results)
        assert (len(refused), False) in attempts, attempts  # the six faults' rows: one transaction
        with broker.db.read() as s:
            logged = s.execute(select(Message.foutcode).where(Message.id.in_([r.message_id for r in results])))
            assert sorted(logged.scalars()) == ["StUF055"] * len(refused)


def _synchronous(conn: Connection) -> object:
    """The durability the transaction of ``conn`` commits with: SQLite's ``synchronous`` (2 FULL, 1
    NORMAL) or PostgreSQL's ``synchronous_commit``."""
    if conn.dialect.name == "sqlite":
        return conn.exec_driver_sql("PRAGMA synchronous").scalar()
    return conn.exec_driver_sql("SHOW synchronous_commit").scalar()


def test_a_group_of_writes_that_promise_nothing_commits_without_waiting_for_the_disk(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """``durable=False`` (a question's log rows): a group made only of such writes commits without an
    fsync; one durable write in the group makes the whole group durable; the connection goes back to
    the pool durable, also after a group that failed and ran again with savepoints."""
    full, normal = (2, 1) if db.is_sqlite else ("on", "off")
    returned: list[object] = []
    if db.is_sqlite:
        def checked_in(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            returned.append(dbapi_conn.execute("PRAGMA synchronous").fetchone()[0])
        event.listen(db.engine, "checkin", checked_in)

    def write(name: str) -> Callable[[Connection], tuple[object, int]]:
        return lambda conn: (_synchronous(conn), _add(name)(conn))

    with _committer_held(db) as release:
        light = [db.submit(write(f"light{i}"), durable=False) for i in range(3)]
        release(3)
    assert {f.result(10)[0] for f in light} == {normal}

    with _committer_held(db) as release:
        mixed = [db.submit(write("mixed0"), durable=False), db.submit(write("mixed1")),
                 db.submit(write("mixed2"), durable=False)]
        release(3)
    assert {f.result(10)[0] for f in mixed} == {full}

    db.grouped(_add("taken"))
    with _committer_held(db) as release:
        failing = [db.submit(write("again0"), durable=False), db.submit(write("taken"), durable=False)]
        release(2)
    assert failing[0].result(10)[0] == normal  # the retry with savepoints: still without the fsync
    with pytest.raises(IntegrityError):
        failing[1].result(10)

    assert db.grouped(_synchronous) == full
    assert db.grouped(_synchronous, durable=False) == normal
    with db.engine.connect() as conn:
        assert _synchronous(conn) == full
    assert {"light0", "light1", "light2", "mixed0", "mixed1", "mixed2", "again0"} <= set(_names(db))
    if db.is_sqlite:
        assert returned and set(returned) == {2}, returned  # every connection back in the pool at FULL


def test_a_questions_log_rows_do_not_wait_for_the_disk_and_a_bv03_does(tmp_path: Path) -> None:
    """The log rows of a geefZaakdetails (its La01 acknowledges nothing) are committed without an
    fsync; those of a creeerZaak, acknowledged with a Bv03, with one (StUF 03.01 §4.4)."""
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, "sqlite")
        pragmas: list[str] = []

        def seen(statement: str) -> None:
            if statement.startswith("PRAGMA synchronous="):
                pragmas.append(statement.split("=", 1)[1])

        def traced(dbapi_conn, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.set_trace_callback(seen)

        event.listen(broker.db.engine, "checkout", traced)
        zaak = _ident()
        assert b"Bv03" in _send(broker, e.envelope(m.creeer_zaak(zaak))).body
        assert pragmas == []  # the Bv03's rows: committed at FULL, as every connection is set up
        answer = contextvars.copy_context().run(
            broker.pipeline.handle, e.VRAAG, e.envelope(m.geef_zaakdetails(zaak)), "text/xml; charset=utf-8",
            '"http://www.stufstandaarden.nl/koppelvlak/zds0120/geefZaakdetails_ZakLv01"')
        event.remove(broker.db.engine, "checkout", traced)
        assert answer.status == 200 and b"La01" in answer.body
        assert pragmas == ["NORMAL", "FULL"]  # set for the question's group, put back after its commit
        with broker.db.read() as session:
            row = session.get(Message, answer.message_id)
            assert row is not None and row.operation == "geefZaakdetails" and row.outcome == "ok"


def test_a_drained_creeer_zaak_stores_its_rollen_without_reading_them_into_the_case_model(
        tmp_path: Path, schemas: SchemaSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded zaaksysteem keeps each rol's element as it came; reading its betrokkene into the
    case model (names, addresses: about half of reading a zaak) waits until something asks for the
    zaak's rollen, and nothing in a delivery to the embedded zaaksysteem does."""
    asked: list[etree._Element] = []
    real_rol = read.rol

    def rol(el: etree._Element):  # type: ignore[no-untyped-def]
        asked.append(el)
        return real_rol(el)

    monkeypatch.setattr(read, "rol", rol)
    with contextlib.ExitStack() as stack:
        broker = _creeer_zaak_broker(stack, tmp_path, "sqlite")
        new, ids = _queued_and_claimed(broker, 3)
        assert [o.result for o in broker.queue.run_many(ids, "w")] == ["delivered"] * 3
        assert asked == []
        with broker.db.read() as s:
            rollen = s.execute(text("SELECT z.identificatie, r.relatie, r.betrokkene_key FROM zs_rollen r "
                                    "JOIN zs_zaken z ON z.id = r.zaak_id")).all()
        assert sorted(rollen) == sorted((z, "heeftAlsInitiator", "111222333") for z in new)


def test_one_thread_of_a_worker_claims_or_works_in_the_brokers_transaction_at_a_time(
        tmp_path: Path, schemas: SchemaSet, target: CountingTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two threads of one worker process (delivery.concurrency 2), each with a claim of creeerZaken
    to the embedded zaaksysteem and to a slow StUF endpoint: the deliveries to the endpoint run side by
    side, while claiming and the work in the broker's transaction (the deliveries' preparation and
    their group commit) are done by one thread at a time."""
    target.delay = 0.3
    busy: list[tuple[str, int]] = []  # (kind of work, thread) going on
    overlaps: dict[str, int] = collections.Counter()  # the most threads seen at a kind of work at once
    guard = threading.Lock()

    @contextlib.contextmanager
    def occupied(kind: str) -> Iterator[None]:
        me = (kind, threading.get_ident())
        with guard:
            busy.append(me)
            overlaps[kind] = max(overlaps[kind], len({thread for k, thread in busy if k == kind}))
        try:
            time.sleep(0.02)  # long enough for another thread to come in, were it let in
            yield
        finally:
            with guard:
                busy.remove(me)

    def watched(kind: str, real: Callable) -> Callable:
        @functools.wraps(real)
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            with occupied(kind):
                return real(*args, **kwargs)
        return call

    with contextlib.ExitStack() as stack:
        config = configs.write_config(tmp_path, routes={
            "targets": {"zs": {"adapter": "embedded"}, "archief": {"adapter": "stuf", "url": target.url, "timeout": 5}},
            "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zs", "mode": "queued"},
                                                                  {"target": "archief", "mode": "queued"}]},
                       {"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
            "delivery": {"worker_in_serve": False}})
        broker = Broker(live.make_settings(tmp_path, config_dir=config))
        stack.callback(broker.close)
        queue = broker.queue
        for _ in range(4):
            answer = _send(broker, e.envelope(m.creeer_zaak(_ident())))
            assert answer.status == 200 and b"Bv03" in answer.body
        claims = [queue.claim("w", limit=4), queue.claim("w", limit=4)]
        assert sorted(len(c) for c in claims) == [4, 4]
        monkeypatch.setattr(ZaaksysteemTarget, "prepare", watched("broker", ZaaksysteemTarget.prepare))
        monkeypatch.setattr(queue.db, "commit_here", watched("broker", queue.db.commit_here))
        monkeypatch.setattr(engine, "_due", watched("broker", engine._due))  # within a claim
        forward = queue.target("archief")
        monkeypatch.setattr(forward, "deliver", watched("archief", forward.deliver))
        start = threading.Barrier(3)

        def claim_and_run(ids: list[int]) -> list[str]:
            start.wait(10)
            outcomes = [o.result for o in queue.run_many(ids, "w")]
            return outcomes + [str(len(queue.claim("w2", limit=1)))]  # a claim meanwhile (nothing left)

        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = [pool.submit(claim_and_run, ids) for ids in claims]
            start.wait(10)
            results = [r.result(30) for r in runs]
        assert results == [["delivered"] * 4 + ["0"]] * 2
        assert overlaps["archief"] == 2  # the slow endpoint's deliveries side by side ...
        assert overlaps["broker"] == 1  # ... the broker's own work one thread at a time
        assert target.applied_count == 4
