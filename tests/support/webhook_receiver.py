"""A subscriber on loopback for the webhook adapter: it keeps every event it receives, with its headers.

Like a real subscriber it applies an ``Idempotency-Key`` once. Tests make it fail: ``fail_next``
(statuses to answer, one per request), ``down`` (503 for everything), ``slow_next`` (that many
requests are answered, and applied, only after ``delay`` seconds).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.loopback import LoopbackServer


@dataclass
class Event:
    body: dict[str, Any]
    headers: dict[str, str]
    status: int  # what the receiver answered


@dataclass
class WebhookReceiver(LoopbackServer):
    received: list[Event] = field(default_factory=list)
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)  # Idempotency-Key -> event
    fail_next: list[int] = field(default_factory=list)
    down: bool = False
    slow_next: int = 0
    delay: float = 1.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.serve(Starlette(routes=[Route("/events", self._handle, methods=["POST"])]))
        self.url = f"http://127.0.0.1:{self.port}/events"

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def events(self, zaak: str | None = None) -> list[dict[str, Any]]:
        """The applied events (once per key), in the order applied; of one zaak when given."""
        with self.lock:
            return [e for e in self.applied.values() if zaak is None or e.get("zaak") == zaak]

    async def _handle(self, request: Request) -> Response:
        body = json.loads(await request.body())
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self.lock:
            slow, self.slow_next = self.slow_next > 0, max(self.slow_next - 1, 0)
        if slow:
            await asyncio.sleep(self.delay)
        with self.lock:
            status = 503 if self.down else self.fail_next.pop(0) if self.fail_next else 204
            self.received.append(Event(body, headers, status))
            if status < 300:
                self.applied.setdefault(headers.get("idempotency-key", ""), body)
        return Response(status_code=status) if status == 204 else Response(f"status {status}", status_code=status)
