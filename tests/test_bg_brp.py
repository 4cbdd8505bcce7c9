"""StUF-BG person questions answered from the Haal Centraal BRP Personen API 2.x: the broker's BRP
adapter against a loopback fake (tests/support/brp_fake.py) that checks every request and response
against the official OpenAPI document and serves the GBA-V test persons. The same questions and
checks as for the embedded register (tests/support/bg_checks.py); every answer is validated
against the BG schemas by the caller."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import live
from tests.support.bg_checks import QUESTIONS, check_question_type, objects, value
from tests.support.bg_messages import bsn
from tests.support.brp_fake import BrpFake
from tests.support.soapcall import SoapAnswer, SoapCaller

ACTION = "http://www.egem.nl/StUF/sector/bg/0310/npsLv01"
BG = "http://www.egem.nl/StUF/sector/bg/0310"
STUF = "http://www.egem.nl/StUF/StUF0301"
KEY_ENV = "STUF_BROKER_TEST_BRP_KEY"


@pytest.fixture(scope="module")
def brp() -> Iterator[BrpFake]:
    fake = BrpFake(api_key="brp-test-key").start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def brp_broker(brp: BrpFake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[live.LiveBroker]:
    tmp = tmp_path_factory.mktemp("brp")
    os.environ[KEY_ENV] = "brp-test-key"
    routes = f"""\
targets:
  zaaksysteem: {{adapter: embedded}}
  brp: {{adapter: brp-personen, url: "{brp.url}", api_key_env: {KEY_ENV}, timeout: 5}}
  brp_beperkt:
    adapter: brp-personen
    url: "{brp.url}"
    api_key_env: {KEY_ENV}
    niet_geautoriseerd: [overlijden, kinderen, verblijfplaats]
routes:
  - operations: [npsLv01]
    zenders: [BEPERKT]
    deliver: [{{target: brp_beperkt, mode: sync}}]
  - operations: [npsLv01]
    deliver: [{{target: brp, mode: sync}}]
  - operations: ["*"]
    deliver: [{{target: zaaksysteem, mode: sync}}]
