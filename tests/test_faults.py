"""Every foutcode path of the broker answers a SOAP 1.1 Fault carrying a schema-valid Fo02 or Fo03.

For each: HTTP 500; ``faultcode`` Client/Server as ``StUF:plek``; ``faultstring`` = ``StUF:omschrijving``;
the detail holds only the Fo-bericht; Fo02 stuurgegevens hold only the berichtcode, Fo03 mirror zender and
ontvanger and refer to the request with crossRefnummer. The stuurgegevens checks run before schema
validation, so the messages below reach the check they are about.
"""

from __future__ import annotations

import pytest

from broker.config import SystemId
from broker.foutcodes import FOUTCODES
from broker.stuf import ns
from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support.edge_live import Edge, running
from tests.support.soapcall import SoapAnswer

ZENDER = ("KING", "STP")
ONTVANGER = ("ORG", "TTA")
OWN = ("1234", "STUFBROKER")  # identity in config/broker.yaml


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas):
    with running(
        tmp_path_factory.mktemp("faults"), schemas,
        ontvangers=[SystemId(organisatie="ORG", applicatie="TTA")],
        zenders=[SystemId(organisatie="KING", applicatie="STP"), SystemId(organisatie="KING", applicatie="STP2")],
    ) as edge:
        yield edge


def _systeem(answer: SoapAnswer, name: str) -> tuple[str | None, str | None]:
    return answer.text(f"stuurgegevens/{name}/organisatie"), answer.text(f"stuurgegevens/{name}/applicatie")


def assert_fault(edge: Edge, port: str, xml: str, code: str, *, soap_action: str | None = None,
                 zender: tuple[str, str] | None = ZENDER, ontvanger: tuple[str, str] | None = ONTVANGER,
                 referentienummer: str | None = None, plek: str | None = None) -> SoapAnswer:
    """Send ``xml`` and check the fault for ``code``; return the answer for further checks.

    ``zender``/``ontvanger``/``referentienummer`` are what the request carried (None: absent);
    ``plek`` where it differs from the code's (a content fault: client, tests/test_fault_plek.py).
    """
    answer = edge.soap.call(port, xml, soap_action=soap_action)  # validates the Fo-bericht
    assert answer.status == 500, answer.content
    fault = e.soap11_fault(answer.content)
    kind = "Fo03" if port == e.ASYNC else "Fo02"
    assert fault.fo.tag == ns.q(ns.STUF, f"{kind}Bericht")
    assert answer.foutcode == code, answer.content
    expected_plek = plek or FOUTCODES[code].plek
    plek = answer.text("body/plek")
    assert plek == expected_plek
    prefix, _, local = fault.faultcode.partition(":")
    env = e.parse(answer.content)
    assert env.nsmap.get(prefix) == ns.SOAP11
    assert local == ("Client" if plek == "client" else "Server")
    assert fault.faultstring == answer.text("body/omschrijving")
    sg_names = [ns.local(c.tag) for c in fault.fo.find(f"{{{ns.STUF}}}stuurgegevens")]
    if kind == "Fo02":
        assert sg_names == ["berichtcode"]
    else:
        assert answer.berichtcode == "Fo03"
        assert _systeem(answer, "zender") == (ontvanger or OWN)
        if zender is not None:
            assert _systeem(answer, "ontvanger") == zender
        else:
            assert answer.text("stuurgegevens/ontvanger/applicatie")  # required by the schema
        assert answer.text("stuurgegevens/crossRefnummer") == (referentienummer or "onbekend")
        assert answer.text("stuurgegevens/referentienummer")
        assert answer.text("stuurgegevens/tijdstipBericht")
    row = e.last_row(edge.broker)
    assert (row.outcome, row.foutcode, row.http_status) == ("fault", code, 500)
    return answer


def _zaak(edge: Edge) -> str:
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    assert edge.soap.call(e.ASYNC, m.creeer_zaak(ident)).berichtcode == "Bv03"
    return ident


