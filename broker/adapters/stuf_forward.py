"""Forwarding a StUF message unchanged to another ZDS endpoint (a legacy zaaksysteem).

The message keeps its zender, referentienummer and content, so the receiving zaaksysteem recognises a
repeated delivery (StUF 03.01 §4.4: same zender and referentienummer → its earlier answer) and a retry
after a crash is never applied twice. The answer (Bv03, La01, Du02 ...) or the fault of the endpoint
becomes this target's answer.

Options in routes.yaml: ``url`` (base URL; the port name is appended, e.g. ``.../OntvangAsynchroon``),
``timeout`` (seconds, default 10), ``soap_version`` (1.1).
"""

from __future__ import annotations

import httpx
from lxml import etree

from broker.adapters.abc import Context, Health
from broker.adapters.targets import DeliveryRequest, default_retryable
from broker.errors import AdapterError, StufError
from broker.stuf import ns, soap, xmlsafe
from broker.zds.request import ZdsAnswer


class StufForward:
    shares_transaction = False

    def __init__(self, name: str, url: str, timeout: float = 10.0, soap_version: str = "1.1", **_: object) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        self.soap_version = soap_version
        self.http = httpx.Client(timeout=self.timeout, headers={"User-Agent": "stuf-broker"})

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        port = request.zds.operation.port
        body = xmlsafe.parse_trusted(request.raw)
        envelope = soap.to_bytes(soap.envelope(self.soap_version, body))
        headers = {"Content-Type": soap.content_type(self.soap_version)}
        if request.soap_action:
            headers["SOAPAction"] = f'"{request.soap_action}"'
        try:
            response = self.http.post(f"{self.url}/{port}", content=envelope, headers=headers)
        except httpx.TimeoutException as exc:
            raise AdapterError(f"{self.name}: timeout after {self.timeout}s", retryable=True) from exc
        except httpx.TransportError as exc:
            raise AdapterError(f"{self.name}: {type(exc).__name__}: {exc}", retryable=True) from exc
        text = response.text[:20000]
        try:
            payload, fault = _payload(response.content)
        except Exception:  # noqa: BLE001 - not a SOAP answer at all
            raise AdapterError(
                f"{self.name}: HTTP {response.status_code} without a SOAP answer",
                retryable=response.status_code >= 500 or response.status_code == 429,
                target_answer=text,
            ) from None
        if fault is not None:
            code = _text(payload, "body", "code") or "StUF058"
            plek = _text(payload, "body", "plek") or ("server" if response.status_code >= 500 else "client")
            error = StufError(code, _text(payload, "body", "omschrijving"), _text(payload, "body", "details"), plek=plek)
            raise AdapterError(f"{self.name}: {code} ({plek}) {error.omschrijving}", retryable=plek == "server",
                               fault=error, target_answer=text)
        if response.status_code >= 400:
            raise AdapterError(f"{self.name}: HTTP {response.status_code}", retryable=response.status_code >= 500,
                               target_answer=text)
        return ZdsAnswer(payload)

    def check(self) -> Health:
        try:
            r = self.http.get(f"{self.url}/BeantwoordVraag", params={"wsdl": ""}, timeout=min(self.timeout, 5))
            return Health(r.status_code < 500, f"HTTP {r.status_code}")
        except httpx.HTTPError as exc:
            return Health(False, f"{type(exc).__name__}")

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)

    def close(self) -> None:
        self.http.close()


def _payload(content: bytes) -> tuple[etree._Element, etree._Element | None]:
    env = xmlsafe.parse(content)
    body = next(c for c in env if ns.local(c.tag) == "Body")
    first = next(c for c in body if isinstance(c.tag, str))
    if ns.local(first.tag) == "Fault":
        detail = next(c for c in first if ns.local(c.tag) in ("detail", "Detail"))
        return next(c for c in detail if isinstance(c.tag, str)), first
    return first, None


def _text(el: etree._Element, *path: str) -> str | None:
    for p in path:
        el = next((c for c in el if isinstance(c.tag, str) and ns.local(c.tag) == p), None)
        if el is None:
            return None
    return (el.text or "").strip() or None
