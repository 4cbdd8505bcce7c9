"""Viewers never see personal data (BSN, names, addresses); operators do, and each such view is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.web.dashboard import masking
from broker.web.dashboard.tables import MessageView
from tests.support.dashboard_site import PERSON, Site, start_site

SECRETS = [PERSON["bsn"], PERSON["geslachtsnaam"], "Josephina", PERSON["straat"], PERSON["postcode"],
           PERSON["woonplaats"], PERSON["huisnummer"]]


# -- the rules --------------------------------------------------------------------------------
@pytest.mark.parametrize(("digits", "valid"), [("111222333", True), ("123456782", True), ("111222334", False),
                                                ("000000000", False), ("12345678", False)])
def test_the_11_proef_recognises_a_bsn(digits: str, valid: bool) -> None:
    assert masking.is_bsn(digits) is valid


def test_free_text_loses_its_bsns_but_keeps_other_numbers() -> None:
    text = "zaak 1234567890123 van 111222333, referentie 111222334"
    assert masking.mask_text(text) == f"zaak 1234567890123 van {masking.BSN_MASK}, referentie 111222334"


def test_xml_loses_names_addresses_and_bsns_but_keeps_the_rest() -> None:
    xml = ('<a xmlns:BG="urn:bg"><BG:inp.bsn>111222333</BG:inp.bsn><BG:geslachtsnaam>Jansen</BG:geslachtsnaam>'
           '<BG:verblijfsadres><BG:gor.straatnaam>Dorpsstraat</BG:gor.straatnaam><BG:aoa.huisnummer>7'
           '</BG:aoa.huisnummer></BG:verblijfsadres><omschrijving>voor 111222333</omschrijving>'
           '<identificatie>1234Z0001</identificatie></a>')
    out = masking.mask_xml(xml)
    for secret in ("111222333", "Jansen", "Dorpsstraat", ">7<"):
        assert secret not in out
    assert "1234Z0001" in out and out.count(masking.MASK) == 4 and masking.BSN_MASK in out


def test_xml_fragments_in_an_error_message_are_masked() -> None:
    error = "target said: <BG:geslachtsnaam>Jansen</BG:geslachtsnaam> unknown (bsn 111222333)"
    out = masking.mask_text(error)
    assert "Jansen" not in out and "111222333" not in out and "unknown" in out


def test_the_case_model_loses_personal_fields() -> None:
    model = {"zaak": {"identificatie": "1234Z1", "omschrijving": "voor 111222333", "rollen": [{"betrokkene": {
        "bsn": "111222333", "geslachtsnaam": "Jansen", "voornamen": "Jan", "statutaire_naam": None,
        "type": "natuurlijkPersoon"}}]}}
    out = masking.mask_data(model)
    b = out["zaak"]["rollen"][0]["betrokkene"]
    assert b == {"bsn": masking.MASK, "geslachtsnaam": masking.MASK, "voornamen": masking.MASK,
                 "statutaire_naam": None, "type": "natuurlijkPersoon"}
    assert out["zaak"]["identificatie"] == "1234Z1" and "111222333" not in out["zaak"]["omschrijving"]


# -- on the live dashboard -------------------------------------------------------------------------
@pytest.fixture
def site(tmp_path: Path, schemas) -> Iterator[Site]:
    s = start_site(tmp_path, schemas)
    s.creeer("1234MASK01", person=True)
    yield s
    s.stop()


def _message_id(site: Site) -> int:
    from broker.store.tables import Message

    with site.lb.broker.db.read() as s:
        return s.execute(select(Message.id).where(Message.zaak_identificatie == "1234MASK01")).scalar_one()


def _views(site: Site) -> list[MessageView]:
    with site.lb.broker.db.read() as s:
        return list(s.execute(select(MessageView)).scalars())


def test_a_viewer_sees_no_personal_data_in_the_list_the_detail_the_xml_or_the_case_model(site: Site) -> None:
    c = site.client("viewer")
    listing = c.get("/messages")
    detail = c.get(f"/messages/{_message_id(site)}")
    assert listing.status_code == detail.status_code == 200
    assert "1234MASK01" in listing.text and "1234MASK01" in detail.text  # the zaak itself is not personal
    for secret in SECRETS:
        assert secret not in listing.text, secret
        assert secret not in detail.text, secret
    assert 'data-testid="case-model"' in detail.text and 'data-testid="request-xml"' in detail.text
    assert masking.MASK in detail.text and "masked for your role" in detail.text
    assert _views(site) == []  # nothing personal was shown, so nothing to account for


def test_an_operator_sees_the_personal_data_and_the_view_is_recorded(site: Site) -> None:
    c = site.client("operator")
    message_id = _message_id(site)
    detail = c.get(f"/messages/{message_id}")
    for secret in SECRETS:
        assert secret in detail.text, secret
    [view] = _views(site)
    assert (view.username, view.message_id, view.what) == ("otto", message_id, "detail") and view.at is not None


def test_an_administrator_reads_the_access_log(site: Site) -> None:
    message_id = _message_id(site)
    site.client("operator").get(f"/messages/{message_id}")
    log = site.client("administrator").get(f"/access?message={message_id}")
    assert log.status_code == 200 and "otto" in log.text and f"/messages/{message_id}" in log.text


def test_a_schema_error_that_quotes_a_personal_value_is_masked() -> None:
    error = ("Het bericht is niet conform het schema: Element 'BG:geslachtsnaam': 'Jansen" + "X" * 200
             + "' is not a valid value of the atomic type; Element 'ZKN:omschrijving': 'te lang' is not ...")
    masked = masking.mask_text(error)
    assert "Jansen" not in masked and "'te lang'" in masked
    dates = masking.mask_text("'19700230' in geboortedatum is een datum die niet bestaat; '20261332' in startdatum")
    assert "19700230" not in dates and "20261332" in dates


def test_a_truncated_request_is_masked_up_to_where_it_ends() -> None:
    truncated = b'<ZKN:object xmlns:BG="bg"><BG:geslachtsnaam>Jansen</BG:geslachtsnaam><BG:voornamen>Pieter Jan'
    masked = masking.mask_xml(truncated)
    assert "Jansen" not in masked and "Pieter" not in masked


def test_a_name_repeated_in_free_text_and_the_zenders_gebruiker_are_masked() -> None:
    xml = (b'<m><stuurgegevens><zender><applicatie>FORMS</applicatie><gebruiker>pjanssen</gebruiker></zender>'
           b"</stuurgegevens><object><geslachtsnaam>Janssen</geslachtsnaam>"
           b"<omschrijving>Schuldhulp aangevraagd door P. Janssen</omschrijving></object></m>")
    masked = masking.mask_xml(xml)
    assert "Janssen" not in masked and "pjanssen" not in masked
    assert "Schuldhulp aangevraagd door" in masked and "FORMS" in masked
