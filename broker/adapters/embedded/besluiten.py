"""Besluiten in the embedded zaaksysteem (ZDS 1.2 §4.1.7-4.1.11)."""

from __future__ import annotations

from lxml import etree
from sqlalchemy.orm import Session

from broker.adapters.embedded.tables import ZsZaak


class BesluitenMixin:
    def _besluit_relations(self, session: Session, row: ZsZaak) -> list[etree._Element]:
        return []
