"""Zaak events for subscribed domain applications: one JSON POST per message.

The event carries the operation, the zaak identificatie, the stuurgegevens and the internal case
model; ``Idempotency-Key`` is the delivery's message id and target, so a subscriber can ignore an
event it has already applied (a retry after a crash sends the same key). 2xx is delivered; 408, 429
and 5xx are worth another attempt; other 4xx are permanent.

Options in routes.yaml: ``url``, ``timeout`` (seconds, default 10), ``headers`` (extra headers).
"""

from __future__ import annotations

import json

import httpx

from broker.adapters.abc import Context, Health
from broker.adapters.targets import DeliveryRequest, default_retryable
from broker.errors import AdapterError
from broker.stuf.berichten import bv03
from broker.zds.request import ZdsAnswer


class Webhook:
    shares_transaction = False

    def __init__(self, name: str, url: str, timeout: float = 10.0, headers: dict | None = None, **_: object) -> None:
        self.name = name
        self.url = url
        self.timeout = float(timeout)
        self.http = httpx.Client(timeout=self.timeout, headers={"User-Agent": "stuf-broker", **(headers or {})})

    def event(self, request: DeliveryRequest) -> dict:
        from broker.routing.keys import zaak_identificatie

        sg = request.zds.stuurgegevens
        return {
            "event": request.zds.operation.name,
            "message_id": request.message_id,
            "zaak": zaak_identificatie(request.zds.operation.name, request.zds.body),
            "referentienummer": sg.referentienummer,
            "zender": sg.zender.applicatie if sg.zender else None,
            "tijdstipBericht": sg.tijdstipBericht,
        }

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        payload = json.dumps(self.event(request)).encode()
        key = f"{request.message_id}:{self.name}"
        try:
            r = self.http.post(self.url, content=payload,
                               headers={"Content-Type": "application/json", "Idempotency-Key": key})
        except httpx.TimeoutException as exc:
            raise AdapterError(f"{self.name}: timeout after {self.timeout}s", retryable=True) from exc
        except httpx.TransportError as exc:
            raise AdapterError(f"{self.name}: {type(exc).__name__}", retryable=True) from exc
        if r.status_code >= 300:
            retry = r.status_code >= 500 or r.status_code in (408, 429)
            raise AdapterError(f"{self.name}: HTTP {r.status_code}", retryable=retry, target_answer=r.text[:5000])
        return ZdsAnswer(bv03(request.zds.stuurgegevens, request.zds.own))

    def check(self) -> Health:
        return Health(True, "webhook (checked on delivery)")

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)

    def close(self) -> None:
        self.http.close()
