"""The besluit services of ZDS 1.2 (§4.1.7-4.1.11) on the embedded zaaksysteem, over real HTTP.

Every answer is validated against the official schemas by the ``soap`` fixture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from lxml import etree
from sqlalchemy import func, select

from broker.adapters.embedded.tables import ZsBesluit, ZsBesluitDocument, ZsDocument, ZsZaak
from broker.stuf import ns
from tests.support import besluit_messages as b
from tests.support import messages as m
from tests.support.live import LiveBroker
from tests.support.soapcall import SoapAnswer, SoapCaller

ASYNC, VRAAG, VRIJ = "OntvangAsynchroon", "BeantwoordVraag", "VerwerkSynchroonVrijBericht"


# -- helpers ---------------------------------------------------------------------------------------
def _find(parent: etree._Element, *path: str) -> etree._Element | None:
    el: etree._Element | None = parent
    for part in path:
        el = next((c for c in el if isinstance(c.tag, str) and ns.local(c.tag) == part), None)
        if el is None:
            return None
    return el


def _el(answer: SoapAnswer, path: str) -> etree._Element | None:
    return _find(answer.payload, *path.split("/"))


def _all(parent: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str) and ns.local(c.tag) == name]


def _names(parent: etree._Element) -> list[str]:
    return [ns.local(c.tag) for c in parent if isinstance(c.tag, str)]


def _text(parent: etree._Element, *path: str) -> str | None:
    el = _find(parent, *path)
    return None if el is None else (el.text or "").strip()


def _documenten(obj: etree._Element) -> list[str | None]:
    return [_text(r, "gerelateerde", "identificatie") for r in _all(obj, "isVastgelegdIn")]


def _ok(answer: SoapAnswer) -> None:
    assert answer.berichtcode == "Bv03", answer.content


def _fout(answer: SoapAnswer, code: str) -> None:
    assert answer.is_fault, answer.content
    assert answer.berichtcode == "Fo03"
    assert answer.foutcode == code, answer.content


def _genereer(soap: SoapCaller, functie: str, element: str, part: str) -> str:
    body = f"<ZDS:{element} {m.NSDECL}>{m.stuurgegevens('ZDS', 'Di02', functie=functie)}</ZDS:{element}>"
    du02 = soap.call(VRIJ, body, soap_action=m.ZDS_ACTION + element)
    assert du02.berichtcode == "Du02", du02.content
    return du02.text(f"{part}/identificatie")


def _zaak(soap: SoapCaller) -> str:
    ident = _genereer(soap, "genereerZaakidentificatie", "genereerZaakIdentificatie_Di02", "zaak")
    _ok(soap.call(ASYNC, m.creeer_zaak(ident), soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01"))
    return ident


def _document(soap: SoapCaller, live_broker: LiveBroker, zaak: str, titel: str) -> str:
    """A registered document: through voegZaakdocumentToe once that service exists, else straight in the table."""
    ident = _genereer(soap, "genereerDocumentidentificatie", "genereerDocumentIdentificatie_Di02", "document")
    if "voegZaakdocumentToe" in live_broker.broker.handlers:
        _ok(soap.call(ASYNC, b.voeg_zaakdocument_toe(ident, zaak, titel=titel), soap_action=b.ACTIONS["document"]))
        return ident
    now = datetime.now(UTC)
    with live_broker.broker.db.write() as session:
        zaak_id = session.execute(select(ZsZaak.id).where(ZsZaak.identificatie == zaak)).scalar_one()
        session.add(ZsDocument(
            identificatie=ident, zaak_id=zaak_id, documenttype="Besluit", titel=titel, created_at=now, updated_at=now,
            stuf_xml=(f'<ZKN:object xmlns:ZKN="{ns.ZKN}" xmlns:StUF="{ns.STUF}" StUF:entiteittype="EDC">'
                      f"<ZKN:identificatie>{ident}</ZKN:identificatie>"
                      "<ZKN:dct.omschrijving>Besluit</ZKN:dct.omschrijving>"
                      f"<ZKN:creatiedatum>{m.today()}</ZKN:creatiedatum><ZKN:titel>{titel}</ZKN:titel>"
                      "<ZKN:formaat>pdf</ZKN:formaat><ZKN:taal>nld</ZKN:taal>"
                      "<ZKN:vertrouwelijkAanduiding>OPENBAAR</ZKN:vertrouwelijkAanduiding>"
                      "<ZKN:auteur>Gemeente</ZKN:auteur></ZKN:object>"),
        ))
    return ident


def _details(soap: SoapCaller, ident: str, scope: str = b.ALLES) -> SoapAnswer:
    la01 = soap.call(VRAAG, b.geef_besluitdetails(ident, scope), soap_action=b.ACTIONS["details"])
    assert la01.berichtcode == "La01", la01.content
    return la01


def _count(live_broker: LiveBroker, table: type) -> int:
    with live_broker.broker.db.read() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


@dataclass
class Scenario:
    zaak: str
    besluit: str
    docs: list[str]


@pytest.fixture
def scenario(soap: SoapCaller, live_broker: LiveBroker) -> Scenario:
    """A zaak with three documents and a besluit vastgelegd in the first two."""
    zaak = _zaak(soap)
    docs = [_document(soap, live_broker, zaak, f"Besluitbrief {i}") for i in (1, 2, 3)]
    besluit = _genereer(soap, "genereerBesluitidentificatie", "genereerBesluitIdentificatie_Di02", "besluit")
    _ok(soap.call(ASYNC, b.voeg_besluit_toe(besluit, zaak, documenten=(docs[1], docs[0])),
                  soap_action=b.ACTIONS["voeg"]))
    return Scenario(zaak, besluit, docs)


# -- genereerBesluitIdentificatie (§4.1.9) -------------------------------------------------------
def test_genereer_besluit_identificatie_geeft_elke_keer_een_nieuwe(soap: SoapCaller) -> None:
    first = soap.call(VRIJ, b.genereer_besluit_identificatie(), soap_action=b.ACTIONS["genereer"])
    assert first.berichtcode == "Du02"
    assert first.text("stuurgegevens/functie") == "genereerBesluitidentificatie"
    assert _el(first, "besluit").get(f"{{{ns.STUF}}}entiteittype") == "BSL"
    second = soap.call(VRIJ, b.genereer_besluit_identificatie(), soap_action=b.ACTIONS["genereer"])
    assert first.text("besluit/identificatie").startswith("1234")
    assert first.text("besluit/identificatie") != second.text("besluit/identificatie")


def test_genereer_besluit_identificatie_slaat_een_identificatie_in_gebruik_over(soap: SoapCaller) -> None:
    zaak = _zaak(soap)
    first = _genereer(soap, "genereerBesluitidentificatie", "genereerBesluitIdentificatie_Di02", "besluit")
    taken = f"{first[:-6]}{int(first[-6:]) + 1:06d}"  # what the generator would hand out next
    _ok(soap.call(ASYNC, b.voeg_besluit_toe(taken, zaak), soap_action=b.ACTIONS["voeg"]))
    nxt = _genereer(soap, "genereerBesluitidentificatie", "genereerBesluitIdentificatie_Di02", "besluit")
    assert nxt not in (first, taken)


# -- voegBesluitToe (§4.1.7) and geefBesluitdetails (§4.1.10) -------------------------------------
def test_voeg_besluit_toe_registreert_besluit_met_zaak_en_documenten(soap: SoapCaller, scenario: Scenario) -> None:
    obj = _el(_details(soap, scenario.besluit), "antwoord/object")
    assert _text(obj, "identificatie") == scenario.besluit
    assert _text(obj, "bst.omschrijving") == "Toekenning"
    assert _text(obj, "toelichting") == "Schuldregeling toegekend"
    assert _text(obj, "datumBeslissing") == m.today()
    assert _text(obj, "isUitkomstVan", "gerelateerde", "identificatie") == scenario.zaak
    assert _documenten(obj) == sorted(scenario.docs[:2])  # sorted on identificatie, as the schema says
    first = _all(obj, "isVastgelegdIn")[0]
    assert _text(first, "gerelateerde", "titel") == "Besluitbrief 1"


def test_geef_besluitdetails_met_elementenscope_geeft_alleen_wat_gevraagd_is(soap: SoapCaller,
                                                                             scenario: Scenario) -> None:
    obj = _el(_details(soap, scenario.besluit, b.ELEMENT_SCOPE), "antwoord/object")
    assert _names(obj) == ["identificatie", "datumBeslissing", "ingangsdatumWerking", "tijdvakGeldigheid",
                           "isUitkomstVan"]
    assert _names(_find(obj, "isUitkomstVan", "gerelateerde")) == ["identificatie"]


def test_geef_besluitdetails_kerngegevens_vult_aan_wat_het_antwoord_verplicht_stelt(soap: SoapCaller,
                                                                                    scenario: Scenario) -> None:
    scope = '<ZKN:object StUF:entiteittype="BSL" StUF:scope="kerngegevens"/>'
    obj = _el(_details(soap, scenario.besluit, scope), "antwoord/object")
    assert _names(obj) == ["identificatie", "bst.omschrijving", "datumBeslissing", "ingangsdatumWerking",
                           "tijdvakGeldigheid", "isUitkomstVan"]


def test_besluit_zonder_tijdvak_is_geldig_sinds_de_datum_van_beslissing(soap: SoapCaller) -> None:
    zaak = _zaak(soap)
    _ok(soap.call(ASYNC, b.voeg_besluit_toe("1234BZONDERTIJDVAK", zaak, tijdvak=False, datum="20250102"),
                  soap_action=b.ACTIONS["voeg"]))
    obj = _el(_details(soap, "1234BZONDERTIJDVAK"), "antwoord/object")
    assert _text(obj, "tijdvakGeldigheid", "beginGeldigheid") == "20250102"
    eind = _el(_details(soap, "1234BZONDERTIJDVAK"), "antwoord/object/tijdvakGeldigheid/eindGeldigheid")
    assert eind.get(f"{{{ns.STUF}}}noValue") == "geenWaarde"


def test_geef_besluitdetails_van_onbekend_besluit_is_een_leeg_antwoord(soap: SoapCaller) -> None:
    la01 = _details(soap, "1234BBESTAATNIET")
    assert _el(la01, "antwoord") is None


def test_voeg_besluit_toe_met_zaak_als_t_zoals_het_stp_stuurt_wordt_aanvaard(soap: SoapCaller) -> None:
    zaak = _zaak(soap)
    _ok(soap.call(ASYNC, b.voeg_besluit_toe("1234BZAAKT", zaak, zaak_verwerkingssoort="T"),
                  soap_action=b.ACTIONS["voeg"]))
    assert _el(_details(soap, "1234BZAAKT"), "antwoord/object") is not None


# -- updateBesluit (§4.1.8) -----------------------------------------------------------------------
def _update(scenario: Scenario) -> str:
    d1, d2, d3 = scenario.docs
    oud = ("<ZKN:bst.omschrijving>Toekenning</ZKN:bst.omschrijving>"
           "<ZKN:toelichting>Schuldregeling toegekend</ZKN:toelichting>"
           + b.vastgelegd_in(d1, "I") + b.vastgelegd_in(d2, "V") + b.placeholder("T"))
    nieuw = ("<ZKN:bst.omschrijving>Gedeeltelijke toekenning</ZKN:bst.omschrijving>"
             "<ZKN:toelichting>Toegekend na bezwaar</ZKN:toelichting>"
             + b.vastgelegd_in(d1, "I", titel="andere titel") + b.placeholder("V") + b.vastgelegd_in(d3, "T"))
    return b.update_besluit(scenario.besluit, oud, nieuw)


def test_update_besluit_wijzigt_attributen_en_documenten(soap: SoapCaller, scenario: Scenario) -> None:
    _ok(soap.call(ASYNC, _update(scenario), soap_action=b.ACTIONS["update"]))
    obj = _el(_details(soap, scenario.besluit), "antwoord/object")
    assert _text(obj, "bst.omschrijving") == "Gedeeltelijke toekenning"
    assert _text(obj, "toelichting") == "Toegekend na bezwaar"
    assert _text(obj, "datumBeslissing") == m.today()  # untouched
    assert _documenten(obj) == sorted([scenario.docs[0], scenario.docs[2]])
    # verwerkingssoort I only identifies: the document keeps its own titel
    assert [_text(r, "gerelateerde", "titel") for r in _all(obj, "isVastgelegdIn")][0] == "Besluitbrief 1"


def test_update_besluit_dat_niet_bestaat_geeft_stuf064(soap: SoapCaller) -> None:
    msg = b.update_besluit("1234BBESTAATNIET", "<ZKN:toelichting>a</ZKN:toelichting>",
                           "<ZKN:toelichting>b</ZKN:toelichting>")
    _fout(soap.call(ASYNC, msg, soap_action=b.ACTIONS["update"]), "StUF064")


def test_mislukte_update_laat_het_besluit_ongewijzigd(soap: SoapCaller, scenario: Scenario) -> None:
    msg = b.update_besluit(scenario.besluit,
                           "<ZKN:toelichting>Schuldregeling toegekend</ZKN:toelichting>" + b.placeholder("T"),
                           "<ZKN:toelichting>gewijzigd</ZKN:toelichting>" + b.vastgelegd_in("1234DBESTAATNIET", "T"))
    _fout(soap.call(ASYNC, msg, soap_action=b.ACTIONS["update"]), "StUF064")
    obj = _el(_details(soap, scenario.besluit), "antwoord/object")
    assert _text(obj, "toelichting") == "Schuldregeling toegekend"
    assert _documenten(obj) == sorted(scenario.docs[:2])


def test_verwijderen_van_een_niet_gekoppeld_document_geeft_stuf064(soap: SoapCaller, scenario: Scenario) -> None:
    msg = b.update_besluit(scenario.besluit, b.vastgelegd_in(scenario.docs[2], "V"), b.placeholder("V"))
    _fout(soap.call(ASYNC, msg, soap_action=b.ACTIONS["update"]), "StUF064")


def test_relatie_zonder_lege_tegenhanger_geeft_stuf055(soap: SoapCaller, scenario: Scenario) -> None:
    msg = b.update_besluit(scenario.besluit, "", b.vastgelegd_in(scenario.docs[2], "T"))
    _fout(soap.call(ASYNC, msg, soap_action=b.ACTIONS["update"]), "StUF055")


# -- geefLijstBesluiten (§4.1.11) and geefZaakdetails ---------------------------------------------
def test_geef_lijst_besluiten_toont_de_besluiten_van_de_zaak(soap: SoapCaller, scenario: Scenario) -> None:
    _ok(soap.call(ASYNC, _update(scenario), soap_action=b.ACTIONS["update"]))
    tweede = "1234BTWEEDE"
    _ok(soap.call(ASYNC, b.voeg_besluit_toe(tweede, scenario.zaak, toelichting=None), soap_action=b.ACTIONS["voeg"]))
    la01 = soap.call(VRAAG, b.geef_lijst_besluiten(scenario.zaak), soap_action=b.ACTIONS["lijst"])
    assert la01.berichtcode == "La01", la01.content
    obj = _el(la01, "antwoord/object")
    assert _text(obj, "identificatie") == scenario.zaak
    rels = _all(obj, "leidtTot")
    assert [_text(r, "gerelateerde", "identificatie") for r in rels] == sorted([scenario.besluit, tweede])
    mine = next(r for r in rels if _text(r, "gerelateerde", "identificatie") == scenario.besluit)
    assert _text(mine, "gerelateerde", "toelichting") == "Toegekend na bezwaar"
    assert _names(_el(la01, "antwoord/object/leidtTot/gerelateerde")) == [
        "identificatie", "bst.omschrijving", "datumBeslissing", "toelichting", "ingangsdatumWerking"]


def test_geef_lijst_besluiten_kerngegevens_van_de_besluiten(soap: SoapCaller, scenario: Scenario) -> None:
    scope = ('<ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/>'
             '<ZKN:leidtTot StUF:entiteittype="ZAKBSL" xsi:nil="true"/></ZKN:object>')
    la01 = soap.call(VRAAG, b.geef_lijst_besluiten(scenario.zaak, scope), soap_action=b.ACTIONS["lijst"])
    assert la01.berichtcode == "La01", la01.content
    assert _names(_el(la01, "antwoord/object/leidtTot/gerelateerde")) == [
        "identificatie", "bst.omschrijving", "datumBeslissing", "ingangsdatumWerking"]


def test_geef_lijst_besluiten_van_zaak_zonder_besluiten_en_van_onbekende_zaak(soap: SoapCaller) -> None:
    zaak = _zaak(soap)
    zonder = soap.call(VRAAG, b.geef_lijst_besluiten(zaak), soap_action=b.ACTIONS["lijst"])
    assert _names(_el(zonder, "antwoord/object")) == ["identificatie"]
    onbekend = soap.call(VRAAG, b.geef_lijst_besluiten("1234ZBESTAATNIET"), soap_action=b.ACTIONS["lijst"])
    assert onbekend.berichtcode == "La01"
    assert _el(onbekend, "antwoord") is None


def test_geef_zaakdetails_alles_toont_besluiten_als_leidt_tot(soap: SoapCaller, scenario: Scenario) -> None:
    la01 = soap.call(VRAAG, m.geef_zaakdetails(scenario.zaak))
    assert la01.berichtcode == "La01", la01.content
    rels = _all(_el(la01, "antwoord/object"), "leidtTot")
    assert [_text(r, "gerelateerde", "identificatie") for r in rels] == [scenario.besluit]
    assert rels[0].get(f"{{{ns.STUF}}}entiteittype") == "ZAKBSL"


# -- faults: nothing is stored --------------------------------------------------------------------
def test_voeg_besluit_toe_op_onbekende_zaak_geeft_stuf064(soap: SoapCaller, live_broker: LiveBroker) -> None:
    _fout(soap.call(ASYNC, b.voeg_besluit_toe("1234BZONDERZAAK", "1234ZBESTAATNIET"), soap_action=b.ACTIONS["voeg"]),
          "StUF064")
    assert _count(live_broker, ZsBesluit) == 0


def test_dubbele_besluitidentificatie_geeft_stuf058_en_laat_het_eerste_besluit_staan(soap: SoapCaller,
                                                                                  scenario: Scenario) -> None:
    again = b.voeg_besluit_toe(scenario.besluit, scenario.zaak, toelichting="Een ander besluit")
    _fout(soap.call(ASYNC, again, soap_action=b.ACTIONS["voeg"]), "StUF058")
    obj = _el(_details(soap, scenario.besluit), "antwoord/object")
    assert _text(obj, "toelichting") == "Schuldregeling toegekend"


def test_onbekend_document_geeft_stuf064_en_er_wordt_niets_opgeslagen(soap: SoapCaller, scenario: Scenario,
                                                                      live_broker: LiveBroker) -> None:
    besluiten, koppelingen = _count(live_broker, ZsBesluit), _count(live_broker, ZsBesluitDocument)
    msg = b.voeg_besluit_toe("1234BMETONBEKEND", scenario.zaak, documenten=(scenario.docs[0], "1234DBESTAATNIET"))
    _fout(soap.call(ASYNC, msg, soap_action=b.ACTIONS["voeg"]), "StUF064")
    assert _el(_details(soap, "1234BMETONBEKEND"), "antwoord") is None
    assert (_count(live_broker, ZsBesluit), _count(live_broker, ZsBesluitDocument)) == (besluiten, koppelingen)


def test_besluit_zonder_datum_beslissing_geeft_stuf055(soap: SoapCaller) -> None:
    zaak = _zaak(soap)
    msg = b.voeg_besluit_toe("1234BZONDERDATUM", zaak).replace(
        f"<ZKN:datumBeslissing>{m.today()}</ZKN:datumBeslissing>",
        '<ZKN:datumBeslissing xsi:nil="true" StUF:noValue="waardeOnbekend"/>')
    _fout(soap.call(ASYNC, msg, soap_action=b.ACTIONS["voeg"]), "StUF055")
