"""Versions of the configuration files functional administrators edit (``config_versions``).

Every version of ``zaaktypecatalogus.yaml`` and ``mappings/*.yaml`` is kept with its text, who made
it and when; the newest version of a file is the one in use. Rows are only ever added: a rollback is
a new version holding an older text (broker.mappings.store).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.tables import Base, BigId


class ConfigVersionRow(Base):
    __tablename__ = "config_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: the file, relative to the configuration directory: "zaaktypecatalogus.yaml", "mappings/shv.yaml"
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("name", "version"),)
