"""genereerZaak-/Document-/BesluitIdentificatie for the embedded zaaksysteem (ZDS 1.2 §4.1.6, 4.1.9, 4.3.7).

An identificatie is the gemeentecode, a letter for its kind, the year and a counter:
``1234Z2026000042`` (at most 40 characters, RGBZ). The counter lives in ``zs_counters`` and is
incremented inside the caller's transaction (row lock on PostgreSQL, the write lock on SQLite), and
each identificatie handed out is recorded in ``zs_identificaties`` with a unique constraint, so two
concurrent requests can never receive the same value.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from broker.adapters.embedded.tables import ZsCounter, ZsIdentificatie

PREFIX = {"zaak": "Z", "document": "D", "besluit": "B"}


def next_value(session: Session, name: str) -> int:
    """Increment a named counter atomically: one upsert, so two first users cannot both create it."""
    table = ZsCounter.__table__
    stmt: postgresql.Insert | sqlite.Insert
    if session.get_bind().dialect.name == "postgresql":
        stmt = postgresql.insert(table).values(name=name, value=1)
    else:
        stmt = sqlite.insert(table).values(name=name, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.name], set_={"value": table.c.value + 1})
    return int(session.execute(stmt.returning(table.c.value)).scalar_one())


def generate(session: Session, soort: str, gemeentecode: str, reserved_by: str | None = None) -> str:
    year = datetime.now().year
    n = next_value(session, f"{soort}:{year}")
    identificatie = f"{gemeentecode}{PREFIX[soort]}{year}{n:06d}"
    session.add(
        ZsIdentificatie(
            soort=soort, identificatie=identificatie, reserved_at=datetime.now(UTC), reserved_by=reserved_by
        )
    )
    session.flush()
    return identificatie


def is_reserved(session: Session, soort: str, identificatie: str) -> bool:
    return (
        session.execute(
            select(ZsIdentificatie.id).where(
                ZsIdentificatie.soort == soort, ZsIdentificatie.identificatie == identificatie
            )
        ).first()
        is not None
    )
