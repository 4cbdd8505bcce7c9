"""broker.store.reads: a SELECT on a question's path read through SQLite's driver gives the rows Core
gives, inside a begun transaction only and only for statements whose values no type processes; the
driver's errors are SQLAlchemy's; elsewhere, and on PostgreSQL, the Core statement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, event, insert, select
from sqlalchemy.exc import InvalidRequestError, MultipleResultsFound, OperationalError, StatementError
from sqlalchemy.orm import Session

from broker.store.db import Database
from broker.store.reads import Read

meta = MetaData()
probe = Table("read_probe", meta, Column("id", Integer, primary_key=True), Column("owner", Integer),
              Column("body", String), Column("at", DateTime(timezone=True)))

TEXTS = Read(select(probe.c.id, probe.c.body).where(probe.c.owner == bindparam("owner")).order_by(probe.c.id))
MOMENTS = Read(select(probe.c.at).where(probe.c.owner == bindparam("owner")).order_by(probe.c.id))
ROWS = [{"owner": 1, "body": b, "at": datetime(2026, 12, 7, 17, n, tzinfo=UTC)}
        for n, b in enumerate(["<a>€ ü 𝄞</a>", "", None, "tab\there\n"])] + [{"owner": 2, "body": "x", "at": None}]


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    found = Database(db_url)
    meta.create_all(found.engine)
    with found.engine.begin() as conn:
        conn.execute(insert(probe), ROWS)
    yield found
    found.dispose()


def _sent(database: Database) -> list[str]:
    sent: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: sent.append(statement))
    return sent


def test_rows_read_back_as_core_reads_them(database: Database) -> None:
    with database.engine.connect() as conn:
        core_texts = [tuple(r) for r in conn.execute(TEXTS.stmt, {"owner": 1})]
        core_moments = list(conn.execute(MOMENTS.stmt, {"owner": 1}).scalars())
    sent = _sent(database)
    with Session(database.engine) as session:
        session.connection()  # a begun transaction, as a question's read has
        assert TEXTS.rows(session, {"owner": 1}) == core_texts
        assert TEXTS.scalars(session, {"owner": 3}) == []
        assert MOMENTS.scalars(session, {"owner": 1}) == core_moments  # datetimes, as Core makes them
        assert TEXTS.one_or_none(session, {"owner": 2}) == (5, "x")
        literal = Read(select(probe.c.body).where(probe.c.owner == bindparam("owner"), probe.c.body != ""))
        assert literal.scalars(session, {"owner": 1}) == [t for _, t in core_texts if t]  # its "" held by it
        with pytest.raises((InvalidRequestError, StatementError), match="owner"):  # (as Core raises it)
            TEXTS.rows(session, {})
        with pytest.raises(MultipleResultsFound):
            TEXTS.one_or_none(session, {"owner": 1})
    selects = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
    if database.is_sqlite:  # the texts through the driver; the moments (a DateTime column) through Core
        assert selects == [str(MOMENTS.stmt.compile(dialect=database.engine.dialect))]
    else:
        assert len(selects) == 6


def test_outside_a_transaction_the_core_statement_begins_one(database: Database) -> None:
    sent = _sent(database)
    with database.engine.connect() as conn:
        assert not conn.in_transaction()
        assert TEXTS.scalars(conn, {"owner": 2}) == [5]
        assert conn.in_transaction()
    assert any(s.lstrip().upper().startswith("SELECT") for s in sent)


def test_a_driver_error_is_sqlalchemys_without_the_values(database: Database) -> None:
    missing = Read(select(Table("no_such_table", MetaData(), Column("id", Integer), Column("body", String)).c.body)
                   .where(bindparam("secret", type_=String) == "x"))
    with Session(database.engine) as session, pytest.raises(Exception) as raised:
        session.connection()
        missing.scalars(session, {"secret": "999999990"})
    assert isinstance(raised.value, OperationalError) or "no_such_table" in str(raised.value)
    assert "999999990" not in str(raised.value)
