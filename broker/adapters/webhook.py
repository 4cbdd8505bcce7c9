"""Zaak events for subscribed domain applications: one JSON POST per message.

The event says what happened and to which zaak, never who is involved: the operation, the broker's
message id, the zaak identificatie and zaaktype, the identificatie of the object (document, besluit)
and the sender's stuurgegevens; a subscriber reads the rest from its source. ``Idempotency-Key`` is the
delivery's message id and target, so a subscriber can ignore an event it has already applied (a retry
sends the same key); ``X-Correlation-ID`` is the message's correlation id. Events of one zaak arrive in
the order the broker received them (broker.queue).
2xx is delivered; no answer, 408, 429 and 5xx are worth another attempt; other 4xx are permanent
(broker.adapters.http).

Options in routes.yaml (:class:`WebhookOptions`): ``url``, ``timeout`` (seconds, default 10),
``headers`` (extra headers, e.g. ``Authorization``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from broker.adapters.http import HttpErrors, calling, correlation_headers
from broker.adapters.options import HttpUrl, Options, Timeout
from broker.adapters.targets import Answer, DeliveryRequest, acknowledgement, default_retryable
from broker.model.facts import MessageFacts
from broker.model.ports import Context, Health


class WebhookOptions(Options):
    url: HttpUrl
    timeout: Timeout = 10.0
    headers: dict[str, str] = {}


class Webhook(HttpErrors):
    shares_transaction = False

    def __init__(self, name: str, url: str, timeout: float = 10.0, headers: dict[str, str] | None = None) -> None:
        self.name = name
        self.url = url
        self.timeout = float(timeout)
        self.http = httpx.Client(timeout=self.timeout, headers={"User-Agent": "stuf-broker", **(headers or {})})

    def event(self, facts: MessageFacts) -> dict[str, Any]:
        return {
            "event": facts.operation,
            "message_id": facts.message_id,
            "zaak": facts.zaak,
            "zaaktype": facts.zaaktype,
            "object": facts.object,
            "referentienummer": facts.referentienummer,
            "zender": facts.zender,
            "tijdstipBericht": facts.tijdstip_bericht,
        }

    def deliver(self, request: DeliveryRequest, ctx: Context) -> Answer:
        payload = json.dumps(self.event(request.facts)).encode()
        key = f"{request.message_id}:{self.name}"
        where = f"{self.name}: POST event"
        with calling(where, self.timeout):
            r = self.http.post(self.url, content=payload,
                               headers={"Content-Type": "application/json", "Idempotency-Key": key,
                                        **correlation_headers()})
        if r.status_code >= 300:
            raise self.status_error(where, r)
        return acknowledgement(request)

    def check(self) -> Health:
        return Health(True, "webhook (checked on delivery)")

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)

    def close(self) -> None:
        self.http.close()
