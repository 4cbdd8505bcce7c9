"""broker.zds.kennisgevingen: the kennisgeving of every change, in both ZDS shapes, is valid against the
official schemas, addressed to the subscriber and without what it may not receive."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.stuf import soap
from broker.stuf import stuurgegevens as sgmod
from broker.stuf.stuurgegevens import Systeem
from broker.zds import kennisgevingen as k

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "zds12"
EXPECTED = {  # operation -> (ZDS 1.2 element, ZDS 1.1 element, mutatiesoort)
    "creeerZaak": ("creeerZaak_ZakLk01", "zakLk01", "T"),
    "updateZaak": ("updateZaak_ZakLk01", "zakLk01", "W"),
    "actualiseerZaakstatus": ("actualiseerZaakstatus_ZakLk01", "zakLk01", "W"),
    "voegZaakdocumentToe": ("voegZaakdocumentToe_EdcLk01", "edcLk01", "T"),
    "maakZaakdocument": ("maakZaakdocument_EdcLk01", "edcLk01", "T"),
    "updateZaakdocument": ("edcLk01", "edcLk01", "W"),
    "voegBesluitToe": ("voegBesluitToe_Di01", "bslLk01", None),
    "updateBesluit": ("updateBesluit_BslLk01", "bslLk01", "W"),
}
BROKER, SUBSCRIBER = Systeem("1234", "STUFBROKER"), Systeem("1234", "PERSPECTIEF")


@pytest.mark.parametrize("shape", ["1.2", "1.1"])
@pytest.mark.parametrize("operation", list(EXPECTED))
def test_every_kennisgeving_is_schema_valid_and_addressed_to_the_subscriber(operation: str, shape: str, schemas) -> None:
    body = soap.parse_request((FIXTURES / f"{operation}.xml").read_bytes(), "text/xml", None).body_element
    to = k.Addressing(BROKER, SUBSCRIBER, "K000000000001", "20261206120000000", shape)
    out = k.render(operation, body, to)
    assert [str(p) for p in schemas.issues(out)] == []
    element = EXPECTED[operation][0 if shape == "1.2" else 1]
    if operation == "voegBesluitToe" and shape == "1.1":
        assert out.xpath("string(//*[local-name()='mutatiesoort'])") == "T"
    assert out.tag.rsplit("}", 1)[1] == element
    sg = sgmod.read(out)
    assert (sg.zender, sg.ontvanger, sg.referentienummer, sg.tijdstipBericht, sg.crossRefnummer) == (
        BROKER, SUBSCRIBER, "K000000000001", "20261206120000000", None)
    if EXPECTED[operation][2]:
        assert out.xpath("string(//*[local-name()='mutatiesoort'])") == EXPECTED[operation][2]
    assert not out.xpath("//*[local-name()='inp.bsn' and text()]")  # no BSN unless allowed


def test_a_bsn_is_sent_when_allowed_and_content_above_the_size_is_left_out(schemas) -> None:
    body = soap.parse_request((FIXTURES / "creeerZaak.xml").read_bytes(), "text/xml", None).body_element
    out = k.render("creeerZaak", body, k.Addressing(BROKER, SUBSCRIBER, "K1", "20261206120000000", "1.2", bsn=True))
    assert out.xpath("string(//*[local-name()='inp.bsn'])") == "111222333"
    doc = soap.parse_request((FIXTURES / "voegZaakdocumentToe.xml").read_bytes(), "text/xml", None).body_element
    small = k.Addressing(BROKER, SUBSCRIBER, "K1", "20261206120000000", "1.1", max_document_bytes=1)
    out = k.render("voegZaakdocumentToe", doc, small)
    assert not out.xpath("//*[local-name()='inhoud']") and schemas.issues(out) == []
    big = k.Addressing(BROKER, SUBSCRIBER, "K1", "20261206120000000", "1.1", max_document_bytes=10**6)
    assert k.render("voegZaakdocumentToe", doc, big).xpath("//*[local-name()='inhoud']")


@pytest.mark.parametrize("shape", ["1.2", "1.1"])
def test_a_subscriber_gets_its_own_zaaktype_status_and_document_type_codes(shape: str, schemas) -> None:
    codes = k.Codes(zaaktypen={"SHV": "SCHULD"}, statussen={"SHV-2": "INTAKE"}, documenttypen={"Brief": "UITBRIEF"})
    to = k.Addressing(BROKER, SUBSCRIBER, "K1", "20261206120000000", shape, codes=codes)

    def told(operation: str) -> list[str]:
        body = soap.parse_request((FIXTURES / f"{operation}.xml").read_bytes(), "text/xml", None).body_element
        out = k.render(operation, body, to)
        assert [str(p) for p in schemas.issues(out)] == []
        return [el.text for el in out.xpath("//*[local-name()='isVan']/*/*[local-name()='code'] | "
                                            "//*[local-name()='zkt.code'] | "
                                            "//*[local-name()='heeft']/*/*[local-name()='code'] | "
                                            "//*[local-name()='dct.omschrijving']")]

    assert told("creeerZaak") == ["SCHULD"]
    assert told("actualiseerZaakstatus") == ["SCHULD", "INTAKE"]
    assert told("voegZaakdocumentToe") == ["UITBRIEF"]
    # a code the subscriber has no own code for is sent as it is
    plain = k.Addressing(BROKER, SUBSCRIBER, "K1", "20261206120000000", shape, codes=k.Codes(zaaktypen={"OMV": "X"}))
    body = soap.parse_request((FIXTURES / "creeerZaak.xml").read_bytes(), "text/xml", None).body_element
    assert k.render("creeerZaak", body, plain).xpath("string(//*[local-name()='isVan']/*/*[local-name()='code'])") == "SHV"
