"""Finding a registered object by its identificatie, or StUF064 naming what was not found."""

from __future__ import annotations

from typing import ClassVar, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from broker.errors import StufError


class Registered(Protocol):
    """A table of registered objects (zaken, documents, besluiten): unique on ``identificatie``."""

    identificatie: ClassVar[InstrumentedAttribute[str]]


T = TypeVar("T", bound=Registered)


def by_identificatie(session: Session, model: type[T], soort: str, identificatie: str | None,
                     *, lock: bool = False) -> T:
    """The row of ``model`` with this identificatie; ``soort`` ("Zaak", "Document", "Besluit") names it
    in the fault. ``lock`` takes a row lock for an update (PostgreSQL; SQLite serialises writers)."""
    stmt = select(model).where(model.identificatie == (identificatie or ""))
    if lock:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise StufError(
            "StUF064",
            f"{soort} {identificatie} niet gevonden",
            f"er is geen {soort.lower()} met identificatie {identificatie!r} in het zaaksysteem",
            plek="client",
        )
    return row
