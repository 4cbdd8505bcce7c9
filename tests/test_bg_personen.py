"""StUF-BG 03.10 person questions (npsLv01 -> npsLa01) on /bg/BeantwoordVraag, answered by the embedded
person register seeded with the GBA-V test persons. Every answer passes through the validating
caller (tests/support/soapcall.py): it conforms to the official BG schemas, faults included."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import zeep
from lxml import etree
from zeep import Plugin
from zeep.transports import Transport

from tests.support import live
from tests.support.bg_checks import QUESTIONS, by_bsn, check_question_type, date_of, objects, postcode_huisnummer, value
from tests.support.bg_messages import LK01_ACTION, SCOPE_VOLLEDIG, bsn, lk01, npslv01
from tests.support.soapcall import SoapAnswer, SoapCaller

BG = "http://www.egem.nl/StUF/sector/bg/0310"
STUF = "http://www.egem.nl/StUF/StUF0301"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ACTION = "http://www.egem.nl/StUF/sector/bg/0310/npsLv01"
PORT = "bg/BeantwoordVraag"


@pytest.fixture(scope="module")
def bg_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[live.LiveBroker]:
    broker = live.start(live.make_settings(tmp_path_factory.mktemp("bg")))
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def bg(bg_broker: live.LiveBroker) -> Iterator[SoapCaller]:
    caller = SoapCaller(bg_broker.url, bg_broker.broker.schemas)
    yield caller
    caller.close()


def ask(bg: SoapCaller, message: str) -> SoapAnswer:
    return bg.call(PORT, message, soap_action=ACTION)


def test_by_bsn_with_partner_children_and_parents(bg: SoapCaller) -> None:
    [person] = objects(ask(bg, bsn("000009969")))
    assert value(person, "inp.bsn") == "000009969"
    assert value(person, "geslachtsnaam") == "Wiel"
    assert value(person, "voorvoegselGeslachtsnaam") == "van der"
    assert value(person, "verblijfsadres/aoa.postcode") == "9725AD"
    assert value(person, "verblijfsadres/aoa.huisletter") == "A"
    [partner] = person.findall(f"{{{BG}}}inp.heeftAlsEchtgenootPartner")
    assert value(partner, "gerelateerde/inp.bsn") == "999994268"
    assert value(partner, "soortVerbintenis") == "H"
    [kind] = person.findall(f"{{{BG}}}inp.heeftAlsKinderen")
    assert value(kind, "gerelateerde/voornamen") == "Truus"
    ouders = person.findall(f"{{{BG}}}inp.heeftAlsOuders")
    assert [value(o, "ouderAanduiding") for o in ouders] == ["Ouder1", "Ouder2"]
    # asked for, and the person has none: nil with geenWaarde; no source holds a telephone number
    over = person.find(f"{{{BG}}}overlijdensdatum")
    assert over is not None and over.get(f"{{{XSI}}}nil") == "true" and over.get(f"{{{STUF}}}noValue") == "geenWaarde"
    tel = person.find(f"{{{BG}}}sub.telefoonnummer")
    assert tel is not None and tel.get(f"{{{STUF}}}noValue") == "nietOndersteund"


def test_by_bsn_without_a_match_is_an_answer_without_objects(bg: SoapCaller) -> None:
    answer = ask(bg, bsn("999999254"))
    assert answer.status == 200 and objects(answer) == []
    assert answer.payload.find(f"{{{BG}}}antwoord") is None
    assert answer.text("parameters/indicatorVervolgvraag") == "false"


def test_a_bsn_failing_the_11_proof_is_refused(bg: SoapCaller) -> None:
    answer = ask(bg, bsn("123456789"))
    assert answer.berichtcode == "Fo02" and answer.foutcode == "StUF055"
    assert "elfproef" in (answer.text("body/omschrijving") or "")


def test_the_wsdl_is_the_official_one_with_the_brokers_address(bg_broker: live.LiveBroker) -> None:
    import httpx

    text = httpx.get(f"{bg_broker.url}/bg/BeantwoordVraag?wsdl").text
    assert f'location="{bg_broker.url}/bg/BeantwoordVraag"' in text
    assert 'operation name="npsLv01"' in text
    schema = re.search(r'location="([^"]+stuf0301_types\.wsdl)"', text)
    assert schema is not None and httpx.get(schema.group(1)).status_code == 200
    async_wsdl = httpx.get(f"{bg_broker.url}/bg/OntvangAsynchroon?wsdl").text
    assert 'operation name="npsLk01"' in async_wsdl


class _GmlListRestriction(Transport):
    """zeep cannot compile a restriction of a list type (GML 3.1.1 ``CountExtentType`` and its
    siblings in valueObjects.xsd, imported by the StUF-BG schemas): the client rewrites those types
    as plain lists when it loads that file, as StUF-BG clients built on zeep do. The broker serves
    the official file unchanged."""

    def load(self, url: str) -> bytes:
        content = super().load(url)
        if url.endswith("/valueObjects.xsd"):
            content = re.sub(rb'<restriction base="gml:(\w+)List">\s*<length value="2"/>\s*</restriction>',
                             lambda m: b'<list itemType="gml:' + m.group(1) + b'"/>', content)
        return content


class _Received(Plugin):
    def __init__(self) -> None:
        self.envelopes: list[etree._Element] = []

    def ingress(self, envelope, http_headers, operation):  # type: ignore[no-untyped-def]
        self.envelopes.append(envelope)
        return envelope, http_headers


def test_zeep_asks_npslv01_on_the_served_wsdl(bg_broker: live.LiveBroker) -> None:
    received = _Received()
    client = zeep.Client(f"{bg_broker.url}/bg/BeantwoordVraag?wsdl", transport=_GmlListRestriction(timeout=30),
                         plugins=[received])
    assert client.service._binding_options["address"] == f"{bg_broker.url}/bg/BeantwoordVraag"
    answer = client.service.npsLv01(
        stuurgegevens={"berichtcode": "Lv01", "zender": {"organisatie": "1234", "applicatie": "KCC"},
                       "ontvanger": {"organisatie": "1234", "applicatie": "STUFBROKER"},
                       "referentienummer": "zeep-nps-1", "tijdstipBericht": "20240101120000000",
                       "entiteittype": "NPS"},
        parameters={"sortering": 0, "indicatorVervolgvraag": False},
        gelijk={"entiteittype": "NPS", "_value_1": [{"inp.bsn": "000009830"}]},
        scope={"object": {"entiteittype": "NPS", "_value_1": [{"inp.bsn": zeep.xsd.Nil}],
                          "geslachtsnaam": zeep.xsd.Nil, "voorvoegselGeslachtsnaam": zeep.xsd.Nil,
                          "adellijkeTitelPredikaat": zeep.xsd.Nil, "geboortedatum": zeep.xsd.Nil}},
    )
    [person] = answer["antwoord"]["object"]
    assert person["geslachtsnaam"]["_value_1"] == "Ven-Van Roedelrode tot Broekzucht"
    assert person["adellijkeTitelPredikaat"]["_value_1"] == "Graaf"
    body = received.envelopes[-1].find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
    assert not bg_broker.broker.schemas.issues(body)  # the npsLa01 as zeep received it is XSD-valid


def test_no_person_data_in_the_log_lines(bg: SoapCaller, capfd: pytest.CaptureFixture[str]) -> None:
    ask(bg, bsn("000009969"))
    ask(bg, bsn("123456789"))
    ask(bg, npslv01("<BG:geslachtsnaam>Wiel</BG:geslachtsnaam><BG:geboortedatum>19350430</BG:geboortedatum>",
                    SCOPE_VOLLEDIG))
    out, err = capfd.readouterr()
    for secret in ("000009969", "123456789", "Wiel", "9725AD", "Hereweg", "19350430"):
        assert secret not in out + err


# -- per question type: incomplete dates, inOnderzoek, geheimhouding, overlijden, relations, no match --

@pytest.mark.parametrize("soort", sorted(QUESTIONS))
def test_question_types(bg: SoapCaller, soort: str) -> None:
    check_question_type(lambda message: ask(bg, message), soort)


def test_incomplete_dates_in_detail(bg: SoapCaller) -> None:
    found = by_bsn(ask(bg, bsn("999970586")))
    assert date_of(found["999970586"], "geboortedatum") == ("19700000", "M")
    found = by_bsn(ask(bg, bsn("999970598")))
    assert date_of(found["999970598"], "geboortedatum") == ("19780600", "D")


def test_relations_only_when_the_scope_asks(bg: SoapCaller) -> None:
    scope = ('<BG:scope><BG:object StUF:entiteittype="NPS"><BG:inp.bsn xsi:nil="true"/>'
             '<BG:geslachtsnaam xsi:nil="true"/></BG:object></BG:scope>')
    [person] = objects(ask(bg, bsn("000009969", scope)))
    assert [ns_local(c) for c in person] == ["inp.bsn", "geslachtsnaam"]
    [person] = objects(ask(bg, bsn("000009969", '<BG:scope><BG:object StUF:entiteittype="NPS" StUF:scope="alles"/></BG:scope>')))
    assert person.find(f"{{{BG}}}inp.heeftAlsOuders") is not None
    [person] = objects(ask(bg, bsn("000009969", "")))  # no scope: the person with its address
    assert person.find(f"{{{BG}}}verblijfsadres") is not None
    assert person.find(f"{{{BG}}}inp.heeftAlsOuders") is None


def ns_local(el: etree._Element) -> str:
    return etree.QName(el).localname


def test_maximum_aantal_and_vervolgvraag(bg: SoapCaller) -> None:
    scope = '<BG:scope><BG:object StUF:entiteittype="NPS"><BG:inp.bsn xsi:nil="true"/></BG:object></BG:scope>'
    first = ask(bg, postcode_huisnummer("2272BV", 54, scope=scope, sortering=8, maximum=100, aantal=True))
    assert first.text("parameters/indicatorVervolgvraag") == "true"
    assert first.text("parameters/aantalVoorkomens") == "253"
    seen = list(by_bsn(first))
    assert len(seen) == 100 and seen == sorted(seen)
    while True:
        start = (f'<BG:start><BG:object StUF:entiteittype="NPS"><BG:inp.bsn>{seen[-1]}</BG:inp.bsn>'
                 "</BG:object></BG:start>")
        more = ask(bg, postcode_huisnummer("2272BV", 54, scope=scope, sortering=8, maximum=100, vervolg=True,
                                           start=start))
        seen += list(by_bsn(more))
        if more.text("parameters/indicatorVervolgvraag") == "false":
            break
    assert len(seen) == len(set(seen)) == 253


@pytest.mark.parametrize("message, omschrijving", [
    (npslv01("<BG:geslachtsnaam>Wiel</BG:geslachtsnaam>"), "selectie"),
    (npslv01("<BG:geslachtsnaam>Wiel</BG:geslachtsnaam>"
             '<BG:geboortedatum StUF:indOnvolledigeDatum="D">19350400</BG:geboortedatum>'), "onvolledige"),
    (npslv01("<BG:inp.bsn>000009969</BG:inp.bsn>",
             extra='<BG:vanaf StUF:entiteittype="NPS"><BG:geslachtsnaam>A</BG:geslachtsnaam></BG:vanaf>'
                   '<BG:totEnMet StUF:entiteittype="NPS"><BG:geslachtsnaam>B</BG:geslachtsnaam></BG:totEnMet>'),
     "vanaf"),
])
def test_a_question_the_source_cannot_answer_is_a_clear_fault(bg: SoapCaller, message: str, omschrijving: str) -> None:
    answer = ask(bg, message)
    assert answer.berichtcode == "Fo02" and answer.foutcode == "StUF058"
    assert omschrijving in (answer.text("body/omschrijving") or "")


def test_a_repeated_question_gets_the_stored_answer(bg: SoapCaller) -> None:
    message = bsn("000009969")
    first, again = ask(bg, message), ask(bg, message)
    assert first.content == again.content
    changed = ask(bg, message.replace("000009969", "999994268"))
    assert changed.foutcode == "StUF016"


def indicaties(bg_broker: live.LiveBroker, bsn_: str) -> list[str]:
    from broker.services import afnemerindicaties

    with bg_broker.broker.db.read() as session:
        return [f"{i.afnemer.applicatie}:{i.bron}" for i in afnemerindicaties.listed(session, bsn=bsn_)]


def test_an_afnemer_places_and_removes_its_indicatie_with_a_kennisgeving(bg: SoapCaller,
                                                                         bg_broker: live.LiveBroker) -> None:
    answer = bg.call("bg/OntvangAsynchroon", lk01("999993653", "T", "lk-t-1"), soap_action=LK01_ACTION)
    assert answer.berichtcode == "Bv03", answer.content[:1500]
    assert indicaties(bg_broker, "999993653") == ["KCC:kennisgeving"]
    again = bg.call("bg/OntvangAsynchroon", lk01("999993653", "T", "lk-t-2"), soap_action=LK01_ACTION)
    assert again.berichtcode == "Bv03" and indicaties(bg_broker, "999993653") == ["KCC:kennisgeving"]
    gone = bg.call("bg/OntvangAsynchroon", lk01("999993653", "V", "lk-v-1"), soap_action=LK01_ACTION)
    assert gone.berichtcode == "Bv03" and indicaties(bg_broker, "999993653") == []


def test_an_afnemers_w_kennisgeving_is_refused(bg: SoapCaller) -> None:
    # only a registered person source's npsLk01 are distributed (tests/test_bg_kennisgevingen.py)
    answer = bg.call("bg/OntvangAsynchroon", lk01("999993653", "W", "lk-w-1").replace(
        "</BG:object>", '</BG:object><BG:object StUF:entiteittype="NPS" StUF:verwerkingssoort="W">'
        "<BG:inp.bsn>999993653</BG:inp.bsn><BG:geslachtsnaam>Wiel</BG:geslachtsnaam></BG:object>"),
        soap_action=LK01_ACTION)
    assert answer.berichtcode == "Fo03" and answer.foutcode == "StUF025", answer.content[:1500]


def test_a_question_with_indicatorAfnemerIndicatie_places_the_indicaties(bg: SoapCaller,
                                                                          bg_broker: live.LiveBroker) -> None:
    answer = ask(bg, bsn("999990408", afnemerindicatie=True))
    assert len(objects(answer)) == 1
    assert answer.text("parameters/indicatorAfnemerIndicatie") == "true"
    assert indicaties(bg_broker, "999990408") == ["KCC:vraag"]


def test_a_zds_message_on_the_bg_endpoint_and_the_other_way_round(bg: SoapCaller) -> None:
    answer = bg.call("BeantwoordVraag", bsn("000009969"), soap_action=ACTION)
    assert answer.foutcode == "StUF004"


def test_metrics_and_message_log_count_person_questions(bg_broker: live.LiveBroker, bg: SoapCaller) -> None:
    import httpx
    from sqlalchemy import select

    from broker.store.tables import Message

    ask(bg, bsn("000009969"))
    text = httpx.get(f"{bg_broker.url}/metrics").text
    assert 'operation="npsLv01"' in text
    with bg_broker.broker.db.read() as session:
        ports = set(session.execute(select(Message.port).where(Message.operation == "npsLv01")).scalars())
    assert ports == {"bg/BeantwoordVraag"}


def test_an_upstream_stuf_bg_service_gets_the_question_as_it_is(bg_broker: live.LiveBroker,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    """A municipality that keeps its StUF-BG source: routes.yaml forwards npsLv01 there (here: another
    broker answering from its register) and the sender gets that source's npsLa01."""
    tmp = tmp_path_factory.mktemp("forward")
    routes = f"""\
targets:
  zaaksysteem: {{adapter: embedded}}
  gba: {{adapter: stuf, url: "{bg_broker.url}/bg", timeout: 5}}
routes:
  - operations: [npsLv01]
    deliver: [{{target: gba, mode: sync}}]
  - operations: ["*"]
    deliver: [{{target: zaaksysteem, mode: sync}}]
"""
    front = live.start(live.make_settings(tmp, live.config_with(tmp, **{"routes.yaml": routes})))
    try:
        caller = SoapCaller(front.url, front.broker.schemas)
        [person] = objects(caller.call(PORT, bsn("000009969"), soap_action=ACTION))
        assert value(person, "geslachtsnaam") == "Wiel"
        caller.close()
    finally:
        front.stop()


