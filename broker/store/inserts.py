"""Inserts of new rows on every message's path (a message's row and payload, its deliveries; a new
zaak's row unless its identificatie is taken, its rollen, the delivery attempts), cheap on SQLite.

Through SQLAlchemy Core an insert of a few rows costs several times what SQLite takes to run it (the
statement's context, each parameter through its type's processor, the rows of a RETURNING read back),
and on SQLite all of that happens while the process holds the database's one write lock, which every
other writer waits for. Here, on SQLite, the rows go to the driver's cursor as tuples, made with the
columns' own bind processors and scalar defaults, looked up once; an id comes from the cursor's
``lastrowid``. The driver's errors are raised as SQLAlchemy's (an ``IntegrityError`` stays one).

On PostgreSQL, rows whose ids are not wanted go in one ``COPY ... FROM STDIN`` when there are a few of
them (a claim's rollen: 225 rows of a 25-zaak claim cost the driver a quarter of the CPU and the server
less than half the time of the Core executemany, which runs the insert once per row); a table with a
binary column keeps the Core statement (COPY's text form would send its bytes as hex, twice their
size). Rows with ids, and other databases, take the Core statement.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import Executable, LargeBinary, Table, insert
from sqlalchemy.engine import Connection, Dialect

from broker.store.db import Executor, as_sqlalchemy_error, connection_of

#: from how many rows a PostgreSQL insert goes as a COPY (below it, COPY's extra round trip costs more
#: than it saves)
COPY_FROM_ROWS = 3


class _Plan:
    """The SQL and, per column, its bind processor and default, for one dialect."""

    def __init__(self, table: Table, dialect: Dialect, names: list[str] | None = None) -> None:
        # on SQLite every column, the key too: a row may give it (a payload's message_id); when it does
        # not, NULL lets SQLite number the row (an INTEGER PRIMARY KEY). For a COPY, the columns named.
        self.columns = list(table.columns) if names is None else [table.columns[n] for n in names]
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
        self.copy = f'COPY "{table.name}" ({quoted}) FROM STDIN'
        #: a row of every column's default, which a row's own values overlay
        self._defaults_row = dict(zip(self.names, self.defaults, strict=True))
        #: the values of a row, in the columns' order, as a tuple (in C)
        self._values = operator.itemgetter(*self.names) if len(self.names) > 1 else None
        #: the columns whose values go through a processor (the others are passed as they are)
        self._processed = [(i, process) for i, process in enumerate(self.processors) if process is not None]

    def tuples(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row's values in the columns' order: a missing column takes its default, and every value
        (None too, as Core does: a JSON column stores it as JSON null) goes through its column's
        processor."""
        defaults, values, processed = self._defaults_row, self._values, self._processed
        if values is None:  # one column: itemgetter would give the value itself
            (name,) = self.names
            tuples = [({**defaults, **row}[name],) for row in rows]
        else:
            tuples = [values({**defaults, **row}) for row in rows]
        if not processed:
            return tuples
        out = []
        for t in tuples:
            listed = list(t)
            for i, process in processed:
                listed[i] = process(listed[i])
            out.append(tuple(listed))
        return out


class Insert:
    """New rows of one table (a dict per row, by column name; a missing column takes its default)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._core = insert(table)
        key = table.primary_key.columns.values()
        self._core_ids = insert(table).returning(key[0], sort_by_parameter_order=True) if len(key) == 1 else None
        self._plans: dict[str, _Plan] = {}
        self._copies: dict[frozenset[str], _Plan] = {}
        self._copyable = not any(isinstance(c.type, LargeBinary) for c in table.columns)

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
        conn = connection_of(executor)
        plan = self._plan(conn)
        if plan is None:
            if self._copyable and len(rows) >= COPY_FROM_ROWS and conn.dialect.driver == "psycopg":
                self._copy(conn, rows)
            else:
                conn.execute(self._core, rows)
            return
        params = plan.tuples(rows)
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(plan.sql, params)
        except Exception as exc:
            raise as_sqlalchemy_error(plan.sql, params, exc, conn) from exc
        finally:
            cursor.close()

    def _copy(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """``rows`` in one COPY: the columns the rows name and those with a default of their own (as
        Core would list them); the others take the database's default (a key from its sequence)."""
        named = frozenset(k for row in rows for k in row)
        plan = self._copies.get(named)
        if plan is None:
            names = [c.name for c in self.table.columns if c.name in named or c.default is not None]
            plan = self._copies[named] = _Plan(self.table, conn.dialect, names)
        params = plan.tuples(rows)
        cursor = conn.connection.cursor()
        try:
            with cursor.copy(plan.copy) as copy:
                for values in params:
                    copy.write_row(values)
        except Exception as exc:
            raise as_sqlalchemy_error(plan.copy, params, exc, conn) from exc
        finally:
            cursor.close()

    def rows_with_ids(self, executor: Executor, rows: list[dict[str, Any]]) -> list[int]:
        """Insert ``rows``; their ids, in the same order."""
        if not rows:
            return []
        assert self._core_ids is not None, f"{self.table.name} has no single-column key"
        conn = connection_of(executor)
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
            raise as_sqlalchemy_error(plan.sql, params, exc, conn) from exc
        finally:
            cursor.close()
        return ids


    def rows_unless_taken(self, executor: Executor, rows: list[dict[str, Any]], key: str,
                          core: Executable) -> dict[Any, int]:
        """Insert ``rows`` but those whose ``key`` (a unique column) is taken; {key: id} of the rows
        inserted. ``core``: the same statement for other databases (``INSERT ... ON CONFLICT (key) DO
        NOTHING RETURNING key, id``, run with the rows as its parameters)."""
        if not rows:
            return {}
        conn = connection_of(executor)
        plan = self._plan(conn)
        if plan is None:
            return dict(conn.execute(core, rows[0] if len(rows) == 1 else rows).all())
        (pk,) = self.table.primary_key.columns.values()
        sql = f'{plan.sql} ON CONFLICT ("{key}") DO NOTHING RETURNING "{key}", "{pk.name}"'
        params = plan.tuples(rows)
        cursor = conn.connection.cursor()
        inserted: dict[Any, int] = {}
        try:
            for values in params:
                cursor.execute(sql, values)
                found = cursor.fetchone()
                if found is not None:
                    inserted[found[0]] = found[1]
        except Exception as exc:
            raise as_sqlalchemy_error(sql, params, exc, conn) from exc
        finally:
            cursor.close()
        return inserted


__all__ = ["Insert"]
