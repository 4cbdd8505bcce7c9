"""Sending StUF messages to a live broker the way legacy clients do, and checking every answer.

Every answer that passes through :class:`SoapCaller` is validated against the official schemas
(the StUF payload inside the SOAP body or inside the Fault detail), so the whole test suite checks
that the broker never emits a non-conforming message.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from lxml import etree

from broker.stuf import mtom, ns
from broker.stuf.schemas import SchemaSet

ENVELOPES = {
    "1.1": ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            "<soapenv:Header/><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"),
    "1.2": ('<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">'
            "<env:Body>{body}</env:Body></env:Envelope>"),
}


@dataclass
class SoapAnswer:
    status: int
    content: bytes
    content_type: str
    payload: etree._Element  # the StUF message in the body (or the Fo-bericht of a Fault)
    fault: etree._Element | None

    @property
    def is_fault(self) -> bool:
        return self.fault is not None

    def text(self, local_path: str) -> str | None:
        """Text at a path of local names below the payload, e.g. 'body/code' or 'stuurgegevens/berichtcode'."""
        el = self.payload
        for part in local_path.split("/"):
            el = next((c for c in el if isinstance(c.tag, str) and ns.local(c.tag) == part), None)
            if el is None:
                return None
        return (el.text or "").strip()

    @property
    def berichtcode(self) -> str | None:
        return self.text("stuurgegevens/berichtcode")

    @property
    def foutcode(self) -> str | None:
        return self.text("body/code") if self.is_fault else None


def payload_of(content: bytes, content_type: str) -> tuple[etree._Element, etree._Element | None]:
    if mtom.is_multipart(content_type):
        env, _ = mtom.parse(content, content_type)
    else:
        env = etree.fromstring(content)
    body = next(c for c in env if ns.local(c.tag) == "Body")
    first = next(c for c in body if isinstance(c.tag, str))
    if ns.local(first.tag) == "Fault":
        detail = next(c for c in first if ns.local(c.tag) in ("detail", "Detail"))
        return next(c for c in detail if isinstance(c.tag, str)), first
    return first, None


class SoapCaller:
    def __init__(self, base_url: str, schemas: SchemaSet) -> None:
        self.base_url = base_url
        self.schemas = schemas
        self.http = httpx.Client(timeout=30)

    def post_raw(self, port: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        path = port if "/" in port else f"zds/{port}"  # "bg/BeantwoordVraag": a StUF-BG endpoint
        return self.http.post(f"{self.base_url}/{path}", content=content, headers=headers)

    def call(self, port: str, body: str | bytes | etree._Element, *, soap_action: str | None = None,
             version: str = "1.1", headers: dict[str, str] | None = None) -> SoapAnswer:
        if isinstance(body, etree._Element):
            body = etree.tostring(body, encoding="unicode")
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        envelope = ENVELOPES[version].format(body=body)
        hdrs = {"Content-Type": "text/xml; charset=utf-8" if version == "1.1" else "application/soap+xml; charset=utf-8"}
        if soap_action is not None:
            if version == "1.1":
                hdrs["SOAPAction"] = f'"{soap_action}"'
            else:
                hdrs["Content-Type"] += f'; action="{soap_action}"'
        hdrs.update(headers or {})
        return self.check(self.post_raw(port, envelope.encode("utf-8"), hdrs))

    def check(self, response: httpx.Response) -> SoapAnswer:
        ctype = response.headers.get("content-type", "")
        payload, fault = payload_of(response.content, ctype)
        problems = self.schemas.issues(payload)
        assert not problems, f"the broker's answer does not conform to the schema: {problems[:3]}"
        return SoapAnswer(response.status_code, response.content, ctype, payload, fault)

    def close(self) -> None:
        self.http.close()
