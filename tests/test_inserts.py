"""broker.store.inserts: rows inserted through SQLite's driver read back as SQLAlchemy Core would have
written them (types, defaults), ids in the rows' order, and the driver's errors raised as SQLAlchemy's;
on PostgreSQL a COPY for a few rows without ids, read back as Core writes them, else the Core statement."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    event,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from broker.store.db import Database
from broker.store.inserts import Insert

meta = MetaData()
rows_table = Table(
    "insert_probe", meta,
    Column("id", Integer, primary_key=True),
    Column("key", String(40), unique=True),
    Column("at", DateTime(timezone=True)),
    Column("data", JSON),
    Column("flag", Boolean, default=False),
    Column("blob", LargeBinary),
    Column("count", Integer, default=3),
    Column("state", String(10), default="pending"),
    Column("note", String(40)),
)

#: a key the rows give (as message_payloads.message_id), not one the database numbers
given_key = Table("insert_probe_given", meta, Column("owner_id", Integer, primary_key=True, autoincrement=False),
                  Column("body", LargeBinary))

#: no binary column: a few rows of it go as a COPY on PostgreSQL (as a claim's rollen do)
text_table = Table("insert_probe_text", meta, *[c._copy() for c in rows_table.columns if c.name != "blob"],
                   Column("body", String))

#: one column: its values are tuples of one
one_column = Table("insert_probe_one", meta, Column("id", Integer, primary_key=True))

#: text COPY's text form must escape: tab, new line, carriage return, backslash, its NULL marker
AWKWARD = ["tab\there", "line\nand\r\nmore", "back\\slash", "\\N", "", "€ ü 𝄞", "<a b='c'>\n</a>"]


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    found = Database(db_url)
    meta.create_all(found.engine)
    yield found
    found.dispose()


def _row(n: int) -> dict:
    return {"key": f"k{n}", "at": datetime(2026, 12, 7, 12, n, 30, 123456, tzinfo=UTC),
            "data": {"n": n, "list": [1, "twee"], "none": None}, "flag": n % 2 == 0,
            "blob": bytes(range(n, n + 40)), "note": None if n % 3 else f"note {n}"}


def _read(database: Database, keys: list[str]) -> list[tuple]:
    with database.engine.connect() as conn:
        found = conn.execute(select(rows_table).where(rows_table.c.key.in_(keys))).all()
    return sorted(tuple(r)[1:] for r in found)  # without the id


def test_rows_read_back_as_core_writes_them(database: Database) -> None:
    mine = [_row(n) for n in range(1, 6)]
    theirs = [_row(n) | {"key": f"c{n}"} for n in range(1, 6)]
    with database.write_connection() as conn:
        ids = Insert(rows_table).rows_with_ids(conn, mine)
        Insert(rows_table).rows(conn, [_row(n) for n in range(6, 8)])
        conn.execute(insert(rows_table), theirs)
    ours = _read(database, [r["key"] for r in mine])
    core = _read(database, [r["key"] for r in theirs])
    assert [r[1:] for r in ours] == [r[1:] for r in core]  # every column but the key, defaults included
    assert ours[0][5:7] == (3, "pending")
    with database.engine.connect() as conn:
        by_id = dict(conn.execute(select(rows_table.c.id, rows_table.c.key)).all())
    assert [by_id[i] for i in ids] == [r["key"] for r in mine]  # the ids in the rows' order
    assert len(_read(database, ["k6", "k7"])) == 2
    with database.write_connection() as conn:  # None in a JSON column: JSON null either way, as Core stores it
        Insert(rows_table).rows(conn, [_row(8) | {"data": None}])
        conn.execute(insert(rows_table), [_row(9) | {"data": None}])
    with database.engine.connect() as conn:
        stored = conn.execute(select(rows_table.c.key, rows_table.c.data.is_(None))
                              .where(rows_table.c.key.in_(["k8", "k9"])).order_by(rows_table.c.key)).all()
    assert [null for _, null in stored] == [stored[1][1]] * 2


def test_an_orm_session_is_an_executor_too(database: Database) -> None:
    with database.write() as session:
        ids = Insert(rows_table).rows_with_ids(session, [_row(1)])
    assert len(ids) == 1 and _read(database, ["k1"])


def test_a_duplicate_key_is_sqlalchemys_integrity_error_and_rolls_back_with_the_transaction(
        database: Database) -> None:
    with database.write_connection() as conn:
        Insert(rows_table).rows(conn, [_row(1)])
    with pytest.raises(IntegrityError), database.write_connection() as conn:
        Insert(rows_table).rows(conn, [_row(2)])
        Insert(rows_table).rows_with_ids(conn, [_row(1)])
    assert len(_read(database, ["k1", "k2"])) == 1  # the transaction's other row went with it
    with pytest.raises(IntegrityError) as raised, database.write_connection() as conn:
        Insert(rows_table).rows(conn, [_row(3), _row(3)])
    assert "note 3" not in str(raised.value)  # the rows' values stay out of the error's text


def test_a_database_error_names_no_row_values(database: Database) -> None:
    """Neither the driver's path, nor COPY, nor Core's statement puts a row's values (personal data in
    the broker's tables) into the error's text, which reaches log lines and a delivery's last error."""
    secret = [_text_row(n) | {"note": "Jansen, Dorpsstraat 1"} for n in (1, 2, 3)]
    with database.write_connection() as conn:
        Insert(text_table).rows(conn, secret[:1])
    for write in (lambda conn: Insert(text_table).rows(conn, secret),
                  lambda conn: Insert(text_table).rows_with_ids(conn, secret),
                  lambda conn: conn.execute(insert(text_table), secret)):
        with pytest.raises(IntegrityError) as raised, database.write_connection() as conn:
            write(conn)
        assert "Jansen" not in str(raised.value) and "insert_probe_text" in str(raised.value)


