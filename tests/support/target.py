"""A StUF endpoint on loopback that counts what it receives and what it applies.

Like a real zaaksysteem it recognises a message it has seen (same zender and referentienummer) and
does not apply it twice; it records the order in which each zaak's messages were applied. Tests make
it fail: ``fail_next`` (HTTP 500, a client-side Fo03, a server-side Fo03), ``down`` (HTTP 503 for
everything) and ``delay`` (slow answers).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.loopback import LoopbackServer

STUF = "http://www.egem.nl/StUF/StUF0301"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _find(el: etree._Element, *path: str) -> str | None:
    for p in path:
        el = next((c for c in el if _local(c.tag) == p), None)
        if el is None:
            return None
    return (el.text or "").strip() or None


def _bv03(zender: str, ref: str) -> bytes:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body><StUF:Bv03Bericht xmlns:StUF="{STUF}">'
        "<StUF:stuurgegevens><StUF:berichtcode>Bv03</StUF:berichtcode>"
        "<StUF:zender><StUF:applicatie>TARGET</StUF:applicatie></StUF:zender>"
        f"<StUF:ontvanger><StUF:applicatie>{zender}</StUF:applicatie></StUF:ontvanger>"
        f"<StUF:referentienummer>T{ref[:30]}</StUF:referentienummer><StUF:tijdstipBericht>20260101000000</StUF:tijdstipBericht>"
        f"<StUF:crossRefnummer>{ref}</StUF:crossRefnummer></StUF:stuurgegevens></StUF:Bv03Bericht>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def _fo03(code: str, plek: str, ref: str) -> bytes:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>soapenv:{'Client' if plek == 'client' else 'Server'}</faultcode><faultstring>target says no</faultstring>"
        f'<detail><StUF:Fo03Bericht xmlns:StUF="{STUF}"><StUF:stuurgegevens><StUF:berichtcode>Fo03</StUF:berichtcode>'
        "<StUF:zender><StUF:applicatie>TARGET</StUF:applicatie></StUF:zender><StUF:ontvanger><StUF:applicatie>BROKER</StUF:applicatie></StUF:ontvanger>"
        f"<StUF:referentienummer>F{ref[:30]}</StUF:referentienummer><StUF:tijdstipBericht>20260101000000</StUF:tijdstipBericht>"
        f"<StUF:crossRefnummer>{ref}</StUF:crossRefnummer></StUF:stuurgegevens>"
        f"<StUF:body><StUF:code>{code}</StUF:code><StUF:plek>{plek}</StUF:plek><StUF:omschrijving>target says no</StUF:omschrijving>"
        "</StUF:body></StUF:Fo03Bericht></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


@dataclass
class Received:
    zender: str
    referentienummer: str
    zaak: str | None
    at: float
    correlation_id: str | None = None  # the X-Correlation-ID header of the request


@dataclass
class CountingTarget(LoopbackServer):
    received: list[Received] = field(default_factory=list)
    applied: dict[tuple[str, str], int] = field(default_factory=dict)
    order: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    fail_next: list[str] = field(default_factory=list)  # "http500" | "client" | "server"
    down: bool = False
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.serve(Starlette(routes=[Route("/zds/{port}", self._handle, methods=["POST", "GET"])]))
        self.url = f"http://127.0.0.1:{self.port}/zds"

    @property
    def applied_count(self) -> int:
        return len(self.applied)

    async def _handle(self, request: Request) -> Response:
        if request.method == "GET":
            return Response("ok")
        body = await request.body()
        env = etree.fromstring(body)
        msg = next(c for c in next(c for c in env if _local(c.tag) == "Body") if isinstance(c.tag, str))
        zender = _find(msg, "stuurgegevens", "zender", "applicatie") or "?"
        ref = _find(msg, "stuurgegevens", "referentienummer") or "?"
        objs = [c for c in msg if _local(c.tag) == "object"]
        zaak = _find(objs[-1], "identificatie") if objs else None
        with self.lock:
            self.received.append(Received(zender, ref, zaak, time.monotonic(), request.headers.get("x-correlation-id")))
        if self.delay:  # slow: the message has arrived, the answer (and applying it) takes a while
            import asyncio

            await asyncio.sleep(self.delay)
        with self.lock:
            if self.down:
                return Response("unavailable", status_code=503)
            if self.fail_next:
                kind = self.fail_next.pop(0)
                if kind == "http500":
                    return Response("boom", status_code=500)
                return Response(_fo03("StUF058" if kind == "server" else "StUF055", kind, ref), status_code=500,
                                media_type="text/xml")
            key = (zender, ref)
            if key not in self.applied:  # a real StUF receiver applies a (zender, referentienummer) once
                self.applied[key] = len(self.applied)
                if zaak:
                    self.order[zaak].append(ref)
        return Response(_bv03(zender, ref), media_type="text/xml")