def test_what_the_brp_records_as_unknown_is_vastgesteldOnbekend(bg: SoapCaller) -> None:
    [person] = objects(ask(bg, bsn("999993288")))
    naam = person.find(f"{{{BG}}}geslachtsnaam")
    assert naam is not None and naam.get(f"{{{STUF}}}noValue") == "vastgesteldOnbekend"
    assert naam.get(f"{{{XSI}}}nil") == "true"
    [person] = objects(ask(bg, bsn("999970586")))
    ouders = [o.find(f"{{{BG}}}gerelateerde/{{{BG}}}geslachtsnaam") for o in person.findall(f"{{{BG}}}inp.heeftAlsOuders")]
    assert [o.get(f"{{{STUF}}}noValue") for o in ouders if o is not None] == ["vastgesteldOnbekend"] * 2


def test_operators_see_what_a_question_asks_not_whom(bg_broker: live.LiveBroker, bg: SoapCaller) -> None:
    import httpx
    from sqlalchemy import select

    from broker.store.tables import Message, MessagePayload
    from broker.web.dashboard.messagedetail import case_model

    ask(bg, bsn("000009969"))
    with bg_broker.broker.db.read() as session:
        message = session.execute(select(Message).where(Message.operation == "npsLv01")
                                  .order_by(Message.id.desc())).scalars().first()
        assert message is not None
        model = case_model(session.get(MessagePayload, message.id), message)
    assert model["vraag"] == "bsn" and model["relaties"] == ["kinderen", "ouders", "partners"]
    assert "000009969" not in str(model)
    landing = httpx.get(f"{bg_broker.url}/").text
    assert "/bg/BeantwoordVraag?wsdl" in landing


