"""Tables of the embedded zaaksysteem (prefix ``zs_``).

Each object keeps the StUF entity it was registered with (``stuf_xml``, without the relations that
live in their own tables), so every RGBZ element a sender supplied comes back in geefZaakdetails;
the columns beside it index what the broker searches and shows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.tables import Base, BigId


class ZsZaak(Base):
    __tablename__ = "zs_zaken"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    identificatie: Mapped[str] = mapped_column(String(40), unique=True)
    zaaktype_code: Mapped[str | None] = mapped_column(String(50), index=True)
    zaaktype_omschrijving: Mapped[str | None] = mapped_column(String(100))
    omschrijving: Mapped[str | None] = mapped_column(String(100))
    startdatum: Mapped[str | None] = mapped_column(String(8))
    einddatum: Mapped[str | None] = mapped_column(String(8))
    stuf_xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ZsRol(Base):
    __tablename__ = "zs_rollen"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    zaak_id: Mapped[int] = mapped_column(ForeignKey("zs_zaken.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    relatie: Mapped[str] = mapped_column(String(40))  # heeftAlsInitiator, ...
    betrokkene_type: Mapped[str | None] = mapped_column(String(30))
    betrokkene_key: Mapped[str | None] = mapped_column(String(40), index=True)
    stuf_xml: Mapped[str] = mapped_column(Text)


class ZsStatus(Base):
    __tablename__ = "zs_statussen"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    zaak_id: Mapped[int] = mapped_column(ForeignKey("zs_zaken.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(50))
    omschrijving: Mapped[str | None] = mapped_column(String(80))
    volgnummer: Mapped[str | None] = mapped_column(String(10))
    datum_status_gezet: Mapped[str | None] = mapped_column(String(20))
    stuf_xml: Mapped[str] = mapped_column(Text)


class ZsDocument(Base):
    __tablename__ = "zs_documenten"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    identificatie: Mapped[str] = mapped_column(String(40), unique=True)
    zaak_id: Mapped[int | None] = mapped_column(ForeignKey("zs_zaken.id", ondelete="SET NULL"), index=True)
    documenttype: Mapped[str | None] = mapped_column(String(80))
    titel: Mapped[str | None] = mapped_column(String(200))
    #: the EDC entity without inhoud and without its relation to the zaak
    stuf_xml: Mapped[str] = mapped_column(Text)
    #: the document's relation to its zaak (EDCZAK ``isRelevantVoor``: titel, beschrijving,
    #: registratiedatum, tijdvakken) as registered, without the gerelateerde; None once ontkoppeld
    link_xml: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    content_size: Mapped[int | None] = mapped_column(Integer)
    bestandsnaam: Mapped[str | None] = mapped_column(String(255))
    #: xmime:contentType as sent (media type with parameters)
    content_type: Mapped[str | None] = mapped_column(String(255))
    #: geefZaakdocumentbewerken: the lock (an opaque random id), who holds it and since when
    checkout_id: Mapped[str | None] = mapped_column(String(40))
    checked_out_by: Mapped[str | None] = mapped_column(String(200))
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ZsBesluit(Base):
    __tablename__ = "zs_besluiten"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    identificatie: Mapped[str] = mapped_column(String(40), unique=True)
    zaak_id: Mapped[int | None] = mapped_column(ForeignKey("zs_zaken.id", ondelete="SET NULL"), index=True)
    besluittype: Mapped[str | None] = mapped_column(String(80))
    datum_beslissing: Mapped[str | None] = mapped_column(String(8))
    stuf_xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ZsBesluitDocument(Base):
    __tablename__ = "zs_besluit_documenten"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    besluit_id: Mapped[int] = mapped_column(ForeignKey("zs_besluiten.id", ondelete="CASCADE"), index=True)
    document_identificatie: Mapped[str] = mapped_column(String(40))
    stuf_xml: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("besluit_id", "document_identificatie"),)


class ZsIdentificatie(Base):
    """Identificaties handed out by genereer*Identificatie: reserved once, never twice."""

    __tablename__ = "zs_identificaties"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    soort: Mapped[str] = mapped_column(String(10))  # zaak, document, besluit
    identificatie: Mapped[str] = mapped_column(String(40))
    reserved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reserved_by: Mapped[str | None] = mapped_column(String(50))

    __table_args__ = (
        UniqueConstraint("soort", "identificatie"),
        Index("ix_zs_identificaties_soort_reserved", "soort", "reserved_at"),
    )


class ZsCounter(Base):
    __tablename__ = "zs_counters"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(BigId)