# -- StUF055: the body does not conform to the schema -------------------------------------------
def test_stuf055_async_body_against_the_schema_names_line_path_and_reason(edge: Edge) -> None:
    """An invalid creeerZaak gets Fo03 StUF055 whose details give the line, the element path and the reason."""
    ref = m.ref()
    xml = m.creeer_zaak(f"1234{ref}", referentienummer=ref).replace(
        f"<ZKN:startdatum>{m.today()}", "\n<ZKN:startdatum>gisteren")
    answer = assert_fault(edge, e.ASYNC, xml, "StUF055", referentienummer=ref)
    details = answer.text("body/details")
    assert "regel 2" in details  # the line of the request where startdatum stands
    assert "ZDS:creeerZaak_ZakLk01/ZKN:object/ZKN:startdatum" in details
    assert "'gisteren' is not a valid value" in details
    assert e.zaak_count(edge.broker, f"1234{ref}") == 0


def test_stuf055_sync_body_against_the_schema_gets_fo02(edge: Edge) -> None:
    """A geefZaakdetails with a non-numeric sortering gets Fo02 StUF055 naming the element."""
    xml = m.geef_zaakdetails("12340000001").replace("<StUF:sortering>0<", "<StUF:sortering>veel<")
    answer = assert_fault(edge, e.VRAAG, xml, "StUF055")
    details = answer.text("body/details")
    assert "regel 1" in details
    assert "ZDS:geefZaakdetails_ZakLv01/ZKN:parameters/StUF:sortering" in details
    assert "'veel'" in details


# -- Tabel 4.1 stuurgegevens --------------------------------------------------------------------
def test_stuf010_unknown_ontvanger_sync_and_async(edge: Edge) -> None:
    """An ontvanger the broker does not answer for gets StUF010, as Fo02 and as Fo03."""
    answer = assert_fault(edge, e.SYNC_VRIJ, m.genereer_zaak_identificatie(ontvanger=("ORG", "ANDERS")), "StUF010")
    assert "ORG/ANDERS" in answer.text("body/omschrijving")
    ref = m.ref()
    xml = m.creeer_zaak(f"1234{ref}", ontvanger=("ORG", "ANDERS"), referentienummer=ref)
    assert_fault(edge, e.ASYNC, xml, "StUF010", ontvanger=("ORG", "ANDERS"), referentienummer=ref)


def test_stuf010_missing_ontvanger_in_an_asynchronous_message(edge: Edge) -> None:
    """An Lk01 without ontvanger gets Fo03 StUF010; the broker answers as itself."""
    ref = m.ref()
    xml = m.creeer_zaak(f"1234{ref}", ontvanger=None, referentienummer=ref)
    assert_fault(edge, e.ASYNC, xml, "StUF010", ontvanger=None, referentienummer=ref)


def test_stuf013_unknown_zender_sync_and_missing_zender_async(edge: Edge) -> None:
    """An unknown zender gets StUF013 (Fo02); an Lk01 without zender gets Fo03 StUF013."""
    answer = assert_fault(edge, e.SYNC_VRIJ, m.genereer_zaak_identificatie(zender=("KING", "ONBEKEND")), "StUF013")
    assert "KING/ONBEKEND" in answer.text("body/omschrijving")
    ref = m.ref()
    assert_fault(edge, e.ASYNC, m.creeer_zaak(f"1234{ref}", zender=None, referentienummer=ref), "StUF013",
                 zender=None, referentienummer=ref)


def test_stuf016_missing_referentienummer_in_an_asynchronous_message(edge: Edge) -> None:
    """An Lk01 without referentienummer gets Fo03 StUF016 (crossRefnummer cannot refer to it)."""
    xml = e.with_stuurgegeven(m.creeer_zaak(f"1234{m.ref()}"), "referentienummer", None)
    assert_fault(edge, e.ASYNC, xml, "StUF016", referentienummer=None)


