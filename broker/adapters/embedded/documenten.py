"""Documents in the embedded zaaksysteem (ZDS 1.2 §4.3)."""

from __future__ import annotations

from lxml import etree
from sqlalchemy.orm import Session

from broker.adapters.embedded.tables import ZsZaak


class DocumentenMixin:
    def _document_relations(self, session: Session, row: ZsZaak) -> list[etree._Element]:
        return []
