"""A live broker with dashboard accounts for every role, a StUF target that can fail, and an HTTP
client that signs in and sends the CSRF token like a browser would."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from broker.queue.tables import Delivery
from broker.web.dashboard import auth
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
USERS = {"viewer": "vera", "operator": "otto", "administrator": "ada"}
CREEER = m.ZDS_ACTION + "creeerZaak_ZakLk01"

#: the personal data in :func:`creeer_with_person`; none of it may reach a viewer
PERSON = {"bsn": "111222333", "geslachtsnaam": "Vermeulen", "voornamen": "Josephina Maria", "voorletters": "J.M.",
          "straat": "Kerkstraat", "huisnummer": "4711", "postcode": "8011AB", "woonplaats": "Zwolle"}


def person_initiator() -> str:
    p = PERSON
    return ('<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI" StUF:verwerkingssoort="T"><ZKN:gerelateerde>'
            '<ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="I">'
            f"<BG:inp.bsn>{p['bsn']}</BG:inp.bsn><BG:geslachtsnaam>{p['geslachtsnaam']}</BG:geslachtsnaam>"
            f"<BG:voorletters>{p['voorletters']}</BG:voorletters><BG:voornamen>{p['voornamen']}</BG:voornamen>"
            "<BG:verblijfsadres>"
            f"<BG:wpl.woonplaatsNaam>{p['woonplaats']}</BG:wpl.woonplaatsNaam>"
            f"<BG:gor.straatnaam>{p['straat']}</BG:gor.straatnaam><BG:aoa.postcode>{p['postcode']}</BG:aoa.postcode>"
            f"<BG:aoa.huisnummer>{p['huisnummer']}</BG:aoa.huisnummer></BG:verblijfsadres>"
            "</ZKN:natuurlijkPersoon></ZKN:gerelateerde></ZKN:heeftAlsInitiator>")


def creeer_with_person(identificatie: str, **sg: object) -> str:
    """A creeerZaak whose initiator has a BSN, names and an address, and whose omschrijving
    carries the BSN as free text."""
    xml = m.creeer_zaak(identificatie, omschrijving=f"Aanvraag voor burger {PERSON['bsn']}", **sg)
    assert m.initiator_nps() in xml
    return xml.replace(m.initiator_nps(), person_initiator())


class DashboardClient:
    """HTTP to /dashboard as one user: the CSRF token is taken from the last form the server rendered."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/") + "/dashboard"
        # English, like the test accounts (before signing in the browser's language decides; Dutch has its own tests)
        self.http = httpx.Client(timeout=30, follow_redirects=False, headers={"Accept-Language": "en"})
        self.token: str | None = None

    def get(self, path: str, **kw) -> httpx.Response:
        r = self.http.get(self.base + path, **kw)
        self._remember(r)
        return r

    def post(self, path: str, data: dict | None = None, *, token: str | None | bool = True,
             files: dict | None = None) -> httpx.Response:
        data = dict(data or {})
        if token is True:
            if self.token is None:
                self.get("/login")
            data["csrf_token"] = self.token
        elif isinstance(token, str):
            data["csrf_token"] = token
        r = self.http.post(self.base + path, data=data, files=files)
        self._remember(r)
        return r

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        self.get("/login")
        r = self.post("/login", {"username": username, "password": password})
        if r.status_code == 303:
            self.get("/")  # the token rotates at sign-in: pick up the new one
        return r

    def _remember(self, r: httpx.Response) -> None:
        found = re.search(r'name="csrf_token" value="([^"]+)"', r.text) if r.headers.get(
            "content-type", "").startswith("text/html") else None
        if found:
            self.token = found.group(1)

    def close(self) -> None:
        self.http.close()


@dataclass
class Site:
    lb: live.LiveBroker
    soap: SoapCaller
    target: CountingTarget | None
    clients: list[DashboardClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.lb.url

    def client(self, role: str | None = None) -> DashboardClient:
        c = DashboardClient(self.lb.url)
        self.clients.append(c)
        if role is not None:
            r = c.login(USERS[role])
            assert r.status_code == 303, r.text
        return c

    def creeer(self, identificatie: str, *, person: bool = False, **sg: object) -> None:
        body = creeer_with_person(identificatie, **sg) if person else m.creeer_zaak(identificatie, **sg)
        answer = self.soap.call("OntvangAsynchroon", body, soap_action=CREEER)
        assert answer.berichtcode == "Bv03", answer.content

    def deliveries(self, target: str | None = None) -> list[Delivery]:
        with self.lb.broker.db.read() as s:
            stmt = select(Delivery).order_by(Delivery.id)
            if target:
                stmt = stmt.where(Delivery.target == target)
            return list(s.execute(stmt).scalars())

    def wait_for(self, predicate, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError("condition not reached within the timeout")

    def stop(self) -> None:
        for c in self.clients:
            c.close()
        self.soap.close()
        self.lb.stop()


def add_users(lb: live.LiveBroker, language: str | None = "en") -> None:
    """The three accounts; they read the dashboard in English (Dutch, the default, has tests of its own)."""
    with lb.broker.db.write() as s:
        for role, name in USERS.items():
            auth.add_user(s, name, role, PASSWORD).language = language


def start_site(tmp: Path, schemas, target: CountingTarget | None = None, **policy) -> Site:
    """A live broker; with a target, creeerZaak also goes (queued) to it as "archief"."""
    routes = None
    if target is not None:
        routes = {
            "targets": {"zaaksysteem": {"adapter": "embedded"},
                        "archief": {"adapter": "stuf", "url": target.url, "timeout": 5}},
            "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zaaksysteem", "mode": "sync"},
                                                                  {"target": "archief", "mode": "queued"}]},
                       {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]}],
            "delivery": fast_delivery(**policy),
        }
    config = write_config(tmp, routes=routes)
    shutil.copytree(REPO / "config" / "mappings", config / "mappings")  # the editable mapping files
    lb = live.start(live.make_settings(tmp, config_dir=config))
    add_users(lb)
    return Site(lb, SoapCaller(lb.url, schemas), target)
