"""The embedded zaaksysteem: the default target, so the broker works out of the box.

Zaken, statussen, rollen, documents and besluiten live in the broker's own database (document
content in a file store); the zaaktypecatalogus is ``<config>/zaaktypecatalogus.yaml``.
"""

from __future__ import annotations

from lxml import etree
from sqlalchemy.orm import Session

from broker.adapters.embedded import identificaties
from broker.adapters.embedded.base import session_of
from broker.adapters.embedded.besluiten import BesluitenMixin
from broker.adapters.embedded.documenten import DocumentenMixin
from broker.adapters.embedded.files import FileStore
from broker.adapters.embedded.zaken import ZakenMixin
from broker.config import BrokerSettings
from broker.mappings.catalogus import Catalogus
from broker.model import ports
from broker.model.ports import Context, Health
from broker.zds.kern import SchemaModel


class EmbeddedZaaksysteem(ZakenMixin, DocumentenMixin, BesluitenMixin):
    name = "embedded"
    #: the embedded target shares the broker's transaction, so a failure is never worth a retry
    retryable_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, settings: BrokerSettings, catalogus: Catalogus, schema: SchemaModel, files: FileStore) -> None:
        self.settings = settings
        self.catalogus = catalogus
        self.schema = schema
        self.files = files

    def genereer_identificatie(self, ctx: Context, soort: str) -> str:
        zender = ctx.zender.applicatie if ctx.zender else None
        return identificaties.generate(session_of(ctx), soort, self.settings.gemeentecode, zender)

    def _derived_zaak_relations(self, session: Session, zaak_id: int) -> list[etree._Element]:
        return self._document_relations(session, zaak_id) + self._besluit_relations(session, zaak_id)

    def check(self) -> Health:
        return Health(True, "embedded zaaksysteem in the broker's database")


def _conforms(z: EmbeddedZaaksysteem) -> tuple[ports.Zaaksysteem, ports.StufZaken, ports.PreparedZaken]:
    """Never called: mypy checks here that the embedded zaaksysteem offers the ports whose optional
    capabilities (``geef_zaak_entity``, ``prepare_creeer_zaak``) the services look up by name."""
    return z, z, z