def test_stuf019_missing_tijdstip_bericht_in_an_asynchronous_message(edge: Edge) -> None:
    """An Lk01 without tijdstipBericht gets Fo03 StUF019."""
    ref = m.ref()
    xml = e.with_stuurgegeven(m.creeer_zaak(f"1234{ref}", referentienummer=ref), "tijdstipBericht", None)
    assert_fault(edge, e.ASYNC, xml, "StUF019", referentienummer=ref)


def test_stuf019_tijdstip_bericht_not_increasing_when_the_check_is_on(tmp_path, schemas) -> None:
    """With checks.tijdstip_increasing on, a tijdstipBericht not after the zender's previous one gets StUF019."""
    with running(tmp_path, schemas, checks__tijdstip_increasing=True) as edge:
        first = m.genereer_zaak_identificatie(tijdstip_bericht="20240102120000")
        assert edge.soap.call(e.SYNC_VRIJ, first).berichtcode == "Du02"
        assert_fault(edge, e.SYNC_VRIJ, m.genereer_zaak_identificatie(tijdstip_bericht="20240101120000"), "StUF019")


def test_stuf022_unknown_berichtcode(edge: Edge) -> None:
    """A berichtcode StUF does not know gets StUF022."""
    ref = m.ref()
    xml = e.with_stuurgegeven(m.creeer_zaak(f"1234{ref}", referentienummer=ref), "berichtcode", "Xx01")
    assert_fault(edge, e.ASYNC, xml, "StUF022", referentienummer=ref)


def test_stuf025_berichtcode_not_supported_for_the_operation(edge: Edge) -> None:
    """creeerZaak as Lk02 and geefZaakdetails as Lv02 get StUF025 (Fo03 and Fo02)."""
    ref = m.ref()
    xml = e.with_stuurgegeven(m.creeer_zaak(f"1234{ref}", referentienummer=ref), "berichtcode", "Lk02")
    answer = assert_fault(edge, e.ASYNC, xml, "StUF025", referentienummer=ref)
    assert "Lk02" in answer.text("body/omschrijving")
    xml = e.with_stuurgegeven(m.geef_zaakdetails("12340000001"), "berichtcode", "Lv02")
    assert_fault(edge, e.VRAAG, xml, "StUF025")


def test_stuf025_operation_sent_to_the_wrong_port(edge: Edge) -> None:
    """genereerZaakIdentificatie on OntvangAsynchroon gets Fo03 StUF025; creeerZaak on a sync port Fo02."""
    ref = m.ref()
    answer = assert_fault(edge, e.ASYNC, m.genereer_zaak_identificatie(referentienummer=ref), "StUF025",
                          referentienummer=ref)
    assert e.SYNC_VRIJ in answer.text("body/details")
    ident = f"1234{m.ref()}"
    assert_fault(edge, e.SYNC_VRIJ, m.creeer_zaak(ident), "StUF025")
    assert e.zaak_count(edge.broker, ident) == 0


def test_stuf028_unknown_and_stuf031_unsupported_entiteittype(edge: Edge) -> None:
    """An unknown entiteittype gets StUF028; a known one that does not fit the operation StUF031."""
    ref = m.ref()
    xml = e.with_stuurgegeven(m.creeer_zaak(f"1234{ref}", referentienummer=ref), "entiteittype", "XYZ")
    assert_fault(edge, e.ASYNC, xml, "StUF028", referentienummer=ref)
    ref = m.ref()
    xml = e.with_stuurgegeven(m.creeer_zaak(f"1234{ref}", referentienummer=ref), "entiteittype", "EDC")
    assert_fault(edge, e.ASYNC, xml, "StUF031", referentienummer=ref)
    xml = e.with_stuurgegeven(m.geef_zaakdetails("12340000001"), "entiteittype", "BSL")
    assert_fault(edge, e.VRAAG, xml, "StUF031")


def test_stuf034_unknown_functie(edge: Edge) -> None:
    """A functie StUF-ZKN does not know gets StUF034."""
    xml = e.with_stuurgegeven(m.genereer_zaak_identificatie(), "functie", "geefMijEenNummer")
    assert_fault(edge, e.SYNC_VRIJ, xml, "StUF034")