def test_a_callable_default_is_refused() -> None:
    table = Table("callable_default", MetaData(), Column("id", Integer, primary_key=True),
                  Column("at", DateTime, default=lambda: datetime.now(UTC)))
    database = Database("sqlite://")
    try:
        table.create(database.engine)
        with pytest.raises(ValueError, match="scalar defaults"), database.write_connection() as conn:
            Insert(table).rows(conn, [{}])
    finally:
        database.dispose()


def test_threads_share_one_insert(database: Database) -> None:
    shared = Insert(rows_table)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with database.write_connection() as conn:
                shared.rows(conn, [_row(n)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(_read(database, [f"k{n}" for n in range(1, 9)])) == 8


def test_a_key_the_rows_give_is_kept(database: Database) -> None:
    """As a payload's message_id: ids out of order and far from the table's own numbering."""
    with database.write_connection() as conn:
        Insert(given_key).rows(conn, [{"owner_id": 100, "body": b"a"}, {"owner_id": 7, "body": b"b"}])
        Insert(given_key).rows_with_ids(conn, [{"owner_id": 55, "body": b"c"}])
    with database.engine.connect() as conn:
        assert sorted(conn.execute(select(given_key)).all()) == [(7, b"b"), (55, b"c"), (100, b"a")]


def _text_row(n: int) -> dict:
    return {"key": f"t{n}", "at": datetime(2026, 12, 7, 13, n, 5, 654321, tzinfo=UTC),
            "data": {"n": n, "tekst": AWKWARD[n % len(AWKWARD)], "none": None}, "flag": n % 2 == 1,
            "body": AWKWARD[n % len(AWKWARD)], "note": None if n % 3 else f"note {n}"}


def _sent_inserts(database: Database) -> list[str]:
    sent: list[str] = []
    event.listen(database.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: sent.append(statement))
    return sent


def test_a_few_rows_without_ids_read_back_as_core_writes_them(database: Database) -> None:
    """On PostgreSQL as a COPY (no INSERT goes through SQLAlchemy), every type and awkward text as
    Core stores it; one or two rows, and rows with a binary column, as the Core statement."""
    mine = [_text_row(n) for n in range(0, 14)]
    sent = _sent_inserts(database)
    with database.write_connection() as conn:
        Insert(text_table).rows(conn, mine)
        conn.execute(insert(text_table), [r | {"key": "c" + r["key"]} for r in mine])
    ours = [r for r in _read_text(database) if r[0].startswith("t")]
    core = [r for r in _read_text(database) if r[0].startswith("c")]
    assert [r[1:] for r in ours] == [r[1:] for r in core] and len(ours) == 14
    assert [r[4] for r in ours[:2]] == [3, 3] and {r[-1] for r in ours} >= set(AWKWARD)
    if database.engine.dialect.driver != "psycopg":  # SQLite: its driver's cursor, never seen here
        return
    assert sum("INSERT INTO insert_probe_text" in s for s in sent) == 1  # Core's; ours went as a COPY
    sent.clear()
    with database.write_connection() as conn:
        Insert(text_table).rows(conn, [_text_row(20), _text_row(21)])
        Insert(rows_table).rows(conn, [_row(n) for n in range(30, 35)])
    assert sum("INSERT INTO insert_probe_text" in s for s in sent) == 1
    assert sum("INSERT INTO insert_probe " in s for s in sent) == 1


def test_a_duplicate_in_a_copy_is_sqlalchemys_integrity_error(database: Database) -> None:
    with pytest.raises(IntegrityError), database.write_connection() as conn:
        Insert(text_table).rows(conn, [_text_row(1), _text_row(2), _text_row(3), _text_row(1)])
    with database.write_connection() as conn:
        Insert(text_table).rows(conn, [_text_row(n) for n in range(1, 5)])
    assert len(_read_text(database)) == 4
    with pytest.raises(IntegrityError), database.write_connection() as conn:
        Insert(text_table).rows(conn, [_text_row(n) for n in range(4, 8)])
    assert len(_read_text(database)) == 4  # nothing of the failed COPY stayed


def _read_text(database: Database) -> list[tuple]:
    with database.engine.connect() as conn:
        found = conn.execute(select(text_table).order_by(text_table.c.key)).all()
    return [tuple(r)[1:] for r in found]  # without the id


def test_rows_unless_taken_skip_a_taken_key_and_read_back_as_core_writes_them(database: Database) -> None:
    """A new zaak's row (``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key, id``): through
    SQLite's driver, the Core statement elsewhere; {key: id} of the rows inserted, none for a taken key."""
    from sqlalchemy.dialects import postgresql, sqlite

    core = {d.__name__.rsplit(".", 1)[-1]: d.insert(rows_table).on_conflict_do_nothing(index_elements=["key"])
            .returning(rows_table.c.key, rows_table.c.id) for d in (postgresql, sqlite)}
    probe = Insert(rows_table)
    with database.write_connection() as conn:
        Insert(rows_table).rows(conn, [_row(1)])
    with database.write_connection() as conn:
        dialect = conn.dialect.name
        inserted = probe.rows_unless_taken(conn, [_row(1), _row(2), _row(3)], "key", core[dialect])
        assert set(inserted) == {"k2", "k3"}
        assert probe.rows_unless_taken(conn, [_row(4)], "key", core[dialect]).keys() == {"k4"}
        assert probe.rows_unless_taken(conn, [_row(4)], "key", core[dialect]) == {}
    with database.engine.connect() as conn:
        ids = dict(conn.execute(select(rows_table.c.key, rows_table.c.id)).all())
    assert {k: ids[k] for k in inserted} == inserted
    with database.write_connection() as conn:  # the same rows through Core, under other keys
        conn.execute(insert(rows_table), [_row(n) | {"key": f"c{n}"} for n in (1, 2, 3, 4)])
    mine, cores = _read(database, ["k1", "k2", "k3", "k4"]), _read(database, ["c1", "c2", "c3", "c4"])
    assert [r[1:] for r in mine] == [r[1:] for r in cores]


def test_a_table_of_one_column_takes_its_rows(database: Database) -> None:
    with database.write_connection() as conn:
        Insert(one_column).rows(conn, [{"id": 7}, {"id": 8}])
        ids = Insert(one_column).rows_with_ids(conn, [{"id": 20}])
    with database.engine.connect() as conn:
        assert sorted(conn.execute(select(one_column.c.id)).scalars()) == [7, 8, 20]
    assert ids == [20]
