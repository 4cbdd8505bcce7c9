"""The whole ZDS 1.2 lifecycle with the ZGW adapter as the synchronous primary (translate mode), over
real HTTP: a legacy client talks ZDS to the broker, the broker talks to the loopback ZGW fake, and
every request and response at the fake is checked against the official OpenAPI specs."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.devtools.zgw_fake import SeededZaaktype, ZGWFake
from tests.support import besluit_messages as bm
from tests.support import document_messages as dm
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.support.soapcall import SoapAnswer

LARGE = 1024  # large_document_bytes of the target: larger documents go up in bestandsdelen


@pytest.fixture
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        yield server
        assert server.violations == [], server.violations
        assert server.auth_failures == [] and server.unsupported == []


@pytest.fixture
def zaaktype(fake: ZGWFake) -> SeededZaaktype:
    return zb.seed_shv(fake)


@pytest.fixture
def zgw(tmp_path: Path, fake: ZGWFake, zaaktype: SeededZaaktype, schemas) -> Iterator[zb.ZgwBroker]:
    config = zb.write_zgw_config(tmp_path, zb.translate_routes(fake, large_document_bytes=LARGE))
    with zb.start(tmp_path, config, schemas) as broker:
        yield broker


def ok(answer: SoapAnswer, berichtcode: str) -> SoapAnswer:
    assert answer.berichtcode == berichtcode, (answer.foutcode, answer.text("body/omschrijving"),
                                               answer.text("body/details"))
    return answer


def genereer(zgw: zb.ZgwBroker) -> str:
    answer = ok(zgw.soap.call("VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie(),
                              soap_action=zm.ACTION["genereer"]), "Du02")
    return answer.text("zaak/identificatie") or ""


def creeer(zgw: zb.ZgwBroker, ident: str, **kw: object) -> SoapAnswer:
    return zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak(ident, **kw), soap_action=zm.ACTION["creeer"])


def children_named(el, name: str) -> list:
    return [c for c in el.iter() if isinstance(c.tag, str) and c.tag.endswith("}" + name)]


def test_genereer_zaak_identificatie_follows_the_template_and_counts(zgw: zb.ZgwBroker) -> None:
    first, second = genereer(zgw), genereer(zgw)
    assert first.startswith("1234Z") and len(first) == len("1234Z2026000001")
    assert int(second[-6:]) == int(first[-6:]) + 1


def test_creeer_zaak_registers_zaak_rollen_status_kenmerken_and_zaakobject(
        zgw: zb.ZgwBroker, fake: ZGWFake, zaaktype: SeededZaaktype) -> None:
    ident = genereer(zgw)
    ok(creeer(zgw, ident), "Bv03")
    (zaak,) = fake.objects("zaken")
    assert zaak["identificatie"] == ident and zaak["bronorganisatie"] == zb.RSIN
    assert zaak["zaaktype"] == zaaktype.url
    assert zaak["vertrouwelijkheidaanduiding"] == "vertrouwelijk"  # the mapping of SHV
    assert zaak["kenmerken"] == [{"kenmerk": "FORM-17", "bron": "Formulieren"},
                                 {"kenmerk": "DOSSIER-9", "bron": "Dossiers"}]
    rollen = {r["betrokkeneType"]: r for r in fake.objects("rollen")}
    assert set(rollen) == {"natuurlijk_persoon", "niet_natuurlijk_persoon", "medewerker", "vestiging"}
    assert rollen["natuurlijk_persoon"]["roltype"] == zaaktype.roltypen["Aanvrager"]
    assert rollen["natuurlijk_persoon"]["betrokkeneIdentificatie"]["inpBsn"] == zm.BSN
    assert rollen["medewerker"]["roltype"] == zaaktype.roltypen["Schuldhulpverlener"]
    assert rollen["niet_natuurlijk_persoon"]["omschrijvingGeneriek"] == "belanghebbende"
    assert rollen["vestiging"]["omschrijvingGeneriek"] == "adviseur"
    (status,) = fake.objects("statussen")
    assert status["statustype"] == zaaktype.statustypen[1]
    (zaakobject,) = fake.objects("zaakobjecten")
    assert zaakobject["objectTypeOverige"] == "adres" and zaakobject["relatieomschrijving"] == "woonadres"
    creeer_again = creeer(zgw, ident)
    assert creeer_again.foutcode == "StUF058" and "bestaat al" in (creeer_again.text("body/omschrijving") or "")


def test_update_zaak_and_statussen_up_to_the_eindstatus_with_resultaat(
        zgw: zb.ZgwBroker, fake: ZGWFake, zaaktype: SeededZaaktype) -> None:
    ident = genereer(zgw)
    ok(creeer(zgw, ident), "Bv03")
    update = zm.update_zaak(
        ident,
        '<ZKN:toelichting>Via het formulier</ZKN:toelichting>'
        '<ZKN:heeftAlsGemachtigde StUF:entiteittype="ZAKBTRGMC" StUF:verwerkingssoort="T" xsi:nil="true"/>'
        + zm.rol("heeftAlsUitvoerende", "medewerker", "V"),
        '<ZKN:toelichting>Na het intakegesprek</ZKN:toelichting>'
        + zm.rol("heeftAlsGemachtigde", "natuurlijkPersoon", "T")
        + '<ZKN:heeftAlsUitvoerende StUF:entiteittype="ZAKBTRUTV" StUF:verwerkingssoort="V" xsi:nil="true"/>')
    ok(zgw.soap.call("OntvangAsynchroon", update, soap_action=zm.ACTION["update"]), "Bv03")
    (zaak,) = fake.objects("zaken")
    assert zaak["toelichting"] == "Na het intakegesprek"
    kinds = sorted((r["betrokkeneType"], r.get("indicatieMachtiging", "")) for r in fake.objects("rollen"))
    assert ("medewerker", "") not in kinds and ("natuurlijk_persoon", "gemachtigde") in kinds

    ok(zgw.soap.call("OntvangAsynchroon", zm.actualiseer_zaakstatus(
        ident, zm.heeft("SHV-2", "Intake afgerond", "2", toelichting="intake gedaan")),
        soap_action=zm.ACTION["status"]), "Bv03")
    laatste = ok(zgw.soap.call("BeantwoordVraag", zm.geef_zaakstatus(ident),
                               soap_action=zm.ACTION["zaakstatus"]), "La01")
    statussen = children_named(laatste.payload, "heeft")
    assert len(statussen) == 1 and laatste.text("antwoord/object/heeft/gerelateerde/omschrijving") == "Intake afgerond"
    assert laatste.text("antwoord/object/heeft/indicatieLaatsteStatus") == "J"

    ok(zgw.soap.call("OntvangAsynchroon", zm.actualiseer_zaakstatus(ident, zm.heeft("SHV-4", "Zaak afgerond", "4")),
                     soap_action=zm.ACTION["status"]), "Bv03")
    (zaak,) = fake.objects("zaken")
    assert zaak["einddatum"] is not None
    (resultaat,) = fake.objects("resultaten")
    assert resultaat["resultaattype"] == zaaktype.resultaattypen["Afgehandeld"]  # the mapping's resultaat
    details = ok(zgw.soap.call("BeantwoordVraag", zm.geef_zaakdetails(ident), soap_action=zm.ACTION["details"]),
                 "La01")
    assert details.text("antwoord/object/einddatum") == zaak["einddatum"].replace("-", "")
    assert details.text("antwoord/object/resultaat/omschrijving") == "Afgehandeld"
    assert details.text("antwoord/object/toelichting") == "Na het intakegesprek"
    assert [c.text for c in children_named(details.payload, "indicatieLaatsteStatus")] == ["N", "N", "J"]
    assert details.text("antwoord/object/heeft/toelichting") is None
    assert [c.text for c in children_named(details.payload, "toelichting")].count("intake gedaan") == 1


def test_documents_inline_and_in_bestandsdelen_come_back_byte_for_byte(
        zgw: zb.ZgwBroker, fake: ZGWFake) -> None:
    ident = genereer(zgw)
    ok(creeer(zgw, ident), "Bv03")
    small, large = b"%PDF-1.4 klein", bytes(range(256)) * 10 + b"einde"
    fake.chunk_size = 700
    ok(zgw.soap.call("OntvangAsynchroon", dm.voeg_zaakdocument_toe("DOC-KLEIN", ident, small),
                     soap_action=dm.ACTION["voegZaakdocumentToe"]), "Bv03")
    ok(zgw.soap.call("OntvangAsynchroon", dm.voeg_zaakdocument_toe("DOC-GROOT", ident, large, bestandsnaam="scan.pdf",
                                                                   relatie_titel="Scan van de aanvraag"),
                     soap_action=dm.ACTION["voegZaakdocumentToe"]), "Bv03")
    puts = fake.calls("PUT", "/bestandsdelen/")
    assert len(puts) == -(-len(large) // 700)  # one PUT per part
    assert len(fake.calls("POST", "/unlock")) == 1  # only the large document was locked
    docs = {d["identificatie"]: d for d in fake.objects("enkelvoudiginformatieobjecten")}
    assert fake.document_content(docs["DOC-GROOT"]["url"]) == large
    assert docs["DOC-KLEIN"]["locked"] is False and docs["DOC-GROOT"]["locked"] is False
    assert docs["DOC-GROOT"]["vertrouwelijkheidaanduiding"] == "vertrouwelijk"
    links = fake.objects("zaakinformatieobjecten")
    assert len(links) == 2 and {z["titel"] for z in links} == {"", "Scan van de aanvraag"}

    for doc_id, content in (("DOC-KLEIN", small), ("DOC-GROOT", large)):
        lezen = ok(zgw.soap.call("BeantwoordVraag", dm.geef_zaakdocument_lezen(doc_id),
                                 soap_action=dm.ACTION["geefZaakdocumentLezen"]), "La01")
        assert base64.b64decode(lezen.text("antwoord/object/inhoud") or "") == content
    lijst = ok(zgw.soap.call("BeantwoordVraag", dm.geef_lijst_zaakdocumenten(ident),
                             soap_action=dm.ACTION["geefLijstZaakdocumenten"]), "La01")
    assert [e.text for e in children_named(lijst.payload, "identificatie")][1:] == ["DOC-GROOT", "DOC-KLEIN"]


def test_a_document_kept_in_the_file_store_goes_up_part_by_part_from_there(zgw: zb.ZgwBroker, fake: ZGWFake,
                                                                           tmp_path: Path) -> None:
    """Content above the edge's threshold (1 MiB) reaches the adapter as a reference to the file store
    (broker.store.blobs); the bestandsdelen are read from the file one by one. Read back, it is
    downloaded into the file store and streamed to the client."""
    ident = genereer(zgw)
    ok(creeer(zgw, ident), "Bv03")
    content = bytes(range(256)) * (3 * 4096) + b"einde"  # 3 MiB and a bit
    fake.chunk_size = 1024 * 1024
    ok(zgw.soap.call("OntvangAsynchroon", dm.voeg_zaakdocument_toe("DOC-STORE", ident, content),
                     soap_action=dm.ACTION["voegZaakdocumentToe"]), "Bv03")
    assert len(fake.calls("PUT", "/bestandsdelen/")) == 4
    docs = {d["identificatie"]: d for d in fake.objects("enkelvoudiginformatieobjecten")}
    assert fake.document_content(docs["DOC-STORE"]["url"]) == content
    stored = tmp_path / "var" / "files" / hashlib.sha256(content).hexdigest()[:2] / hashlib.sha256(content).hexdigest()
    stored.unlink()  # what the edge wrote on the way in; reading back must write it again
    lezen = ok(zgw.soap.call("BeantwoordVraag", dm.geef_zaakdocument_lezen("DOC-STORE"),
                             soap_action=dm.ACTION["geefZaakdocumentLezen"]), "La01")
    assert base64.b64decode(lezen.text("antwoord/object/inhoud") or "") == content
    assert stored.read_bytes() == content


def test_checkout_update_and_cancel_are_lock_and_unlock(zgw: zb.ZgwBroker, fake: ZGWFake) -> None:
    ident = genereer(zgw)
    ok(creeer(zgw, ident), "Bv03")
    ok(zgw.soap.call("OntvangAsynchroon", dm.maak_zaakdocument("DOC-1", ident),
                     soap_action=dm.ACTION["maakZaakdocument"]), "Bv03")
    bewerken = ok(zgw.soap.call("VerwerkSynchroonVrijBericht", dm.geef_zaakdocument_bewerken("DOC-1"),
                                soap_action=dm.ACTION["geefZaakdocumentbewerken"]), "Du02")
    lock = bewerken.text("parameters/checkedOutId")
    (doc,) = fake.objects("enkelvoudiginformatieobjecten")
    assert lock and doc["locked"] is True
    again = zgw.soap.call("VerwerkSynchroonVrijBericht", dm.geef_zaakdocument_bewerken("DOC-1"),
                          soap_action=dm.ACTION["geefZaakdocumentbewerken"])
    assert again.foutcode == "StUF058"
    wrong = zgw.soap.call("VerwerkSynchroonVrijBericht", dm.update_zaakdocument(
        "DOC-1", "een-andere-id", oud_titel="Besluitbrief", nieuw_titel="Besluitbrief v2"),
        soap_action=dm.ACTION["updateZaakdocument"])
    assert wrong.foutcode == "StUF058" and "checkout-id" in (wrong.text("body/omschrijving") or "")
    ok(zgw.soap.call("VerwerkSynchroonVrijBericht", dm.update_zaakdocument(
        "DOC-1", lock, oud_titel="Besluitbrief", nieuw_titel="Besluitbrief v2", content=b"versie 2"),
        soap_action=dm.ACTION["updateZaakdocument"]), "Bv02")
    (doc,) = fake.objects("enkelvoudiginformatieobjecten")
    assert doc["locked"] is False and doc["titel"] == "Besluitbrief v2" and doc["versie"] == 2
    assert fake.document_content(doc["url"]) == b"versie 2"

    lock = ok(zgw.soap.call("VerwerkSynchroonVrijBericht", dm.geef_zaakdocument_bewerken("DOC-1"),
                            soap_action=dm.ACTION["geefZaakdocumentbewerken"]), "Du02").text("parameters/checkedOutId")
    ok(zgw.soap.call("VerwerkSynchroonVrijBericht", dm.cancel_checkout("DOC-1", lock),
                     soap_action=dm.ACTION["cancelCheckout"]), "Bv02")
    (doc,) = fake.objects("enkelvoudiginformatieobjecten")
    assert doc["locked"] is False and doc["versie"] == 2  # cancelCheckout makes no new version
    not_out = zgw.soap.call("VerwerkSynchroonVrijBericht", dm.cancel_checkout("DOC-1", lock),
                            soap_action=dm.ACTION["cancelCheckout"])
    assert not_out.foutcode == "StUF058"
    ok(zgw.soap.call("VerwerkSynchroonVrijBericht", dm.ontkoppel_zaakdocument("DOC-1", ident),
                     soap_action=dm.ACTION["ontkoppelZaakdocument"]), "Bv02")
    assert fake.objects("zaakinformatieobjecten") == []


def test_besluiten_in_the_besluiten_api(zgw: zb.ZgwBroker, fake: ZGWFake, zaaktype: SeededZaaktype) -> None:
    ident = genereer(zgw)
    ok(creeer(zgw, ident), "Bv03")
    ok(zgw.soap.call("OntvangAsynchroon", dm.voeg_zaakdocument_toe("DOC-B", ident),
                     soap_action=dm.ACTION["voegZaakdocumentToe"]), "Bv03")
    besluit = ok(zgw.soap.call("VerwerkSynchroonVrijBericht", bm.genereer_besluit_identificatie(),
                               soap_action=bm.ACTIONS["genereer"]), "Du02").text("besluit/identificatie")
    assert besluit and besluit.startswith("1234B")
    ok(zgw.soap.call("OntvangAsynchroon", bm.voeg_besluit_toe(besluit, ident, documenten=("DOC-B",),
                                                               bst_omschrijving="Beschikking"),
                     soap_action=bm.ACTIONS["voeg"]), "Bv03")
    (stored,) = fake.objects("besluiten")
    assert stored["besluittype"] == zaaktype.besluittypen["Beschikking"] and stored["toelichting"]
    assert len(fake.objects("besluitinformatieobjecten")) == 1
    ok(zgw.soap.call("OntvangAsynchroon", bm.update_besluit(
        besluit, "<ZKN:toelichting>Schuldregeling toegekend</ZKN:toelichting>" + bm.vastgelegd_in("DOC-B", "V"),
        "<ZKN:toelichting>Aangepast</ZKN:toelichting>" + bm.placeholder("V")),
        soap_action=bm.ACTIONS["update"]), "Bv03")
    (stored,) = fake.objects("besluiten")
    assert stored["toelichting"] == "Aangepast" and fake.objects("besluitinformatieobjecten") == []
    details = ok(zgw.soap.call("BeantwoordVraag", bm.geef_besluitdetails(besluit),
                               soap_action=bm.ACTIONS["details"]), "La01")
    assert details.text("antwoord/object/bst.omschrijving") == "Beschikking"
    assert details.text("antwoord/object/isUitkomstVan/gerelateerde/identificatie") == ident
    lijst = ok(zgw.soap.call("BeantwoordVraag", bm.geef_lijst_besluiten(ident), soap_action=bm.ACTIONS["lijst"]),
               "La01")
    assert lijst.text("antwoord/object/leidtTot/gerelateerde/identificatie") == besluit
    unknown = ok(zgw.soap.call("BeantwoordVraag", bm.geef_besluitdetails("ONBEKEND"),
                               soap_action=bm.ACTIONS["details"]), "La01")
    assert unknown.text("antwoord") is None


def test_queries_on_an_unknown_zaak_answer_no_object(zgw: zb.ZgwBroker) -> None:
    for message, action in ((zm.geef_zaakdetails("1234ONBEKEND"), zm.ACTION["details"]),
                            (zm.geef_zaakstatus("1234ONBEKEND"), zm.ACTION["zaakstatus"]),
                            (dm.geef_lijst_zaakdocumenten("1234ONBEKEND"), dm.ACTION["geefLijstZaakdocumenten"]),
                            (dm.geef_zaakdocument_lezen("ONBEKEND"), dm.ACTION["geefZaakdocumentLezen"])):
        answer = ok(zgw.soap.call("BeantwoordVraag", message, soap_action=action), "La01")
        assert answer.text("antwoord") is None


def test_a_large_new_version_goes_up_in_bestandsdelen_under_the_checkout_lock(zgw: zb.ZgwBroker,
                                                                               fake: ZGWFake) -> None:
    ident = genereer(zgw)
    ok(creeer(zgw, ident), "Bv03")
    ok(zgw.soap.call("OntvangAsynchroon", dm.voeg_zaakdocument_toe("DOC-V", ident, b"versie 1"),
                     soap_action=dm.ACTION["voegZaakdocumentToe"]), "Bv03")
    lock = ok(zgw.soap.call("VerwerkSynchroonVrijBericht", dm.geef_zaakdocument_bewerken("DOC-V"),
                            soap_action=dm.ACTION["geefZaakdocumentbewerken"]), "Du02").text("parameters/checkedOutId")
    fake.chunk_size = 1000
    large = b"0123456789" * 350
    ok(zgw.soap.call("VerwerkSynchroonVrijBericht", dm.update_zaakdocument(
        "DOC-V", lock, oud_titel="Ontvangstbevestiging", nieuw_titel="Ontvangstbevestiging v2", content=large),
        soap_action=dm.ACTION["updateZaakdocument"]), "Bv02")
    assert len(fake.calls("PUT", "/bestandsdelen/")) == 4
    (doc,) = fake.objects("enkelvoudiginformatieobjecten")
    assert doc["locked"] is False and doc["versie"] == 2 and fake.document_content(doc["url"]) == large
    lezen = ok(zgw.soap.call("BeantwoordVraag", dm.geef_zaakdocument_lezen("DOC-V"),
                             soap_action=dm.ACTION["geefZaakdocumentLezen"]), "La01")
    assert base64.b64decode(lezen.text("antwoord/object/inhoud") or "") == large
    assert lezen.text("antwoord/object/titel") == "Ontvangstbevestiging v2"


def test_a_rol_keeps_the_verblijfsadres_rechtsvorm_and_contactpersoon_the_zaken_api_has_a_place_for(
        zgw: zb.ZgwBroker, fake: ZGWFake) -> None:
    ident = genereer(zgw)
    adres = ("<BG:verblijfsadres><BG:aoa.identificatie>0599200000000001</BG:aoa.identificatie>"
             "<BG:wpl.woonplaatsNaam>Rotterdam</BG:wpl.woonplaatsNaam>"
             "<BG:gor.openbareRuimteNaam>Coolsingel</BG:gor.openbareRuimteNaam>"
             "<BG:aoa.postcode>3011AD</BG:aoa.postcode><BG:aoa.huisnummer>40</BG:aoa.huisnummer>"
             "<BG:aoa.huisletter>B</BG:aoa.huisletter></BG:verblijfsadres>")
    contact = ('<ZKN:heeftAlsAanspreekpunt StUF:entiteittype="ZAKBTRINICTP" StUF:verwerkingssoort="T">'
               '<ZKN:gerelateerde StUF:entiteittype="CTP" StUF:verwerkingssoort="I">'
               "<ZKN:identificatie>CTP-1</ZKN:identificatie><ZKN:naam>Piet de Vries</ZKN:naam>"
               "<ZKN:telefoonnummer>0101234567</ZKN:telefoonnummer></ZKN:gerelateerde></ZKN:heeftAlsAanspreekpunt>")
    initiator = zm.rol("heeftAlsInitiator", "natuurlijkPersoon").replace(
        "</ZKN:natuurlijkPersoon>", adres + "</ZKN:natuurlijkPersoon>").replace(
        "</ZKN:heeftAlsInitiator>", contact + "</ZKN:heeftAlsInitiator>")
    belanghebbende = zm.rol("heeftAlsBelanghebbende", "nietNatuurlijkPersoon").replace(
        "</BG:statutaireNaam>", "</BG:statutaireNaam><BG:inn.rechtsvorm>Stichting</BG:inn.rechtsvorm>")
    message = zm.creeer_zaak(ident, rollen={}).replace(
        '<ZKN:heeft StUF:entiteittype="ZAKSTT"', belanghebbende + initiator + '<ZKN:heeft StUF:entiteittype="ZAKSTT"')
    ok(zgw.soap.call("OntvangAsynchroon", message, soap_action=zm.ACTION["creeer"]), "Bv03")

    rollen = {r["betrokkeneType"]: r for r in fake.objects("rollen")}
    persoon = rollen["natuurlijk_persoon"]
    assert persoon["betrokkeneIdentificatie"]["verblijfsadres"] == {
        "aoaIdentificatie": "0599200000000001", "wplWoonplaatsNaam": "Rotterdam",
        "gorOpenbareRuimteNaam": "Coolsingel", "aoaPostcode": "3011AD", "aoaHuisnummer": 40, "aoaHuisletter": "B"}
    assert persoon["contactpersoonRol"]["naam"] == "Piet de Vries"
    assert persoon["contactpersoonRol"]["telefoonnummer"] == "0101234567"
    assert rollen["niet_natuurlijk_persoon"]["betrokkeneIdentificatie"]["innRechtsvorm"] == "stichting"

    details = ok(zgw.soap.call("BeantwoordVraag", zm.geef_zaakdetails(ident), soap_action=zm.ACTION["details"]),
                 "La01")
    nps = "antwoord/object/heeftAlsInitiator/gerelateerde/natuurlijkPersoon/verblijfsadres"
    assert details.text(f"{nps}/aoa.huisnummer") == "40" and details.text(f"{nps}/aoa.huisletter") == "B"
    assert details.text(f"{nps}/gor.openbareRuimteNaam") == "Coolsingel"
    ctp = "antwoord/object/heeftAlsInitiator/heeftAlsAanspreekpunt/gerelateerde"
    assert details.text(f"{ctp}/naam") == "Piet de Vries" and details.text(f"{ctp}/telefoonnummer") == "0101234567"
    assert details.text(f"{ctp}/identificatie") is None  # contactpersoonRol has no place for it
    nnp = "antwoord/object/heeftAlsBelanghebbende/gerelateerde/nietNatuurlijkPersoon"
    assert details.text(f"{nnp}/inn.rechtsvorm") == "Stichting"
