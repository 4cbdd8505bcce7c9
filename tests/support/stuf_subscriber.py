"""A subscribed application on loopback: an OntvangAsynchroon endpoint built on the broker's own StUF
layer. It validates every kennisgeving it receives against the official schemas, checks that it is
addressed to it, and answers Bv03, a Fo03 with plek server or a Fo03 with plek client as the test
says (``answers``: a list consumed one per message; then Bv03). It may demand HTTP basic, a
WS-Security UsernameToken (PasswordDigest checked) or, over TLS, a client certificate."""

from __future__ import annotations

import base64
import hashlib
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from broker.errors import StufError
from broker.stuf import faults, soap
from broker.stuf import stuurgegevens as sgmod
from broker.stuf.berichten import bv03
from broker.stuf.schemas import SchemaSet
from broker.stuf.stuurgegevens import Systeem
from tests.support.loopback import LoopbackServer

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


@dataclass
class Received:
    element: str  # local name of the message element
    body: etree._Element
    sg: sgmod.Stuurgegevens
    answered: str  # Bv03, server, client, 401, 503 (down)

    def text(self, local_path: str) -> str | None:
        found = self.body.xpath(local_path)
        return found[0].text if found else None

    @property
    def zaak(self) -> str | None:
        ids = self.body.xpath("//*[local-name()='object']/*[local-name()='identificatie']/text()")
        zaak = self.body.xpath("//*[local-name()='isRelevantVoor']//*[local-name()='identificatie']/text()")
        return (zaak or ids or [None])[0]


@dataclass
class StufSubscriber(LoopbackServer):
    schemas: SchemaSet
    applicatie: str = "BBB"
    organisatie: str = "1234"
    #: what to answer, one per message (then Bv03): "Bv03", "server" or "client"
    answers: list[str] = field(default_factory=list)
    down: bool = False  # answer HTTP 503 without SOAP (not reachable as a StUF endpoint)
    basic: tuple[str, str] | None = None
    usernametoken: tuple[str, str] | None = None
    tls: tuple[Path, Path, Path] | None = None  # (server cert, key, CA of the clients): client certificate required
    received: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        options = {}
        if self.tls is not None:
            cert, key, ca = self.tls
            options = {"ssl_certfile": str(cert), "ssl_keyfile": str(key), "ssl_ca_certs": str(ca),
                       "ssl_cert_reqs": ssl.CERT_REQUIRED}
        self.serve(Starlette(routes=[Route("/zds/OntvangAsynchroon", self._handle, methods=["POST"])]), **options)
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/zds/OntvangAsynchroon"

    def __enter__(self) -> StufSubscriber:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def systeem(self) -> Systeem:
        return Systeem(self.organisatie, self.applicatie)

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.answered == "Bv03"]

    def _authorised(self, request: Request, headers: list[etree._Element]) -> bool:
        if self.basic is not None:
            expected = "Basic " + base64.b64encode(f"{self.basic[0]}:{self.basic[1]}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return False
        if self.usernametoken is not None:
            token = next((h.find(f"{{{WSSE}}}UsernameToken") for h in headers if h.tag == f"{{{WSSE}}}Security"), None)
            if token is None or token.findtext(f"{{{WSSE}}}Username") != self.usernametoken[0]:
                return False
            nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "")
            created = token.findtext(f"{{{WSU}}}Created") or ""
            digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + self.usernametoken[1].encode())
                                      .digest()).decode()
            if not nonce or token.findtext(f"{{{WSSE}}}Password") != digest:
                return False
        return True

    async def _handle(self, request: Request) -> Response:
        content = await request.body()
        parsed = soap.parse_request(content, request.headers.get("content-type", ""), request.headers.get("soapaction"))
        body = parsed.body_element
        sg = sgmod.read(body)
        if self.down:
            with self.lock:
                self.received.append(Received(etree.QName(body).localname, body, sg, "503"))
            return Response("unavailable", status_code=503)
        if not self._authorised(request, parsed.headers):
            with self.lock:
                self.received.append(Received(etree.QName(body).localname, body, sg, "401"))
            return Response("unauthorised", status_code=401)
        problems = [str(p) for p in self.schemas.issues(body)]
        if sg.ontvanger != self.systeem:
            problems.append(f"addressed to {sg.ontvanger}, not to {self.systeem}")
        with self.lock:
            self.problems += problems
            answer = "client" if problems else (self.answers.pop(0) if self.answers else "Bv03")
            self.received.append(Received(etree.QName(body).localname, body, sg, answer))
        if answer == "Bv03":
            env = soap.envelope(parsed.version, bv03(sg, self.systeem))
            return Response(soap.to_bytes(env), media_type=soap.content_type(parsed.version))
        error = StufError("StUF058" if answer == "server" else "StUF055",
                          "tijdelijk niet beschikbaar" if answer == "server" else "bericht niet verwerkt",
                          "; ".join(problems)[:500] or None, plek=answer)
        env = soap.fault_envelope(parsed.version, error, faults.fo_bericht("Fo03", error, sg, self.systeem))
        return Response(soap.to_bytes(env), status_code=500, media_type=soap.content_type(parsed.version))
