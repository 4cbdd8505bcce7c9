"""What the parts of the embedded zaaksysteem share: the collaborators that
:class:`~broker.adapters.embedded.EmbeddedZaaksysteem` is built with, the broker's transaction a
call runs in, and finding a registered zaak."""

from __future__ import annotations

from lxml import etree
from sqlalchemy.orm import Session

from broker.adapters.embedded import lookup
from broker.adapters.embedded.files import FileStore
from broker.adapters.embedded.tables import ZsZaak
from broker.config import BrokerSettings
from broker.errors import AdapterError
from broker.mappings.catalogus import Catalogus
from broker.model import Besluit, Document, Status, Zaak
from broker.model.ports import Context
from broker.zds.kern import SchemaModel


class EmbeddedBase:
    """The base of the mixins (zaken, documenten, besluiten); ``EmbeddedZaaksysteem.__init__`` sets these."""

    settings: BrokerSettings
    catalogus: Catalogus
    schema: SchemaModel
    files: FileStore

    def _zaak_row(self, session: Session, identificatie: str | None, *, lock: bool = False) -> ZsZaak:
        return lookup.by_identificatie(session, ZsZaak, "Zaak", identificatie, lock=lock)


def session_of(ctx: Context) -> Session:
    """The broker's transaction, where the embedded zaaksysteem keeps its data, with the writes
    deferred to the end of the batch done first (so what follows sees them). The target shares it
    (``shares_transaction``), so the intake and the queue always hand one over."""
    session = deferring_session_of(ctx)
    if ctx.deferred is not None:
        ctx.deferred.flush()
    return session


def deferring_session_of(ctx: Context) -> Session:
    """The broker's transaction for a write that is itself deferred (``ctx.deferred``)."""
    if ctx.session is None:
        raise AdapterError("the embedded zaaksysteem was called without the broker's transaction", retryable=False)
    return ctx.session


def stuf_of(obj: Zaak | Status | Document | Besluit) -> etree._Element:
    """The StUF entity an object was read from: the embedded zaaksysteem registers that entity."""
    if obj.stuf is None:
        raise AdapterError(
            f"the embedded zaaksysteem registers StUF entities; this {type(obj).__name__.lower()} has none",
            retryable=False,
        )
    return obj.stuf
