"""Afnemerindicaties (StUF 03.01; StUF-BG): which application follows which person.

An application places one by asking with ``StUF:indicatorAfnemerIndicatie`` (for every person the
answer holds), by an ``npsLk01`` with mutatiesoort T addressed to the broker, or an administrator
places it (``stuf-broker afnemers``, audited); a V kennisgeving or an administrator removes it.
Placing is idempotent. The rows hold a BSN: personal data, never logged.

Layer: services (the table beside the services that use it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from broker.store.tables import Base
from broker.stuf.stuurgegevens import Systeem


class Afnemerindicatie(Base):
    __tablename__ = "afnemerindicaties"
    __table_args__ = (UniqueConstraint("bsn", "organisatie", "applicatie", "administratie",
                                       name="uq_afnemerindicatie"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bsn: Mapped[str] = mapped_column(String(9), index=True)
    #: the afnemer's StUF identity; "" where its stuurgegevens leave a part out (NULLs are never equal)
    organisatie: Mapped[str] = mapped_column(String(200), default="")
    applicatie: Mapped[str] = mapped_column(String(200))
    administratie: Mapped[str] = mapped_column(String(200), default="")
    geplaatst_op: Mapped[datetime] = mapped_column(DateTime)
    #: how it was placed: vraag, kennisgeving or beheerder
    bron: Mapped[str] = mapped_column(String(20))


@dataclass(frozen=True)
class Indicatie:
    bsn: str
    afnemer: Systeem
    geplaatst_op: datetime
    bron: str


def _key(afnemer: Systeem) -> tuple[str, str, str]:
    return afnemer.organisatie or "", afnemer.applicatie or "", afnemer.administratie or ""


def place(session: Session, bsn: str, afnemer: Systeem, bron: str) -> bool:
    """Place the indicatie; False when it was there already."""
    organisatie, applicatie, administratie = _key(afnemer)
    t = Afnemerindicatie.__table__
    found = session.execute(select(t.c.id).where(t.c.bsn == bsn, t.c.organisatie == organisatie,
                                                 t.c.applicatie == applicatie,
                                                 t.c.administratie == administratie)).first()
    if found is not None:
        return False
    session.add(Afnemerindicatie(bsn=bsn, organisatie=organisatie, applicatie=applicatie,
                                 administratie=administratie, geplaatst_op=datetime.now(UTC).replace(tzinfo=None),
                                 bron=bron))
    session.flush()
    return True


def remove(session: Session, bsn: str, afnemer: Systeem) -> bool:
    """Remove the indicatie; False when there was none."""
    organisatie, applicatie, administratie = _key(afnemer)
    t = Afnemerindicatie.__table__
    done = session.execute(delete(t).where(t.c.bsn == bsn, t.c.organisatie == organisatie,
                                           t.c.applicatie == applicatie, t.c.administratie == administratie))
    return bool(getattr(done, "rowcount", 0))


def listed(session: Session, bsn: str | None = None, applicatie: str | None = None) -> list[Indicatie]:
    query = select(Afnemerindicatie).order_by(Afnemerindicatie.bsn, Afnemerindicatie.applicatie)
    if bsn is not None:
        query = query.where(Afnemerindicatie.bsn == bsn)
    if applicatie is not None:
        query = query.where(Afnemerindicatie.applicatie == applicatie)
    return [Indicatie(r.bsn, Systeem(r.organisatie or None, r.applicatie, r.administratie or None), r.geplaatst_op,
                      r.bron) for r in session.execute(query).scalars()]
