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
from tests.support.bg_messages import SCOPE_VOLLEDIG, bsn, npslv01
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


def objects(answer: SoapAnswer) -> list[etree._Element]:
    assert answer.berichtcode == "La01", answer.content[:2000]
    return answer.payload.findall(f"{{{BG}}}antwoord/{{{BG}}}object")


def value(el: etree._Element, path: str) -> str | None:
    found = el.find("/".join(f"{{{BG}}}{p}" for p in path.split("/")))
    return None if found is None else (found.text or "")


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
