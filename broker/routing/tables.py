"""``zaak_routes``: zaak identificatie → zaaktype, so messages that do not name their zaaktype
(a document for a zaak, a status change) can still be routed by it."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.tables import Base


class ZaakRoute(Base):
    __tablename__ = "zaak_routes"

    identificatie: Mapped[str] = mapped_column(String(40), primary_key=True)
    zaaktype: Mapped[str | None] = mapped_column(String(50))
