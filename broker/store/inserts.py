"""Inserts of new rows on every message's path (a message's row and payload, its deliveries; a drained
zaak's rollen and the delivery attempts), cheap on SQLite.

Through SQLAlchemy Core an insert of a few rows costs several times what SQLite takes to run it (the
statement's context, each parameter through its type's processor, the rows of a RETURNING read back),
and on SQLite all of that happens while the process holds the database's one write lock, which every
other writer waits for. Here, on SQLite, the rows go to the driver's cursor as tuples, made with the
columns' own bind processors and scalar defaults, looked up once; an id comes from the cursor's
``lastrowid``. The driver's errors are raised as SQLAlchemy's (an ``IntegrityError`` stays one). Other
databases take the Core statement (PostgreSQL sends several rows in one round trip that way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from broker.store.db import Executor

_MISSING = object()


class _Plan:
    """The SQL and, per column, its bind processor and default, for one dialect."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        # every column, the key too: a row may give it (a payload's message_id); when it does not, NULL
        # lets SQLite number the row (an INTEGER PRIMARY KEY)
        self.columns = list(table.columns)
        self.names = [c.name for c in self.columns]
        self.processors: list[Callable[[Any], Any] | None] = [
            c.type.dialect_impl(dialect).bind_processor(dialect) for c in self.columns]
        self.defaults: list[Any] = []
        for c in self.columns:
            if c.default is None:
                self.defaults.append(None)
            elif c.default.is_scalar:
                self.defaults.append(c.default.arg)  # type: ignore[attr-defined]
            else:
                raise ValueError(f"{table.name}.{c.name}: only scalar defaults are applied here")
        quoted = ", ".join(f'"{name}"' for name in self.names)
        self.sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(self.names))})'

    def tuples(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        plan = list(zip(self.names, self.processors, self.defaults, strict=True))
        out = []
        for row in rows:
            values = []
            for name, process, default in plan:
                value = row.get(name, _MISSING)
                if value is _MISSING:
                    value = default
                # None through the processor too, as Core does (a JSON column stores it as JSON null)
                values.append(process(value) if process is not None else value)
            out.append(tuple(values))
        return out


class Insert:
    """New rows of one table (a dict per row, by column name; a missing column takes its default)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._core = insert(table)
        key = table.primary_key.columns.values()
        self._core_ids = insert(table).returning(key[0], sort_by_parameter_order=True) if len(key) == 1 else None
        self._plans: dict[str, _Plan] = {}

    def _plan(self, conn: Connection) -> _Plan | None:
        dialect = conn.dialect
        if dialect.name != "sqlite":
            return None
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _Plan(self.table, dialect)
        return plan

    def rows(self, executor: Executor, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows``."""
        if not rows:
            return
        conn = _connection(executor)
        plan = self._plan(conn)
        if plan is None:
            conn.execute(self._core, rows)
            return
        params = plan.tuples(rows)
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(plan.sql, params)
        except Exception as exc:
            raise _wrapped(plan.sql, params, exc, conn) from exc
        finally:
            cursor.close()

    def rows_with_ids(self, executor: Executor, rows: list[dict[str, Any]]) -> list[int]:
        """Insert ``rows``; their ids, in the same order."""
        if not rows:
            return []
        assert self._core_ids is not None, f"{self.table.name} has no single-column key"
        conn = _connection(executor)
        plan = self._plan(conn)
        if plan is None:
            return list(conn.execute(self._core_ids, rows).scalars())
        params = plan.tuples(rows)
        cursor = conn.connection.cursor()
        ids = []
        try:
            for values in params:
                cursor.execute(plan.sql, values)
                ids.append(cursor.lastrowid)
        except Exception as exc:
            raise _wrapped(plan.sql, params, exc, conn) from exc
        finally:
            cursor.close()
        return ids


def _connection(executor: Executor) -> Connection:
    return executor.connection() if isinstance(executor, Session) else executor


def _wrapped(sql: str, params: Any, exc: Exception, conn: Connection) -> Exception:
    """The driver's error as SQLAlchemy raises it (sqlite3.IntegrityError: sqlalchemy's IntegrityError)."""
    dbapi = conn.dialect.loaded_dbapi
    if isinstance(exc, dbapi.Error):
        return DBAPIError.instance(sql, params, exc, dbapi.Error, dialect=conn.dialect)
    return exc


__all__ = ["Insert"]
