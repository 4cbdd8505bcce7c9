"""Forwarding a StUF message unchanged to another ZDS endpoint (a legacy zaaksysteem).

The message keeps its zender, referentienummer and content, so the receiving zaaksysteem recognises a
repeated delivery (StUF 03.01 §4.4: same zender and referentienummer → its earlier answer) and a retry
after a crash is never applied twice. The answer (Bv03, La01, Du02 ...) or the fault of the endpoint
becomes this target's answer.

Options in routes.yaml (:class:`StufOptions`): ``url`` (base URL; the port name is appended, e.g.
``.../OntvangAsynchroon``), ``timeout`` (seconds, default 10), ``soap_version`` (1.1 or 1.2).

Large document content stays in the file store while the message waits in the queue (the stored
message holds a token in its place, broker.store.blobs); the forward streams it from there into the
request body, as base64 in the ``inhoud`` element, without holding it.

Retries (broker.adapters.http): no answer, HTTP 5xx, 408 and 429 are worth another attempt; a Fo03
says it itself with its ``plek`` (server: retry; client: permanent).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import httpx
from pydantic import field_validator

from broker.adapters.http import HttpErrors, calling, correlation_headers, describe
from broker.adapters.options import HttpUrl, Options, Timeout
from broker.adapters.outbound import read_answer
from broker.adapters.targets import DeliveryRequest, default_retryable
from broker.model.ports import Context, Health
from broker.store.blobs import BlobStore
from broker.stuf import soap, xmlsafe
from broker.zds.request import ZdsAnswer


class StufOptions(Options):
    url: HttpUrl
    timeout: Timeout = 10.0
    soap_version: Literal["1.1", "1.2"] = "1.1"

    @field_validator("soap_version", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, float) else value  # YAML reads 1.2 as a number


class StufForward(HttpErrors):
    shares_transaction = False

    def __init__(self, name: str, url: str, timeout: float = 10.0, soap_version: str = "1.1", *,
                 files_dir: Path | None = None) -> None:
        self.name = name
        self.blobs = BlobStore(files_dir) if files_dir is not None else None
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        self.soap_version = soap_version
        self.http = httpx.Client(timeout=self.timeout, headers={"User-Agent": "stuf-broker"})

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        port = request.zds.operation.port.rsplit("/", 1)[-1]  # a StUF-BG port is "bg/<port>"
        body = xmlsafe.parse_trusted(request.raw)
        envelope = soap.to_bytes(soap.envelope(self.soap_version, body))
        headers = {"Content-Type": soap.content_type(self.soap_version), **correlation_headers()}
        if request.soap_action:
            headers["SOAPAction"] = f'"{request.soap_action}"'
        content: bytes | Iterator[bytes] = envelope
        pieces = self.blobs.expand(envelope) if self.blobs is not None else None
        if pieces is not None and self.blobs is not None:  # document content streamed from the file store
            content = pieces
            headers["Content-Length"] = str(self.blobs.expanded_length(envelope))
        where = f"{self.name}: POST {port}"
        with calling(where, self.timeout):
            response = self.http.post(f"{self.url}/{port}", content=content, headers=headers)
        return ZdsAnswer(read_answer(response, where, type(self), fault_where=self.name))

    def check(self) -> Health:
        try:
            r = self.http.get(f"{self.url}/BeantwoordVraag", params={"wsdl": ""}, timeout=min(self.timeout, 5))
            return Health(r.status_code < 500, f"HTTP {r.status_code}")
        except httpx.RequestError as exc:
            return Health(False, describe(exc, min(self.timeout, 5)))

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)

    def close(self) -> None:
        self.http.close()
