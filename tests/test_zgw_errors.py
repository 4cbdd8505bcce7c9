"""API errors of the ZGW APIs become the right StUF fault, and a retry never repeats a completed call.

400 ValidatieFout: StUF058 at the client's side with the API's message (without the values it quotes)
in ``details``; 404: StUF064; 5xx, timeouts and refused connections: StUF058 at the server's side,
retried when the delivery is queued — resuming after the last completed call.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.devtools.zgw_fake import ZGWFake
from broker.queue.tables import Delivery
from tests.support import document_messages as dm
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.support.configs import fast_delivery


@pytest.fixture
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        zb.seed_shv(server)
        yield server
        assert server.violations == [], server.violations


def _start(tmp: Path, fake: ZGWFake, schemas, routes: dict | None = None, **options: object):
    config = zb.write_zgw_config(tmp, routes or zb.translate_routes(fake, **options))
    return zb.start(tmp, config, schemas)


def test_a_validatiefout_is_a_client_fault_with_the_api_message_and_no_values(tmp_path, fake, schemas) -> None:
    with _start(tmp_path, fake, schemas) as zgw:
        zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234FOUT0001"), soap_action=zm.ACTION["creeer"])
        message = dm.voeg_zaakdocument_toe("DOC-TAAL", "1234FOUT0001").replace(
            "<ZKN:taal>nld</ZKN:taal>", "<ZKN:taal>Nederlands-Fries</ZKN:taal>")
        answer = zgw.soap.call("OntvangAsynchroon", message, soap_action=dm.ACTION["voegZaakdocumentToe"])
    assert answer.foutcode == "StUF058" and answer.text("body/plek") == "client"
    details = answer.text("body/details") or ""
    assert "HTTP 400" in details and "taal (maxLength)" in details
    assert "Nederlands-Fries" not in details  # the API's message without the values it quotes
    fake.violations.clear()  # the refused requests were, rightly, not valid


def test_not_found_is_stuf064(tmp_path, fake, schemas) -> None:
    with _start(tmp_path, fake, schemas) as zgw:
        zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234WEG00001"), soap_action=zm.ACTION["creeer"])
        fake.fail_next(2, status=404, path_contains="/zaken/api/v1/zaken?identificatie")
        answer = zgw.soap.call("OntvangAsynchroon", zm.update_zaak(
            "1234WEG00001", "<ZKN:toelichting>a</ZKN:toelichting>", "<ZKN:toelichting>b</ZKN:toelichting>"),
            soap_action=zm.ACTION["update"])
        unknown = zgw.soap.call("OntvangAsynchroon", zm.update_zaak(
            "1234ONBEKEND", "<ZKN:toelichting>a</ZKN:toelichting>", "<ZKN:toelichting>b</ZKN:toelichting>"),
            soap_action=zm.ACTION["update"])
    assert answer.foutcode == "StUF064" and "HTTP 404" in (answer.text("body/details") or "")
    assert unknown.foutcode == "StUF064" and "niet gevonden" in (unknown.text("body/omschrijving") or "")


def test_server_errors_are_server_faults_and_a_resend_resumes(tmp_path, fake, schemas) -> None:
    with _start(tmp_path, fake, schemas) as zgw:
        fake.fail_next(1, status=503, path_contains="/zaken/api/v1/rollen", method="POST")  # one call per request
        message = zm.creeer_zaak("1234HERH0001", referentienummer="HERHAAL-1")
        first = zgw.soap.call("OntvangAsynchroon", message, soap_action=zm.ACTION["creeer"])
        assert first.foutcode == "StUF058" and first.text("body/plek") == "server"
        assert "HTTP 503" in (first.text("body/details") or "")
        again = zgw.soap.call("OntvangAsynchroon", message, soap_action=zm.ACTION["creeer"])  # StUF 03.01 §4.4.3
        assert again.berichtcode == "Bv03", again.text("body/details")
    assert len(fake.objects("zaken")) == 1 and len(fake.calls("POST", "/zaken/api/v1/zaken")) == 1
    assert len(fake.objects("rollen")) == len(zm.ROLLEN) and len(fake.objects("statussen")) == 1


def test_a_refused_connection_is_a_server_fault(tmp_path, fake, schemas) -> None:
    with _start(tmp_path, fake, schemas) as zgw:
        fake.down("refuse")
        try:
            answer = zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234DICHT001"), soap_action=zm.ACTION["creeer"])
        finally:
            fake.up()
    assert answer.foutcode == "StUF058" and answer.text("body/plek") == "server"
    assert "ConnectError" in (answer.text("body/details") or "")


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/catalogi/api/v1"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def test_a_timeout_is_a_server_fault(tmp_path, fake, schemas, black_hole: str) -> None:
    with _start(tmp_path, fake, schemas, catalogi_url=black_hole, timeout=0.3) as zgw:
        started = time.monotonic()
        answer = zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234TRAAG001"), soap_action=zm.ACTION["creeer"])
        assert time.monotonic() - started < 5
    assert answer.foutcode == "StUF058" and answer.text("body/plek") == "server"
    assert "no answer within 0.3s" in (answer.text("body/details") or "")
    assert fake.objects("zaken") == []


def _settled(zgw: zb.ZgwBroker, count: int, seconds: float = 30) -> list[Delivery]:
    """The deliveries to the zgw target once all ``count`` of them are delivered."""
    deadline = time.monotonic() + seconds
    while True:
        with zgw.broker.db.read() as s:
            deliveries = list(s.execute(select(Delivery).where(Delivery.target == "zgw")
                                        .order_by(Delivery.id)).scalars())
        if len(deliveries) == count and all(d.state == "delivered" for d in deliveries):
            return deliveries
        if time.monotonic() > deadline:
            raise AssertionError([(d.state, d.last_error) for d in deliveries])
        time.sleep(0.05)


def test_a_queued_creeer_zaak_resumes_after_a_failure_without_doubles(tmp_path, fake, schemas) -> None:
    routes = {"targets": {"embedded": {"adapter": "embedded"}, "zgw": zb.target_options(fake)},
              "routes": [{"operations": ["creeerZaak", "actualiseerZaakstatus"],
                          "deliver": [{"target": "zgw", "mode": "queued"}]},
                         {"operations": ["*"], "deliver": [{"target": "zgw", "mode": "sync"}]}],
              "delivery": fast_delivery()}
    fake.fail_next(1, status=500, path_contains="/zaken/api/v1/rollen", method="POST")  # the second rol
    fake.fail_next(1, status=502, path_contains="/zaken/api/v1/statussen", method="POST")
    with _start(tmp_path, fake, schemas, routes=routes) as zgw:
        fake.clear_log()
        answer = zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234WACHT001"), soap_action=zm.ACTION["creeer"])
        assert answer.berichtcode == "Bv03"
        (delivery,) = _settled(zgw, 1)
        assert delivery.attempts == 3
        assert {"zaak", "rol:0", "rol:1", "rol:2", "rol:3", "status:0"} <= set(delivery.steps)
    assert len(fake.objects("zaken")) == 1 and len(fake.calls("POST", "/zaken/api/v1/zaken")) == 1
    rollen = fake.objects("rollen")
    assert len(rollen) == len(zm.ROLLEN) == len({r["betrokkeneType"] for r in rollen})
    assert len(fake.objects("statussen")) == 1


def test_lost_answers_never_make_a_second_rol_status_or_zaakobject(tmp_path, fake, schemas) -> None:
    """The API carried a POST out but its answer never arrived (timeout): the retry looks for what the
    first attempt sent before it sends anything again."""
    routes = {"targets": {"embedded": {"adapter": "embedded"}, "zgw": zb.target_options(fake, timeout=0.5)},
              "routes": [{"operations": ["creeerZaak", "voegZaakdocumentToe"],
                          "deliver": [{"target": "zgw", "mode": "queued"}]},
                         {"operations": ["*"], "deliver": [{"target": "zgw", "mode": "sync"}]}],
              "delivery": fast_delivery()}
    fake.lose_next(1, hold_seconds=1.5, path_contains="/zaken/api/v1/zaken", method="POST")
    fake.lose_next(1, hold_seconds=1.5, path_contains="/zaken/api/v1/rollen", method="POST")
    fake.lose_next(1, hold_seconds=1.5, path_contains="/zaken/api/v1/zaakobjecten", method="POST")
    fake.lose_next(1, hold_seconds=1.5, path_contains="/zaken/api/v1/statussen", method="POST")
    with _start(tmp_path, fake, schemas, routes=routes) as zgw:
        fake.clear_log()
        answer = zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234KWIJT001"),
                               soap_action=zm.ACTION["creeer"])
        assert answer.berichtcode == "Bv03"
        (delivery,) = _settled(zgw, 1)
        assert delivery.attempts == 5  # four lost answers, then done
        assert zm.BSN not in json.dumps(delivery.steps)  # the recorded intents hold no personal data
        fake.lose_next(1, hold_seconds=1.5, path_contains="/documenten/api/v1/enkelvoudiginformatieobjecten",
                       method="POST")
        fake.lose_next(1, hold_seconds=1.5, path_contains="/zaken/api/v1/zaakinformatieobjecten", method="POST")
        answer = zgw.soap.call("OntvangAsynchroon", dm.voeg_zaakdocument_toe("1234DOC00001", "1234KWIJT001"),
                               soap_action=dm.ACTION["voegZaakdocumentToe"])
        assert answer.berichtcode == "Bv03"
        _settled(zgw, 2)
    assert len(fake.objects("enkelvoudiginformatieobjecten")) == 1
    assert len(fake.objects("zaakinformatieobjecten")) == 1
    assert len(fake.objects("zaken")) == 1
    assert len(fake.objects("rollen")) == len(zm.ROLLEN) == len(fake.calls("POST", "/zaken/api/v1/rollen"))
    assert len(fake.objects("zaakobjecten")) == 1 == len(fake.calls("POST", "/zaken/api/v1/zaakobjecten"))
    assert len(fake.objects("statussen")) == 1 == len(fake.calls("POST", "/zaken/api/v1/statussen"))
    assert len(fake.calls("POST", "/zaken/api/v1/zaken")) == 1