def test_administrators_list_place_and_remove_indicaties_audited(bg_broker: live.LiveBroker) -> None:
    import json

    from click.testing import CliRunner
    from sqlalchemy import select

    from broker.cli.main import main
    from broker.web.dashboard.tables import AuditEntry

    settings = bg_broker.broker.settings
    env = {"STUF_BROKER_DATABASE_URL": settings.database_url, "STUF_BROKER_DATA_DIR": str(settings.data_dir)}
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(main, ["afnemers", *args, "--config", str(settings.config_dir)], env=env,
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output.strip()

    assert cli("place", "999991188", "SOCIAAL", "--organisatie", "1234") == "placed"
    assert cli("place", "999991188", "SOCIAAL", "--organisatie", "1234") == "unchanged"
    [row] = json.loads(cli("list", "--bsn", "999991188"))
    assert (row["applicatie"], row["organisatie"], row["bron"]) == ("SOCIAAL", "1234", "beheerder")
    assert cli("remove", "999991188", "SOCIAAL", "--organisatie", "1234") == "removed"
    assert json.loads(cli("list", "--bsn", "999991188")) == []
    refused = runner.invoke(main, ["afnemers", "place", "123456789", "SOCIAAL", "--config", str(settings.config_dir)],
                            env=env)
    assert refused.exit_code != 0 and "11-proof" in refused.output
    with bg_broker.broker.db.read() as session:
        actions = [e.action for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]
        details = [str(e.detail) for e in session.execute(select(AuditEntry)).scalars()]
    assert actions[-2:] == ["afnemerindicatie.place", "afnemerindicatie.remove"]
    assert not any("999991188" in d for d in details)


def test_inexact_names(bg: SoapCaller) -> None:
    from tests.support.bg_checks import check_inexact_names

    check_inexact_names(lambda message: ask(bg, message))


def test_the_dashboard_lists_person_questions(bg_broker: live.LiveBroker, bg: SoapCaller) -> None:
    from tests.support.dashboard_site import USERS, DashboardClient, add_users

    ask(bg, bsn("000009969"))
    add_users(bg_broker)
    client = DashboardClient(bg_broker.url)
    try:
        assert client.login(USERS["viewer"]).status_code == 303
        page = client.get("/messages", params={"operation": "npsLv01"})
        assert page.status_code == 200
        assert "<option selected>npsLv01</option>" in page.text and "<td>npsLv01</td>" in page.text
        assert "000009969" not in page.text
    finally:
        client.close()
