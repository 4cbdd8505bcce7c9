"""StUF-BG afnemers on loopback and the npsLk01 a person source sends.

:class:`BgAfnemer` is the loopback StUF subscriber of tests.support.stuf_subscriber on a StUF-BG
``/bg/OntvangAsynchroon`` endpoint: it validates every kennisgeving against the official BG schemas,
checks that it is an npsLk01 with the npsLk01 SOAPAction addressed to it, and answers Bv03 (or is
down: HTTP 503). :func:`mutatie` is a person source's npsLk01 (T, W, V, C or F)."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.stuf_subscriber import StufSubscriber

BG = "http://www.egem.nl/StUF/sector/bg/0310"
STUF = "http://www.egem.nl/StUF/StUF0301"
LK01_ACTION = f"{BG}/npsLk01"
_n = itertools.count(1)


@dataclass
class BgAfnemer(StufSubscriber):
    def __post_init__(self) -> None:
        self.serve(Starlette(routes=[Route("/bg/OntvangAsynchroon", self._handle_bg, methods=["POST"])]))
        self.url = f"http://127.0.0.1:{self.port}/bg/OntvangAsynchroon"

    async def _handle_bg(self, request: Request) -> Response:
        action = (request.headers.get("soapaction") or "").strip('"')
        if action != LK01_ACTION:
            with self.lock:
                self.problems.append(f"SOAPAction {action!r}, not {LK01_ACTION}")
        return await self._handle(request)

    def persons(self) -> list[tuple[str | None, str | None, str | None]]:
        """(mutatiesoort, BSN, geslachtsnaam of the last object) of each accepted kennisgeving, in order."""
        out = []
        for r in self.accepted():
            assert r.element == "npsLk01", r.element
            out.append((r.text("//*[local-name()='mutatiesoort']"),
                        r.text("(//*[local-name()='object'])[last()]/*[local-name()='inp.bsn']"),
                        r.text("(//*[local-name()='object'])[last()]/*[local-name()='geslachtsnaam']")))
        return out


def _object(bsn: str, verwerkingssoort: str, naam: str) -> str:
    return (f'<BG:object StUF:entiteittype="NPS" StUF:verwerkingssoort="{verwerkingssoort}">'
            f"<BG:inp.bsn>{bsn}</BG:inp.bsn><BG:geslachtsnaam>{naam}</BG:geslachtsnaam></BG:object>")


def mutatie(bsn: str, mutatiesoort: str, naam: str, *, oud: str = "Oud", zender: tuple[str, str] = ("1234", "BRP"),
            referentie: str | None = None) -> str:
    """A person source's npsLk01: T and V one object, W/C/F the old and the new one."""
    if mutatiesoort in ("T", "V"):
        objects = _object(bsn, mutatiesoort, naam)
    else:
        objects = _object(bsn, "W", oud) + _object(bsn, "W", naam)
    referentie = referentie or f"brp-{os.getpid()}-{next(_n)}"
    return f"""<BG:npsLk01 xmlns:BG="{BG}" xmlns:StUF="{STUF}"><BG:stuurgegevens>
      <StUF:berichtcode>Lk01</StUF:berichtcode>
      <StUF:zender><StUF:organisatie>{zender[0]}</StUF:organisatie><StUF:applicatie>{zender[1]}</StUF:applicatie></StUF:zender>
      <StUF:ontvanger><StUF:organisatie>1234</StUF:organisatie><StUF:applicatie>STUFBROKER</StUF:applicatie></StUF:ontvanger>
      <StUF:referentienummer>{referentie}</StUF:referentienummer><StUF:tijdstipBericht>20240101120000000</StUF:tijdstipBericht>
      <StUF:entiteittype>NPS</StUF:entiteittype></BG:stuurgegevens>
      <BG:parameters><StUF:mutatiesoort>{mutatiesoort}</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername></BG:parameters>
      {objects}
    </BG:npsLk01>"""
