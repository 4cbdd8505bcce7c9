"""A stored request read back for a delivery the queue runs later (the queue gets :meth:`rebuild`)."""

from __future__ import annotations

from lxml import etree

from broker.adapters.targets import DeliveryRequest
from broker.bg.operations import BY_NAME as BG_BY_NAME
from broker.config import BrokerSettings
from broker.errors import StufError
from broker.intake import rules
from broker.store import requests
from broker.store.db import Database
from broker.store.requests import StoredRequest
from broker.stuf import ns, soap
from broker.stuf import stuurgegevens as sgmod
from broker.zds import dispatch
from broker.zds.kern import SchemaModel
from broker.zds.operations import BY_NAME
from broker.zds.request import ZdsRequest


class StoredRequests:
    def __init__(self, db: Database, settings: BrokerSettings, schema_model: SchemaModel) -> None:
        self.db = db
        self.settings = settings
        self.schema_model = schema_model

    def rebuild(self, message_id: int) -> DeliveryRequest:
        with self.db.engine.connect() as conn:
            stored = requests.stored_request(conn, message_id)
        return self.from_stored(message_id, stored)

    def from_stored(self, message_id: int, stored: StoredRequest | None, *, raw: bool = True) -> DeliveryRequest:
        """The request of a message from what was stored of it (read by the caller, for several
        deliveries at once); ``raw=False`` leaves out the message as bytes, which only a target that
        forwards it needs."""
        if stored is None or stored.operation is None:
            raise StufError("StUF058", f"Bericht {message_id} is niet meer beschikbaar", plek="server")
        request = soap.parse_request(stored.body, stored.content_type, stored.soap_action)
        operation = BY_NAME.get(stored.operation.lower()) or BG_BY_NAME[stored.operation.lower()]
        resolved = dispatch.Resolved(operation, stored.dialect or "zds",
                                     ns.local(request.body_element.tag))
        if stored.tolerances:  # what the broker accepted, as it accepted it
            rules.reapply(request.body_element, resolved.operation.name, stored.tolerances)
        sg = sgmod.read(request.body_element)
        zreq = ZdsRequest(resolved, request.body_element, sg, self.settings, self.schema_model)
        return DeliveryRequest(zreq, etree.tostring(request.body_element) if raw else b"", request.soap_action,
                               message_id)