"""
    broker = live.start(live.make_settings(tmp, live.config_with(tmp, **{"routes.yaml": routes})))
    yield broker
    broker.stop()
    os.environ.pop(KEY_ENV, None)


@pytest.fixture(scope="module")
def bg(brp_broker: live.LiveBroker) -> Iterator[SoapCaller]:
    caller = SoapCaller(brp_broker.url, brp_broker.broker.schemas)
    yield caller
    caller.close()


def ask(bg: SoapCaller, message: str) -> SoapAnswer:
    return bg.call("bg/BeantwoordVraag", message, soap_action=ACTION)


@pytest.mark.parametrize("soort", sorted(QUESTIONS))
def test_question_types_from_the_brp(bg: SoapCaller, brp: BrpFake, soort: str) -> None:
    check_question_type(lambda message: ask(bg, message), soort)
    assert not brp.violations, brp.violations


def test_the_brp_is_asked_with_type_fields_and_the_api_key(bg: SoapCaller, brp: BrpFake) -> None:
    brp.requests.clear()
    [person] = objects(ask(bg, bsn("000009969")))
    assert value(person, "geslachtsnaam") == "Wiel"
    [query] = brp.requests
    assert query["type"] == "RaadpleegMetBurgerservicenummer" and query["burgerservicenummer"] == ["000009969"]
    assert {"partners", "kinderen", "ouders", "naam", "verblijfplaats"} <= set(query["fields"])
    assert not {"inOnderzoek", "geheimhoudingPersoonsgegevens"} & set(query["fields"])
    assert not brp.violations, brp.violations
    [geheim] = objects(ask(bg, bsn("100600220")))
    assert value(geheim, "inp.indicatieGeheim") == "7"  # the API's boolean as the configured code


def test_a_search_asks_the_bsns_then_the_persons(bg: SoapCaller, brp: BrpFake) -> None:
    from tests.support.bg_checks import postcode_huisnummer

    brp.requests.clear()
    found = objects(ask(bg, postcode_huisnummer("2511CA", 63)))
    assert len(found) >= 2
    search, raadpleeg = brp.requests
    assert search["type"] == "ZoekMetPostcodeEnHuisnummer" and search["fields"] == ["burgerservicenummer"]
    assert search["inclusiefOverledenPersonen"] is True
    assert raadpleeg["type"] == "RaadpleegMetBurgerservicenummer" and len(raadpleeg["burgerservicenummer"]) == len(found)


def test_the_brp_refusing_the_broker_is_a_server_fault(brp: BrpFake, bg: SoapCaller,
                                                       brp_broker: live.LiveBroker) -> None:
    real = brp.api_key
    brp.api_key = "another"
    try:
        answer = ask(bg, bsn("000009969"))
    finally:
        brp.api_key = real
    assert answer.berichtcode == "Fo02" and answer.text("body/plek") == "server"
    # the failed delivery stays for an operator, and can be read back to be tried again
    from sqlalchemy import select

    from broker.intake.rebuild import StoredRequests
    from broker.store.tables import Message

    b = brp_broker.broker
    with b.db.read() as session:
        last = session.execute(select(Message.id).where(Message.operation == "npsLv01")
                               .order_by(Message.id.desc())).scalars().first()
    assert last is not None
    rebuilt = StoredRequests(b.db, b.settings.broker, b.schema_model).rebuild(last)
    assert rebuilt.zds.operation.name == "npsLv01"


def test_what_the_brokers_autorisatie_does_not_cover_is_nietGeautoriseerd(bg: SoapCaller, brp: BrpFake) -> None:
    """Routes choose the source per question: this zender's questions go to a BRP target whose
    autorisatie lacks overlijden, kinderen and the verblijfplaats; those are never asked and answered
    as withheld where the scope asks for them."""
    brp.requests.clear()
    message = bsn("999970239").replace("<StUF:applicatie>KCC</StUF:applicatie>", "<StUF:applicatie>BEPERKT</StUF:applicatie>")
    [person] = objects(ask(bg, message))
    [query] = brp.requests
    assert not {"overlijden", "kinderen", "verblijfplaats"} & set(query["fields"])
    over = person.find(f"{{{BG}}}overlijdensdatum")
    assert over is not None and over.get(f"{{{STUF}}}noValue") == "nietGeautoriseerd"
    [kind] = person.findall(f"{{{BG}}}inp.heeftAlsKinderen")
    assert kind.get(f"{{{STUF}}}noValue") == "nietGeautoriseerd" and len(kind) == 0
    postcode = person.find(f"{{{BG}}}verblijfsadres/{{{BG}}}aoa.postcode")
    assert postcode is not None and postcode.get(f"{{{STUF}}}noValue") == "nietGeautoriseerd"
    assert person.find(f"{{{BG}}}inp.heeftAlsEchtgenootPartner/{{{BG}}}gerelateerde") is not None


def test_afnemerindicaties_with_a_remote_source(bg: SoapCaller, brp_broker: live.LiveBroker) -> None:
    """The BRP answers outside the broker's transaction; the indicaties are kept in one of their own."""
    from broker.services import afnemerindicaties
    from tests.support.bg_messages import LK01_ACTION, lk01

    answer = ask(bg, bsn("000009969", afnemerindicatie=True))
    assert answer.text("parameters/indicatorAfnemerIndicatie") == "true"
    placed = bg.call("bg/OntvangAsynchroon", lk01("999993653", "T", "brp-lk-t-1"), soap_action=LK01_ACTION)
    assert placed.berichtcode == "Bv03", placed.content[:1500]
    with brp_broker.broker.db.read() as session:
        found = {(i.bsn, i.bron) for i in afnemerindicaties.listed(session, applicatie="KCC")}
    assert found == {("000009969", "vraag"), ("999993653", "kennisgeving")}


def test_the_brp_unavailable_is_a_server_fault_and_no_person_data_is_logged(
        bg: SoapCaller, brp: BrpFake, capfd: pytest.CaptureFixture[str]) -> None:
    from tests.support.bg_checks import naam_en_geboortedatum

    brp.fail_next = [503]
    answer = ask(bg, bsn("000009969"))
    assert answer.berichtcode == "Fo02" and answer.foutcode == "StUF058"
    assert answer.text("body/plek") == "server" and "BRP" in (answer.text("body/omschrijving") or "")
    objects(ask(bg, naam_en_geboortedatum("Wiel", "19350430")))
    out, err = capfd.readouterr()
    for secret in ("000009969", "Wiel", "19350430", "1935-04-30", "9725AD", "Hereweg"):
        assert secret not in out + err


def test_inexact_names_are_the_apis_wildcard(bg: SoapCaller, brp: BrpFake) -> None:
    from tests.support.bg_checks import check_inexact_names

    brp.requests.clear()
    check_inexact_names(lambda message: ask(bg, message))
    assert brp.requests[0]["geslachtsnaam"] == "wie*" and brp.requests[0]["voornamen"] == "He*"
    assert not brp.violations, brp.violations
