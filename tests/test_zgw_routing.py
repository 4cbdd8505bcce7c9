"""Routing modes while a municipality migrates, per operation and zaaktype (routes.yaml):

- translate: the ZGW adapter is the synchronous primary and answers the sender;
- proxy: the raw StUF message goes to the legacy ZDS zaaksysteem (here a second live broker with
  the embedded zaaksysteem) and its answer is relayed;
- replicate: the legacy zaaksysteem is the primary and answers; the ZGW APIs receive the same
  messages through the queue.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.devtools.zgw_fake import ZGWFake
from broker.queue.tables import Delivery
from tests.support import live
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.support.configs import fast_delivery, write_config
from tests.support.soapcall import SoapCaller


@pytest.fixture
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        zb.seed_shv(server)
        server.add_zaaktype("OMV", "Omgevingsvergunning", statustypen=[(1, "Aanvraag ontvangen")],
                            roltypen=[("initiator", "Aanvrager")])
        yield server
        assert server.violations == [], server.violations


@pytest.fixture
def legacy(tmp_path: Path, schemas) -> Iterator[tuple[live.LiveBroker, SoapCaller]]:
    """The legacy ZDS zaaksysteem: a broker on the embedded zaaksysteem."""
    config = write_config(tmp_path / "legacy", name="config")
    lb = live.start(live.make_settings(tmp_path / "legacy", config_dir=config))
    caller = SoapCaller(lb.url, schemas)
    yield lb, caller
    caller.close()
    lb.stop()


def _routes(fake: ZGWFake, legacy_url: str, routes: list[dict]) -> dict:
    return {"targets": {"zgw": zb.target_options(fake), "legacy": {"adapter": "stuf", "url": f"{legacy_url}/zds"}},
            "routes": routes, "delivery": fast_delivery()}


def _details(caller: SoapCaller, ident: str):
    return caller.call("BeantwoordVraag", zm.geef_zaakdetails(ident), soap_action=zm.ACTION["details"])


def test_translate_proxy_per_zaaktype(tmp_path: Path, fake: ZGWFake, legacy, schemas) -> None:
    """SHV is translated to ZGW, OMV still goes to the legacy zaaksysteem (proxy), queries too."""
    legacy_lb, legacy_caller = legacy
    routes = _routes(fake, legacy_lb.url, [
        {"operations": ["*"], "zaaktypen": ["SHV"], "deliver": [{"target": "zgw", "mode": "sync"}]},
        {"operations": ["*"], "deliver": [{"target": "legacy", "mode": "sync"}]},
    ])
    config = zb.write_zgw_config(tmp_path, routes)
    with zb.start(tmp_path, config, schemas) as zgw:
        shv = zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234SHV00001"), soap_action=zm.ACTION["creeer"])
        omv = zgw.soap.call("OntvangAsynchroon", m.creeer_zaak("1234OMV00001", zaaktype="OMV",
                                                               zaaktype_omschrijving="Omgevingsvergunning"),
                            soap_action=zm.ACTION["creeer"])
        assert shv.berichtcode == "Bv03" and omv.berichtcode == "Bv03"
        assert [z["identificatie"] for z in fake.objects("zaken")] == ["1234SHV00001"]
        assert _details(legacy_caller, "1234OMV00001").text("antwoord/object/identificatie") == "1234OMV00001"
        assert _details(legacy_caller, "1234SHV00001").text("antwoord") is None
        # a query names no zaaktype: the broker remembers each zaak's zaaktype and routes on it
        assert _details(zgw.soap, "1234SHV00001").text("antwoord/object/isVan/gerelateerde/code") == "SHV"
        omv_details = _details(zgw.soap, "1234OMV00001")
        assert omv_details.text("antwoord/object/isVan/gerelateerde/code") == "OMV"
        assert not any(r.query.get("identificatie") == "1234OMV00001" for r in fake.requests)  # the legacy answered


def test_proxy_relays_the_legacy_answer_and_its_faults(tmp_path: Path, fake: ZGWFake, legacy, schemas) -> None:
    legacy_lb, _ = legacy
    routes = _routes(fake, legacy_lb.url, [{"operations": ["*"], "deliver": [{"target": "legacy", "mode": "sync"}]}])
    config = zb.write_zgw_config(tmp_path, routes)
    with zb.start(tmp_path, config, schemas) as zgw:
        ident = zgw.soap.call("VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie(),
                              soap_action=zm.ACTION["genereer"]).text("zaak/identificatie")
        assert ident and ident.startswith("1234Z")
        assert zgw.soap.call("OntvangAsynchroon", m.creeer_zaak(ident), soap_action=zm.ACTION["creeer"]).berichtcode == "Bv03"
        again = zgw.soap.call("OntvangAsynchroon", m.creeer_zaak(ident), soap_action=zm.ACTION["creeer"])
        assert again.foutcode == "StUF058"  # the legacy zaaksysteem's own fault, relayed
        assert _details(zgw.soap, ident).text("antwoord/object/omschrijving") == "Aanvraag schuldhulp"
    assert fake.requests == []


def test_replicate_legacy_answers_and_zgw_follows_through_the_queue(tmp_path: Path, fake: ZGWFake, legacy,
                                                                     schemas) -> None:
    legacy_lb, legacy_caller = legacy
    routes = _routes(fake, legacy_lb.url, [
        {"operations": ["creeerZaak", "updateZaak", "actualiseerZaakstatus"],
         "deliver": [{"target": "legacy", "mode": "sync"}, {"target": "zgw", "mode": "queued"}]},
        {"operations": ["*"], "deliver": [{"target": "legacy", "mode": "sync"}]},
    ])
    config = zb.write_zgw_config(tmp_path, routes)
    ident = "1234REPL0001"
    fake.fail_next(1, status=503, path_contains="/zaken/api/v1/statussen")  # ZGW stumbles once; the legacy does not care
    with zb.start(tmp_path, config, schemas) as zgw:
        assert zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak(ident), soap_action=zm.ACTION["creeer"]).berichtcode == "Bv03"
        assert zgw.soap.call("OntvangAsynchroon", zm.actualiseer_zaakstatus(
            ident, zm.heeft("SHV-2", "Intake afgerond", "2")), soap_action=zm.ACTION["status"]).berichtcode == "Bv03"
        assert _details(legacy_caller, ident).text("antwoord/object/identificatie") == ident  # answered by the legacy
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with zgw.broker.db.read() as s:
                rows = list(s.execute(select(Delivery).where(Delivery.target == "zgw").order_by(Delivery.id)).scalars())
            states = [d.state for d in rows]
            if states == ["delivered", "delivered"]:
                break
            time.sleep(0.05)
        assert states == ["delivered", "delivered"], [d.last_error for d in rows]
    (zaak,) = fake.objects("zaken")
    assert zaak["identificatie"] == ident
    assert len(fake.objects("statussen")) == 2  # the initial status, then SHV-2, in the order received
    assert len(fake.calls("POST", "/zaken/api/v1/zaken")) == 1
