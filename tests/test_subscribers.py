"""Subscribed applications told of changes: StUF-ZKN kennisgevingen through the queue to loopback
subscribers that validate each against the schemas (tests.support.stuf_subscriber).

A sends creeerZaak; B (ZDS 1.1, no BSN) and C (ZDS 1.2, BSN allowed) are told, A is not echoed; B
writes a letter back (voegZaakdocumentToe): stored at the primary, listed for A, A and C told, B not
echoed; a Fo03 plek server is retried with the same referentienummer and tijdstipBericht, a Fo03 plek
client goes dead at once with the answer kept; a subscriber that is down gets everything after it
returns, in per-zaak order; each kind of outbound authentication against an endpoint demanding it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from broker.queue.tables import Delivery, DeliveryAttempt
from tests.support import applications, certs, live
from tests.support import document_messages as d
from tests.support import messages as m
from tests.support.soapcall import SoapCaller
from tests.support.stuf_subscriber import StufSubscriber
from tests.support.waiting import wait_until

ZDS = m.ZDS_ACTION
ORG = "1234"
PASSWORDS = {"AAA": "wachtwoord-a", "BBB": "wachtwoord-b", "CCC": "wachtwoord-c"}


def application(applicatie: str, subscriber: dict[str, Any] | None) -> dict[str, Any]:
    return applications.entry(ORG, applicatie, "SUBTEST", **({"subscriber": subscriber} if subscriber is not None else {}))


def basic(applicatie: str) -> dict[str, str]:
    return applications.basic(applicatie.lower(), PASSWORDS[applicatie])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, schemas) -> Iterator[dict[str, Any]]:
    mp = pytest.MonkeyPatch()
    for app, password in PASSWORDS.items():
        mp.setenv(f"SUBTEST_{app}", password)
    subs = {name: StufSubscriber(schemas, applicatie=name, organisatie=ORG).start() for name in PASSWORDS}
    apps = [application("AAA", {"url": subs["AAA"].url}),
            application("BBB", {"url": subs["BBB"].url, "zds": "1.1"}),
            application("CCC", {"url": subs["CCC"].url, "bsn": True, "max_document_bytes": 4})]
    lb = applications.start(tmp_path_factory.mktemp("subscribers"), apps)
    soap = SoapCaller(lb.url, schemas)
    yield {"lb": lb, "soap": soap, **subs}
    soap.close()
    lb.stop()
    for s in subs.values():
        s.stop()
    mp.undo()


def send(world: dict[str, Any], sender: str, port: str, xml: str, action: str) -> Any:
    answer = world["soap"].call(port, xml, soap_action=ZDS + action, headers=basic(sender))
    assert answer.berichtcode in ("Bv03", "La01"), answer.content
    return answer


def creeer(world: dict[str, Any], sender: str, zaak: str) -> None:
    send(world, sender, "OntvangAsynchroon", m.creeer_zaak(zaak, zender=(ORG, sender)), "creeerZaak_ZakLk01")


def deliveries(lb: live.LiveBroker, zaak: str) -> list[Delivery]:
    with lb.broker.db.read() as s:
        return list(s.execute(select(Delivery).where(Delivery.ordering_key == zaak).order_by(Delivery.id)).scalars())


def settled(lb: live.LiveBroker, zaak: str) -> Callable[[], bool]:
    return lambda: all(x.state in ("delivered", "dead") for x in deliveries(lb, zaak))


def told(sub: StufSubscriber, zaak: str) -> list[Any]:
    return [r for r in sub.accepted() if r.zaak == zaak]


def test_a_creeer_zaak_is_told_to_every_subscriber_but_its_sender(world: dict[str, Any]) -> None:
    lb, zaak = world["lb"], "1234SUB00001"
    creeer(world, "AAA", zaak)
    wait_until(lambda: told(world["BBB"], zaak) and told(world["CCC"], zaak))
    wait_until(settled(lb, zaak))
    [b], [c] = told(world["BBB"], zaak), told(world["CCC"], zaak)
    assert b.element == "zakLk01"  # B speaks ZDS 1.1
    assert c.element == "creeerZaak_ZakLk01"
    own = lb.broker.own
    for received, sub in ((b, world["BBB"]), (c, world["CCC"])):
        assert received.sg.zender.applicatie == own.applicatie
        assert received.sg.ontvanger == sub.systeem
        assert received.text("//*[local-name()='mutatiesoort']") == "T"
    assert b.body.xpath("//*[local-name()='inp.bsn']/@*[local-name()='noValue']") == ["nietGeautoriseerd"]
    assert c.text("//*[local-name()='inp.bsn']") == "111222333"  # C may receive BSNs
    assert not told(world["AAA"], zaak)  # never echoed
    assert [x.target for x in deliveries(lb, zaak)] == ["zs", "subscriber:1234/BBB", "subscriber:1234/CCC"]
    assert not world["BBB"].problems and not world["CCC"].problems


def test_a_letter_written_back_is_stored_listed_and_told_to_the_others(world: dict[str, Any]) -> None:
    lb, zaak, doc = world["lb"], "1234SUB00002", "1234SUBDOC0002"
    creeer(world, "AAA", zaak)
    wait_until(settled(lb, zaak))
    send(world, "BBB", "OntvangAsynchroon", d.voeg_zaakdocument_toe(doc, zaak, b"Geachte heer, ...", zender=(ORG, "BBB")),
         "voegZaakdocumentToe_EdcLk01")
    lijst = send(world, "AAA", "BeantwoordVraag", d.geef_lijst_zaakdocumenten(zaak, zender=(ORG, "AAA")),
                 "geefLijstZaakdocumenten_ZakLv01")
    assert doc.encode() in lijst.content
    wait_until(settled(lb, zaak))
    letters = {name: [r for r in world[name].accepted() if r.element.lower().endswith("edclk01")
                      and r.text("//*[local-name()='object']/*[local-name()='identificatie']") == doc]
               for name in PASSWORDS}
    assert len(letters["AAA"]) == 1 and letters["AAA"][0].element == "voegZaakdocumentToe_EdcLk01"
    assert letters["BBB"] == []  # the sender is not echoed
    # C may receive 4 bytes of content: the document is told without it (ZDS 1.2: maakZaakdocument)
    assert [r.element for r in letters["CCC"]] == ["maakZaakdocument_EdcLk01"]
    assert not letters["CCC"][0].body.xpath("//*[local-name()='inhoud']")


def test_a_server_fault_is_retried_with_the_same_referentienummer_and_tijdstip(world: dict[str, Any]) -> None:
    lb, zaak = world["lb"], "1234SUB00003"
    world["BBB"].answers += ["server", "server"]
    creeer(world, "CCC", zaak)
    wait_until(settled(lb, zaak))
    got = [r for r in world["BBB"].received if r.zaak == zaak]
    assert [r.answered for r in got] == ["server", "server", "Bv03"]
    assert len({(r.sg.referentienummer, r.sg.tijdstipBericht) for r in got}) == 1
    [delivery] = [x for x in deliveries(lb, zaak) if x.target == "subscriber:1234/BBB"]
    assert (delivery.state, delivery.attempts) == ("delivered", 3)


def test_a_client_fault_goes_dead_at_once_with_the_answer_kept(world: dict[str, Any]) -> None:
    lb, zaak = world["lb"], "1234SUB00004"
    world["BBB"].answers.append("client")
    creeer(world, "AAA", zaak)
    wait_until(settled(lb, zaak))
    [delivery] = [x for x in deliveries(lb, zaak) if x.target == "subscriber:1234/BBB"]
    assert (delivery.state, delivery.attempts) == ("dead", 1)
    assert "Fo03Bericht" in (delivery.target_answer or "") and "StUF055" in (delivery.last_error or "")
    with lb.broker.db.read() as s:
        [attempt] = s.execute(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)).scalars()
    assert attempt.outcome == "dead" and "Fo03Bericht" in (attempt.target_answer or "")


def test_a_subscriber_that_was_down_gets_everything_in_per_zaak_order(world: dict[str, Any]) -> None:
    b = world["BBB"]
    zaken = ("1234SUB00005", "1234SUB00006")
    b.down = True
    for zaak in zaken:
        creeer(world, "AAA", zaak)
    for i in range(3):
        for zaak in zaken:
            send(world, "AAA", "OntvangAsynchroon",
                 m.update_zaak(zaak, f"versie {i}" if i else "Aanvraag schuldhulp", f"versie {i + 1}",
                               zender=(ORG, "AAA")), "updateZaak_ZakLk01")
    wait_until(lambda: sum(1 for r in b.received if r.zaak in zaken) >= 4)  # tried while down
    assert not [r for r in b.accepted() if r.zaak in zaken]
    b.down = False
    for zaak in zaken:
        wait_until(lambda zaak=zaak: len(told(b, zaak)) == 4)
        got = told(b, zaak)
        assert [r.text("//*[local-name()='mutatiesoort']") for r in got] == ["T", "W", "W", "W"]
        assert [r.text("(//*[local-name()='object'])[2]/*[local-name()='omschrijving']") for r in got[1:]] == [
            "versie 1", "versie 2", "versie 3"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    ca = certs.issue("Test CA")
    ca_file, _ = ca.write(folder, "ca")
    server_cert, server_key = certs.issue("127.0.0.1", ca, server=True).write(folder, "server")
    client_cert, client_key = certs.issue("stuf-broker", ca).write(folder, "client")
    return {"ca": ca_file, "server_cert": server_cert, "server_key": server_key,
            "client_cert": client_cert, "client_key": client_key}


def test_each_kind_of_authentication_is_sent_as_the_subscriber_demands(
        tmp_path: Path, schemas, pki: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    for app, password in PASSWORDS.items():
        monkeypatch.setenv(f"SUBTEST_{app}", password)
    monkeypatch.setenv("SUBTEST_OUT_BASIC", "uit-basic")
    monkeypatch.setenv("SUBTEST_OUT_WSS", "uit-wss")
    demanding = {
        "BBB": StufSubscriber(schemas, applicatie="BBB", basic=("broker", "uit-basic")),
        "CCC": StufSubscriber(schemas, applicatie="CCC", usernametoken=("broker", "uit-wss")),
        "DDD": StufSubscriber(schemas, applicatie="DDD",
                              tls=(pki["server_cert"], pki["server_key"], pki["ca"])),
    }
    auth = {"BBB": {"basic": {"username": "broker", "password_env": "SUBTEST_OUT_BASIC"}},
            "CCC": {"usernametoken": {"username": "broker", "password_env": "SUBTEST_OUT_WSS"}},
            "DDD": {"certificate": {"cert_file": str(pki["client_cert"]), "key_file": str(pki["client_key"])}}}
    PASSWORDS_DDD = {**PASSWORDS, "DDD": "wachtwoord-d"}
    monkeypatch.setenv("SUBTEST_DDD", PASSWORDS_DDD["DDD"])
    for s in demanding.values():
        s.start()
    apps = [application("AAA", None)] + [
        application(name, {"url": s.url, "authentication": auth[name],
                           **({"ca_file": str(pki["ca"])} if s.tls else {})}) for name, s in demanding.items()]
    lb = applications.start(tmp_path, apps)
    soap = SoapCaller(lb.url, schemas)
    try:
        zaak = "1234SUBAUTH01"
        soap.call("OntvangAsynchroon", m.creeer_zaak(zaak, zender=(ORG, "AAA")), soap_action=ZDS + "creeerZaak_ZakLk01",
                  headers=basic("AAA"))
        wait_until(settled(lb, zaak))
        for name, s in demanding.items():
            assert [r.answered for r in s.received] == ["Bv03"], name
        assert all(x.state == "delivered" for x in deliveries(lb, zaak))
    finally:
        soap.close()
        lb.stop()
        for s in demanding.values():
            s.stop()