def test_stuf037_overdragen_zaak_is_not_supported(edge: Edge, schemas) -> None:
    """overdragenZaak (optional for a zaaksysteem) gets Fo03 StUF037."""
    ref = m.ref()
    xml = e.overdragen_zaak("12340000001", referentienummer=ref)
    assert not schemas.issues(e.parse(xml))
    answer = assert_fault(edge, e.ASYNC, xml, "StUF037", referentienummer=ref)
    assert "overdragenZaak" in answer.text("body/omschrijving")


def test_stuf040_functie_of_another_operation_and_contradicting_soapaction(edge: Edge) -> None:
    """A known functie that does not fit the body, and a SOAPAction naming another operation, get StUF040."""
    xml = e.with_stuurgegeven(m.genereer_zaak_identificatie(), "functie", "genereerDocumentidentificatie")
    assert_fault(edge, e.SYNC_VRIJ, xml, "StUF040")
    ref = m.ref()
    assert_fault(edge, e.ASYNC, m.creeer_zaak(f"1234{ref}", referentienummer=ref), "StUF040",
                 soap_action=m.ZDS_ACTION + "actualiseerZaakstatus_ZakLk01", referentienummer=ref)


# -- processing: StUF064 and StUF058 ------------------------------------------------------------
def test_stuf064_update_zaak_and_actualiseer_zaakstatus_on_an_unknown_zaak(edge: Edge) -> None:
    """updateZaak and actualiseerZaakstatus on a zaak the zaaksysteem does not have get Fo03 StUF064."""
    ident = f"1234{m.ref()}"
    ref = m.ref()
    answer = assert_fault(edge, e.ASYNC, e.update_zaak(ident, referentienummer=ref), "StUF064", referentienummer=ref, plek="client")
    assert ident in answer.text("body/omschrijving")
    ref = m.ref()
    answer = assert_fault(edge, e.ASYNC, e.actualiseer_zaakstatus(ident, referentienummer=ref), "StUF064",
                          referentienummer=ref, plek="client")
    assert ident in answer.text("body/omschrijving")


def test_stuf064_unknown_statustype_is_named(edge: Edge) -> None:
    """actualiseerZaakstatus with a statustype not in the catalogus gets StUF064 naming that statustype."""
    ident = _zaak(edge)
    before = e.status_count(edge.broker)
    ref = m.ref()
    xml = e.actualiseer_zaakstatus(ident, ("SHV-9", "Bestaat niet", "9"), referentienummer=ref)
    answer = assert_fault(edge, e.ASYNC, xml, "StUF064", referentienummer=ref, plek="client")
    assert "SHV-9" in answer.text("body/omschrijving")
    assert e.status_count(edge.broker) == before


def test_stuf058_unknown_zaaktype_is_named(edge: Edge) -> None:
    """creeerZaak with a zaaktype not in the catalogus gets StUF058 naming it, and no zaak is stored."""
    ident, ref = f"1234{m.ref()}", m.ref()
    xml = m.creeer_zaak(ident, zaaktype="ONBEKEND1", zaaktype_omschrijving="Onbekend zaaktype", referentienummer=ref)
    answer = assert_fault(edge, e.ASYNC, xml, "StUF058", referentienummer=ref, plek="client")
    assert "ONBEKEND1" in answer.text("body/omschrijving")
    assert e.zaak_count(edge.broker, ident) == 0


def test_stuf058_creeer_zaak_with_an_identificatie_in_use(edge: Edge) -> None:
    """A second creeerZaak (new referentienummer) with the identificatie of an existing zaak gets StUF058."""
    ident = _zaak(edge)
    ref = m.ref()
    answer = assert_fault(edge, e.ASYNC, m.creeer_zaak(ident, omschrijving="Tweede", referentienummer=ref),
                          "StUF058", referentienummer=ref, plek="client")
    assert ident in answer.text("body/omschrijving")
    assert e.zaak_count(edge.broker, ident) == 1
