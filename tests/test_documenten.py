"""The document services of ZDS 1.2 §4.3 on the embedded zaaksysteem, over HTTP.

Every answer is validated against the official schemas by the ``soap`` fixture. Each test runs on
SQLite and on the machine's PostgreSQL (a private schema per test; marker ``postgres``).
"""

from __future__ import annotations

import base64
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.adapters.embedded.tables import ZsDocument
from broker.errors import StufError
from broker.stuf import ns
from tests.support import document_messages as d
from tests.support import live
from tests.support import messages as m
from tests.support.pg import schema_url
from tests.support.soapcall import SoapAnswer, SoapCaller

VRIJ = "VerwerkSynchroonVrijBericht"
VRAAG = "BeantwoordVraag"
ASYNC = "OntvangAsynchroon"
_docs = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request, tmp_path: Path) -> Iterator[live.Settings]:  # overrides conftest's
    if request.param == "sqlite":
        yield live.make_settings(tmp_path)
    else:
        with schema_url() as url:
            yield live.make_settings(tmp_path, database_url=url)


# -- helpers ---------------------------------------------------------------------------------
def new_zaak(soap: SoapCaller, zaaktype: str = "SHV", omschrijving: str = "Schuldhulpverlening") -> str:
    ident = soap.call(VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    bv03 = soap.call(ASYNC, m.creeer_zaak(ident, zaaktype=zaaktype, zaaktype_omschrijving=omschrijving),
                     soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01")
    assert bv03.berichtcode == "Bv03", bv03.content
    return ident


def new_ident() -> str:
    return f"1234D{next(_docs):04d}{uuid.uuid4().hex[:8]}"


def voeg_toe(soap: SoapCaller, ident: str, zaak: str, content: bytes = b"%PDF-1.4 brief", **kw: object) -> SoapAnswer:
    return soap.call(ASYNC, d.voeg_zaakdocument_toe(ident, zaak, content, **kw),
                     soap_action=d.ACTION["voegZaakdocumentToe"])


def lezen(soap: SoapCaller, ident: str, scope: str = d.ALLES_EDC) -> SoapAnswer:
    return soap.call(VRAAG, d.geef_zaakdocument_lezen(ident, scope), soap_action=d.ACTION["geefZaakdocumentLezen"])


def lijst(soap: SoapCaller, zaak: str, scope: str = d.ALLES_ZAK) -> SoapAnswer:
    return soap.call(VRAAG, d.geef_lijst_zaakdocumenten(zaak, scope), soap_action=d.ACTION["geefLijstZaakdocumenten"])


def bewerken(soap: SoapCaller, ident: str, scope: str | None = d.ALLES_EDC) -> SoapAnswer:
    return soap.call(VRIJ, d.geef_zaakdocument_bewerken(ident, scope), soap_action=d.ACTION["geefZaakdocumentbewerken"])


def update(soap: SoapCaller, ident: str, checkout_id: str | None, **kw: object) -> SoapAnswer:
    kw.setdefault("oud_titel", "Ontvangstbevestiging")
    kw.setdefault("nieuw_titel", "Ontvangstbevestiging")
    return soap.call(VRIJ, d.update_zaakdocument(ident, checkout_id, **kw), soap_action=d.ACTION["updateZaakdocument"])


def cancel(soap: SoapCaller, ident: str, checkout_id: str | None) -> SoapAnswer:
    return soap.call(VRIJ, d.cancel_checkout(ident, checkout_id), soap_action=d.ACTION["cancelCheckout"])


def ontkoppel(soap: SoapCaller, ident: str, zaak: str) -> SoapAnswer:
    return soap.call(VRIJ, d.ontkoppel_zaakdocument(ident, zaak), soap_action=d.ACTION["ontkoppelZaakdocument"])


def kids(el, name: str | None = None) -> list:
    return [c for c in el if isinstance(c.tag, str) and (name is None or ns.local(c.tag) == name)]


def one(el, *path: str):
    for p in path:
        found = kids(el, p)
        assert found, f"{p} missing below {ns.local(el.tag)}"
        el = found[0]
    return el


def inhoud_van(answer: SoapAnswer, *path: str) -> bytes:
    el = one(answer.payload, *path, "inhoud")
    return base64.b64decode(el.text or "")


def document_rows(live_broker) -> list[str]:
    with live_broker.broker.db.read() as session:
        return list(session.execute(select(ZsDocument.identificatie)).scalars())


def assert_fault(answer: SoapAnswer, code: str) -> None:
    assert answer.is_fault, answer.content[:500]
    assert answer.foutcode == code, (answer.foutcode, answer.text("body/omschrijving"), answer.text("body/details"))


# -- voegZaakdocumentToe / geefZaakdocumentLezen -----------------------------------------------
def test_a_document_added_to_a_zaak_is_read_back_with_the_same_bytes(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    assert voeg_toe(soap, ident, zaak, b"Geachte heer, mevrouw,\n", bestandsnaam="brief.txt",
                    content_type="text/plain").berichtcode == "Bv03"
    la01 = lezen(soap, ident)
    assert la01.berichtcode == "La01"
    obj = one(la01.payload, "antwoord", "object")
    assert one(obj, "identificatie").text == ident
    assert one(obj, "titel").text == "Ontvangstbevestiging"
    inhoud = one(obj, "inhoud")
    assert base64.b64decode(inhoud.text) == b"Geachte heer, mevrouw,\n"
    assert inhoud.get(f"{{{ns.STUF}}}bestandsnaam") == "brief.txt"
    assert inhoud.get(f"{{{ns.XMIME}}}contentType") == "text/plain"
    assert one(obj, "isRelevantVoor", "gerelateerde", "identificatie").text == zaak


def test_a_binary_document_of_a_megabyte_comes_back_byte_for_byte(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    content = b"\xff\xfe\x00\x80\r\n\n\r" + os.urandom(1024 * 1024)
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    bv03 = voeg_toe(soap, ident, zaak, content, bestandsnaam="scan.tif", content_type="image/tiff")
    assert bv03.berichtcode == "Bv03"
    assert inhoud_van(lezen(soap, ident), "antwoord", "object") == content


def test_reading_only_some_elements_still_answers_the_content_the_answer_type_requires(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    voeg_toe(soap, ident, zaak, b"inhoud")
    scope = ('<ZKN:object StUF:entiteittype="EDC"><ZKN:identificatie xsi:nil="true"/>'
             '<ZKN:titel xsi:nil="true"/></ZKN:object>')
    obj = one(lezen(soap, ident, scope).payload, "antwoord", "object")
    assert [ns.local(c.tag) for c in kids(obj)] == [
        "identificatie", "creatiedatum", "titel", "formaat", "taal", "vertrouwelijkAanduiding", "auteur", "inhoud"]
    assert base64.b64decode(one(obj, "inhoud").text) == b"inhoud"


def test_reading_an_unknown_document_answers_no_object(soap):
    la01 = lezen(soap, "1234ONBEKEND")
    assert la01.berichtcode == "La01"
    assert not kids(la01.payload, "antwoord")


def test_a_document_for_an_unknown_zaak_is_refused_with_stuf064_and_not_stored(soap, live_broker):
    ident = new_ident()
    answer = voeg_toe(soap, ident, "1234ZAAKBESTAATNIET")
    assert_fault(answer, "StUF064")
    assert answer.berichtcode == "Fo03"
    assert ident not in document_rows(live_broker)


def test_a_documentidentificatie_in_use_is_refused_and_the_first_document_stays(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    assert voeg_toe(soap, ident, zaak, b"eerste").berichtcode == "Bv03"
    assert_fault(voeg_toe(soap, ident, zaak, b"tweede"), "StUF058")
    assert inhoud_van(lezen(soap, ident), "antwoord", "object") == b"eerste"


def test_a_document_above_the_size_limit_is_refused_with_a_clear_fault(soap, settings, live_broker):
    settings.broker.limits.max_document_bytes = 1000
    zaak = new_zaak(soap)
    ident = new_ident()
    answer = voeg_toe(soap, ident, zaak, b"x" * 1001)
    assert_fault(answer, "StUF058")
    assert "te groot" in answer.text("body/omschrijving")
    assert ident not in document_rows(live_broker)


def test_the_documenttype_must_belong_to_the_zaaktype_when_the_catalogus_lists_them(soap):
    zaak = new_zaak(soap, "OMV", "Omgevingsvergunning")
    assert_fault(voeg_toe(soap, new_ident(), zaak, documenttype="Brief"), "StUF058")
    assert voeg_toe(soap, new_ident(), zaak, documenttype="Bouwtekening").berichtcode == "Bv03"


def test_a_failing_message_leaves_no_document_row_behind(soap, live_broker, monkeypatch):
    zaak = new_zaak(soap)
    ident = new_ident()

    def broken(element):  # fails after the handler stored the document
        raise StufError("StUF058", "Het antwoord kon niet worden gemaakt")

    monkeypatch.setattr(live_broker.broker.schemas, "assert_answer_valid", broken)
    # every Bv03 checked, as for an identity whose Bv03 does not conform (else it is checked once)
    monkeypatch.setattr(live_broker.broker.pipeline, "_own_bv03_conforms", lambda: False)
    assert_fault(voeg_toe(soap, ident, zaak), "StUF058")
    assert ident not in document_rows(live_broker)
    monkeypatch.undo()
    assert voeg_toe(soap, ident, zaak).berichtcode == "Bv03", "the identificatie is still free"
    assert ident in document_rows(live_broker)


def test_a_document_sent_as_mtom_is_stored_and_read_back_identically(soap, live_broker):
    zaak = new_zaak(soap)
    ident = new_ident()
    content = os.urandom(300_000) + b"\r\n--MIMEBoundary\r\n"
    body = d.voeg_zaakdocument_toe(ident, zaak, inhoud_xml=d.xop_inhoud("doc1@test", "plan.pdf"))
    http_body, headers = d.mtom_request(body, {"doc1@test": content}, d.ACTION["voegZaakdocumentToe"])
    assert soap.check(soap.post_raw(ASYNC, http_body, headers)).berichtcode == "Bv03"
    assert inhoud_van(lezen(soap, ident), "antwoord", "object") == content
    # asked as MTOM, the answer comes as MTOM too (soap.binary_answers: mirror)
    http_body, headers = d.mtom_request(d.geef_zaakdocument_lezen(ident), {}, d.ACTION["geefZaakdocumentLezen"])
    answer = soap.check(soap.post_raw(VRAAG, http_body, headers))
    assert answer.content_type.startswith("multipart/related")
    assert inhoud_van(answer, "antwoord", "object") == content


@pytest.mark.parametrize(("setting", "asked_as_mtom", "multipart"), [
    ("mtom", False, True), ("inline", True, False), ("mirror", False, False)])
def test_soap_binary_answers_decides_whether_the_content_comes_as_an_mtom_part(
        soap, live_broker, monkeypatch, setting: str, asked_as_mtom: bool, multipart: bool) -> None:
    """mtom: always a part; inline: always base64 in the body, also for a question asked as MTOM;
    mirror (the default): as the question came. The content is the same bytes either way."""
    zaak, ident, content = new_zaak(soap), new_ident(), os.urandom(5_000)
    assert voeg_toe(soap, ident, zaak, content).berichtcode == "Bv03"
    monkeypatch.setattr(live_broker.broker.pipeline.settings.soap, "binary_answers", setting)
    if asked_as_mtom:
        http_body, headers = d.mtom_request(d.geef_zaakdocument_lezen(ident), {}, d.ACTION["geefZaakdocumentLezen"])
        answer = soap.check(soap.post_raw(VRAAG, http_body, headers))
    else:
        answer = lezen(soap, ident)
    assert answer.content_type.startswith("multipart/related") is multipart
    assert inhoud_van(answer, "antwoord", "object") == content


# -- geefLijstZaakdocumenten / geefZaakdetails -------------------------------------------------
def test_the_list_answers_every_document_of_the_zaak_sorted_on_identificatie(soap):
    zaak = new_zaak(soap)
    first, second = sorted([new_ident(), new_ident()])
    voeg_toe(soap, second, zaak, titel="Tweede", relatie_titel="Bijlage")
    voeg_toe(soap, first, zaak, titel="Eerste")
    obj = one(lijst(soap, zaak).payload, "antwoord", "object")
    assert one(obj, "identificatie").text == zaak
    rels = kids(obj, "heeftRelevant")
    assert [one(r, "gerelateerde", "identificatie").text for r in rels] == [first, second]
    assert one(rels[1], "gerelateerde", "titel").text == "Tweede"
    assert one(rels[1], "titel").text == "Bijlage", "the relation's gegevens as registered"
    assert one(rels[0], "titel").get(f"{{{ns.STUF}}}noValue") == "geenWaarde"
    assert not kids(one(rels[0], "gerelateerde"), "inhoud")


def test_the_list_answers_exactly_the_elements_a_scope_lists(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    voeg_toe(soap, ident, zaak)
    scope = ('<ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/>'
             '<ZKN:heeftRelevant StUF:entiteittype="ZAKEDC"><ZKN:gerelateerde StUF:entiteittype="EDC">'
             '<ZKN:identificatie xsi:nil="true"/><ZKN:auteur xsi:nil="true"/></ZKN:gerelateerde>'
             '<ZKN:titel xsi:nil="true"/></ZKN:heeftRelevant></ZKN:object>')
    obj = one(lijst(soap, zaak, scope).payload, "antwoord", "object")
    assert [ns.local(c.tag) for c in kids(obj)] == ["identificatie", "heeftRelevant"]
    rel = one(obj, "heeftRelevant")
    assert [ns.local(c.tag) for c in kids(rel)] == ["gerelateerde", "titel", "registratiedatum"]
    assert [ns.local(c.tag) for c in kids(one(rel, "gerelateerde"))] == ["identificatie", "auteur"]
    assert one(rel, "gerelateerde", "auteur").text == "Team Schuldhulp"


def test_a_zaak_without_documents_answers_an_empty_relation_and_an_unknown_zaak_nothing(soap):
    zaak = new_zaak(soap)
    rel = one(lijst(soap, zaak).payload, "antwoord", "object", "heeftRelevant")
    assert rel.get(f"{{{ns.XSI}}}nil") == "true"
    assert not kids(lijst(soap, "1234ONBEKEND").payload, "antwoord")


def test_geef_zaakdetails_shows_the_documents_as_heeft_relevant(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    voeg_toe(soap, ident, zaak)
    obj = one(soap.call(VRAAG, m.geef_zaakdetails(zaak)).payload, "antwoord", "object")
    assert one(obj, "heeftRelevant", "gerelateerde", "identificatie").text == ident


# -- checkout: geefZaakdocumentbewerken, updateZaakdocument, cancelCheckout ---------------------
def test_checkout_update_replaces_the_content_and_releases_the_document(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    voeg_toe(soap, ident, zaak, b"versie 1")
    du02 = bewerken(soap, ident)
    assert du02.berichtcode == "Du02"
    checkout_id = du02.text("parameters/checkedOutId")
    assert checkout_id and checkout_id != ident
    assert du02.text("parameters/checkedOutBy") == "STP"
    assert inhoud_van(du02, "edcLa01", "antwoord", "object") == b"versie 1"

    assert_fault(bewerken(soap, ident), "StUF058")  # checked out already
    assert_fault(update(soap, ident, "een-andere-id", content=b"versie 2"), "StUF058")
    assert_fault(update(soap, ident, None, content=b"versie 2"), "StUF055")
    assert update(soap, ident, checkout_id, nieuw_titel="Ontvangstbevestiging (herzien)",
                  content=b"versie 2").berichtcode == "Bv02"

    obj = one(lezen(soap, ident).payload, "antwoord", "object")
    assert base64.b64decode(one(obj, "inhoud").text) == b"versie 2"
    assert one(obj, "inhoud").get(f"{{{ns.STUF}}}bestandsnaam") == "brief-v2.pdf"
    assert one(obj, "titel").text == "Ontvangstbevestiging (herzien)"
    assert one(obj, "auteur").text == "Team Schuldhulp", "what the new object does not name stays"
    assert_fault(update(soap, ident, checkout_id, content=b"versie 3"), "StUF058")  # the checkout has ended
    assert bewerken(soap, ident).berichtcode == "Du02"


def test_an_update_without_content_keeps_the_content(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    voeg_toe(soap, ident, zaak, b"blijft")
    checkout_id = bewerken(soap, ident).text("parameters/checkedOutId")
    assert update(soap, ident, checkout_id, nieuw_titel="Nieuwe titel").berichtcode == "Bv02"
    obj = one(lezen(soap, ident).payload, "antwoord", "object")
    assert base64.b64decode(one(obj, "inhoud").text) == b"blijft"
    assert one(obj, "titel").text == "Nieuwe titel"


def test_an_update_may_not_empty_the_minimal_metadata(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    voeg_toe(soap, ident, zaak)
    checkout_id = bewerken(soap, ident).text("parameters/checkedOutId")
    answer = update(soap, ident, checkout_id, extra_nieuw='<ZKN:auteur xsi:nil="true" StUF:noValue="geenWaarde"/>')
    assert_fault(answer, "StUF055")
    assert cancel(soap, ident, checkout_id).berichtcode == "Bv02", "the refused update left the checkout as it was"


def test_cancel_checkout_needs_the_right_id_and_ends_the_checkout(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    voeg_toe(soap, ident, zaak, b"ongewijzigd")
    checkout_id = bewerken(soap, ident).text("parameters/checkedOutId")
    assert_fault(cancel(soap, ident, "verkeerd"), "StUF058")
    assert cancel(soap, ident, checkout_id).berichtcode == "Bv02"
    assert_fault(cancel(soap, ident, checkout_id), "StUF058")  # not checked out any more
    assert_fault(update(soap, ident, checkout_id, content=b"te laat"), "StUF058")
    assert inhoud_van(lezen(soap, ident), "antwoord", "object") == b"ongewijzigd"


def test_checkout_without_scope_answers_the_whole_document_as_the_du02_type_demands(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    voeg_toe(soap, ident, zaak, b"schets", formaat=None)  # formaat empty, no link
    du02 = bewerken(soap, ident, scope=None)
    obj = one(du02.payload, "edcLa01", "antwoord", "object")
    # the Du02 type requires formaat and link with a value (no nil): they are answered empty
    assert one(obj, "formaat").get(f"{{{ns.XSI}}}nil") is None
    assert one(obj, "link").text in (None, "")
    assert base64.b64decode(one(obj, "inhoud").text) == b"schets"
    assert one(obj, "isRelevantVoor", "gerelateerde", "identificatie").text == zaak


def test_checking_out_an_unknown_document_is_refused_with_stuf064(soap):
    assert_fault(bewerken(soap, "1234ONBEKEND"), "StUF064")


def test_a_document_made_without_content_is_filled_through_checkout_and_update(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    bv03 = soap.call(ASYNC, d.maak_zaakdocument(ident, zaak), soap_action=d.ACTION["maakZaakdocument"])
    assert bv03.berichtcode == "Bv03"
    obj = one(lezen(soap, ident).payload, "antwoord", "object")
    assert one(obj, "inhoud").text in (None, "")
    assert one(obj, "inhoud").get(f"{{{ns.STUF}}}bestandsnaam") == "Besluitbrief"
    checkout_id = bewerken(soap, ident).text("parameters/checkedOutId")
    assert update(soap, ident, checkout_id, oud_titel="Besluitbrief", nieuw_titel="Besluitbrief",
                  content=b"het besluit", bestandsnaam="besluit.pdf").berichtcode == "Bv02"
    assert inhoud_van(lezen(soap, ident), "antwoord", "object") == b"het besluit"


# -- ontkoppelZaakdocument ---------------------------------------------------------------------
def test_ontkoppel_ends_the_relation_but_not_while_the_document_is_checked_out(soap):
    zaak = new_zaak(soap)
    ident = new_ident()
    voeg_toe(soap, ident, zaak, b"los")
    checkout_id = bewerken(soap, ident).text("parameters/checkedOutId")
    assert_fault(ontkoppel(soap, ident, new_zaak(soap)), "StUF064")  # not linked to that zaak
    assert_fault(ontkoppel(soap, ident, zaak), "StUF058")
    cancel(soap, ident, checkout_id)
    assert ontkoppel(soap, ident, zaak).berichtcode == "Bv02"
    rel = one(lijst(soap, zaak).payload, "antwoord", "object", "heeftRelevant")
    assert rel.get(f"{{{ns.XSI}}}nil") == "true"
    obj = one(lezen(soap, ident).payload, "antwoord", "object")
    assert not kids(obj, "isRelevantVoor"), "the document is kept, without its zaak"
    assert_fault(ontkoppel(soap, ident, zaak), "StUF064")
    assert_fault(voeg_toe(soap, ident, zaak), "StUF058"), "its identificatie stays in use"
