"""Reads on every question's path (geefZaakdetails: the zaak's row, its rollen, statussen, documents
and besluiten), cheap on SQLite.

Through SQLAlchemy Core a small SELECT costs about four times what SQLite takes to run it (32 against
8 µs for a zaak's rollen: the statement's execution context, the result's cursor wrapper and rows). On
SQLite, inside a transaction that has begun, the statement compiled once runs on the driver's cursor
and its rows come back as the driver makes them, which is what Core returns for these statements:
a statement is read this way only when none of its parameters and none of its columns is processed
by its type on the way (no DateTime, JSON, Boolean...), and it has no expanding parameters. Anything
else, another database, or a connection outside a transaction (whose first statement begins it) takes
the Core statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import InvalidRequestError, MultipleResultsFound

from broker.store.db import Executor, as_sqlalchemy_error, connection_of


class _Plan:
    """The SQL of a statement for one dialect and the order of its parameters; None when it cannot be
    read through the driver as Core would read it."""

    def __init__(self, sql: str, names: list[str], given: dict[str, Any]) -> None:
        self.sql = sql
        self.names = names
        self.given = given  # the values the statement itself holds (a literal compared with)

    def values(self, params: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for name in self.names:
            if name in params:
                out.append(params[name])
            elif name in self.given:
                out.append(self.given[name])
            else:
                raise InvalidRequestError(f"A value is required for bind parameter {name!r}")
        return tuple(out)

    @classmethod
    def of(cls, stmt: Select[*tuple[Any, ...]], dialect: Dialect) -> _Plan | None:
        compiled = stmt.compile(dialect=dialect)
        binds = list(compiled.binds.values())
        if compiled.positiontup is None or any(b.expanding or b.literal_execute for b in binds):
            return None
        if any(b.type.dialect_impl(dialect).bind_processor(dialect) is not None for b in binds):
            return None
        columns = stmt.selected_columns
        if any(c.type.dialect_impl(dialect).result_processor(dialect, None) is not None for c in columns):
            return None
        given = {name: b.effective_value for name, b in compiled.binds.items() if not b.required}
        return cls(compiled.string, list(compiled.positiontup), given)


class Read:
    """A SELECT with named parameters, run as cheaply as the database allows (module docstring)."""

    def __init__(self, stmt: Select[*tuple[Any, ...]]) -> None:
        self.stmt = stmt
        self._plans: dict[str, _Plan | None] = {}

    def _plan(self, conn: Connection) -> _Plan | None:
        dialect = conn.dialect
        if dialect.name != "sqlite" or not conn.in_transaction():
            return None
        if dialect.name not in self._plans:
            self._plans[dialect.name] = _Plan.of(self.stmt, dialect)
        return self._plans[dialect.name]

    def rows(self, executor: Executor, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """All rows, as tuples."""
        conn = connection_of(executor)
        plan = self._plan(conn)
        if plan is None:
            return [tuple(row) for row in conn.execute(self.stmt, params)]
        values = plan.values(params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(plan.sql, values)
            return list(cursor.fetchall())
        except Exception as exc:
            raise as_sqlalchemy_error(plan.sql, values, exc, conn) from exc
        finally:
            cursor.close()

    def scalars(self, executor: Executor, params: dict[str, Any]) -> list[Any]:
        """The first column of every row."""
        return [row[0] for row in self.rows(executor, params)]

    def one_or_none(self, executor: Executor, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The one row, or None; more than one is Core's error for it (``MultipleResultsFound``)."""
        rows = self.rows(executor, params)
        if len(rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when one or none was required")
        return rows[0] if rows else None


__all__ = ["Read"]
