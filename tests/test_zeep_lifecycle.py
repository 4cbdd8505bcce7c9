"""A real SOAP client (zeep, on the "ZDS 1.2 2017 Q1 resolved" WSDLs the broker serves) runs a whole
zaak lifecycle over HTTP, the way a legacy application would."""

from __future__ import annotations

import base64
import os
from datetime import datetime

import pytest
import zeep
from zeep import Plugin
from zeep.transports import Transport

ZDS = "http://www.stufstandaarden.nl/koppelvlak/zds0120"
STUF = "http://www.egem.nl/StUF/StUF0301"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


class NilPlaceholders(Plugin):
    """zeep cannot write an element that is nil *and* has attributes (python-zeep#1091), which StUF
    needs for the empty relation placeholders of a W kennisgeving (StUF:noValue="geenWaarde",
    StUF 03.01 §5.2.6); StUF clients built on zeep patch the envelope like this."""

    def egress(self, envelope, http_headers, operation, binding_options):
        for el in envelope.iter():
            if isinstance(el.tag, str) and el.get(f"{{{STUF}}}noValue") and el.get(f"{{{STUF}}}verwerkingssoort"):
                for child in list(el):
                    el.remove(child)
                el.set(f"{{{XSI}}}nil", "true")
        return envelope, http_headers


@pytest.fixture
def clients(live_broker):
    transport = Transport(timeout=30, operation_timeout=30)

    def client(port: str) -> zeep.Client:
        c = zeep.Client(f"{live_broker.url}/zds/{port}?wsdl=resolved", transport=transport,
                        plugins=[NilPlaceholders()])
        assert c.service._binding_options["address"] == f"{live_broker.url}/zds/{port}"  # soap:address is ours
        return c

    yield client("VerwerkSynchroonVrijBericht"), client("OntvangAsynchroon"), client("BeantwoordVraag")
    transport.session.close()


_n = iter(range(1, 10_000))


def stuurgegevens(berichtcode: str, **extra: str) -> dict:
    return {
        "berichtcode": berichtcode,
        "zender": {"organisatie": "1234", "applicatie": "PERSPECTIEF"},
        "ontvanger": {"organisatie": "1234", "applicatie": "STUFBROKER"},
        "referentienummer": f"zeep-{os.getpid()}-{next(_n)}",
        "tijdstipBericht": datetime.now().strftime("%Y%m%d%H%M%S%f")[:17],
        **extra,
    }


def berichtcode(answer) -> str:
    """zeep unwraps a Bv03Bericht with one child into its stuurgegevens."""
    sg = getattr(answer, "stuurgegevens", answer)
    return sg.berichtcode


def first(value):
    """zeep gives a list where the schema allows several, the object itself where it allows one."""
    return value[0] if isinstance(value, list) else value


def today() -> str:
    return datetime.now().strftime("%Y%m%d")


def test_a_zeep_client_runs_the_zaak_lifecycle_and_reads_back_the_same_bytes(clients):
    vrij, asynchroon, vraag = clients
    content = os.urandom(200_000) + "één brief, twee bijlagen".encode()

    du02 = vrij.service.genereerZaakIdentificatie_Di02(
        stuurgegevens=stuurgegevens("Di02", functie="genereerZaakidentificatie"))
    zaak_id = du02.zaak.identificatie._value_1
    assert zaak_id.startswith("1234")

    bv03 = asynchroon.service.creeerZaak_ZakLk01(
        stuurgegevens=stuurgegevens("Lk01", entiteittype="ZAK"),
        parameters={"mutatiesoort": "T", "indicatorOvername": "V"},
        object={
            "entiteittype": "ZAK", "verwerkingssoort": "T",
            "identificatie": zaak_id, "omschrijving": "Schuldhulp voor een gezin",
            "startdatum": today(), "registratiedatum": today(), "zaakniveau": "1", "deelzakenIndicatie": "N",
            "isVan": {"entiteittype": "ZAKZKT", "verwerkingssoort": "T",
                      "gerelateerde": {"entiteittype": "ZKT", "verwerkingssoort": "I",
                                       "omschrijving": "Schuldhulpverlening", "code": "SHV"}},
            "heeftAlsInitiator": {"entiteittype": "ZAKBTRINI", "verwerkingssoort": "T",
                                  "gerelateerde": {"medewerker": {"entiteittype": "MDW", "verwerkingssoort": "I",
                                                                  "identificatie": "1234MW001"}}},
        },
    )
    assert berichtcode(bv03) == "Bv03"

    doc_id = vrij.service.genereerDocumentIdentificatie_Di02(
        stuurgegevens=stuurgegevens("Di02", functie="genereerDocumentidentificatie")).document.identificatie._value_1
    bv03 = asynchroon.service.voegZaakdocumentToe_EdcLk01(
        stuurgegevens=stuurgegevens("Lk01", entiteittype="EDC"),
        parameters={"mutatiesoort": "T", "indicatorOvername": "V"},
        object={
            "entiteittype": "EDC", "verwerkingssoort": "T",
            "identificatie": doc_id, "dct.omschrijving": "Aanvraagformulier", "creatiedatum": today(),
            "titel": "Aanvraag schuldhulp", "formaat": "application/octet-stream", "taal": "nld",
            "vertrouwelijkAanduiding": "VERTROUWELIJK", "auteur": "Gemeente",
            "inhoud": {"_value_1": content, "bestandsnaam": "aanvraag.bin", "contentType": "application/octet-stream"},
            "isRelevantVoor": {"entiteittype": "EDCZAK", "verwerkingssoort": "T",
                               "gerelateerde": {"entiteittype": "ZAK", "verwerkingssoort": "I", "identificatie": zaak_id}},
        },
    )
    assert berichtcode(bv03) == "Bv03"

    def zaak_object(heeft: object) -> dict:
        return {"entiteittype": "ZAK", "verwerkingssoort": "W", "identificatie": zaak_id,
                "isVan": {"entiteittype": "ZAKZKT", "verwerkingssoort": "I",
                          "gerelateerde": {"entiteittype": "ZKT", "verwerkingssoort": "I", "code": "SHV"}},
                "heeft": heeft}

    status = {"entiteittype": "ZAKSTT", "verwerkingssoort": "T",
              "gerelateerde": {"entiteittype": "STT", "verwerkingssoort": "I", "zkt.code": "SHV",
                               "volgnummer": "2", "code": "SHV-2", "omschrijving": "Intake afgerond"},
              "datumStatusGezet": datetime.now().strftime("%Y%m%d%H%M%S"),
              "isGezetDoor": {"entiteittype": "ZAKSTTBTR", "verwerkingssoort": "T",
                              "gerelateerde": {"medewerker": {"entiteittype": "MDW", "verwerkingssoort": "I",
                                                              "identificatie": "1234MW001"}},
                              "rolOmschrijving": "Schuldhulpverlener", "rolomschrijvingGeneriek": "Uitvoerder"}}
    # the old object holds the new status as an empty placeholder
    oud = zaak_object({"entiteittype": "ZAKSTT", "verwerkingssoort": "T", "noValue": "geenWaarde",
                       "gerelateerde": zeep.xsd.SkipValue})
    bv03 = asynchroon.service.actualiseerZaakstatus_ZakLk01(
        stuurgegevens=stuurgegevens("Lk01", entiteittype="ZAK"),
        parameters={"mutatiesoort": "W", "indicatorOvername": "V"},
        object=[oud, zaak_object(status)],
    )
    assert berichtcode(bv03) == "Bv03"

    vraag_params = {"sortering": "0", "indicatorVervolgvraag": "false"}
    la01 = vraag.service.geefZaakdetails_ZakLv01(
        stuurgegevens=stuurgegevens("Lv01", entiteittype="ZAK"), parameters=vraag_params,
        gelijk={"entiteittype": "ZAK", "identificatie": zaak_id},
        scope={"object": {"entiteittype": "ZAK", "scope": "alles"}},
    )
    zaak = first(la01.antwoord.object)
    assert zaak.identificatie._value_1 == zaak_id
    assert zaak.omschrijving._value_1 == "Schuldhulp voor een gezin"
    assert [h.gerelateerde.omschrijving._value_1 for h in zaak.heeft] == ["Intake afgerond"]

    lijst = vraag.service.geefLijstZaakdocumenten_ZakLv01(
        stuurgegevens=stuurgegevens("Lv01", entiteittype="ZAK"), parameters=vraag_params,
        gelijk={"entiteittype": "ZAK", "identificatie": zaak_id},
        scope={"object": {"entiteittype": "ZAK", "scope": "alles"}},
    )
    assert [r.gerelateerde.identificatie._value_1 for r in first(lijst.antwoord.object).heeftRelevant] == [doc_id]

    lezen = vraag.service.geefZaakdocumentLezen_EdcLv01(
        stuurgegevens=stuurgegevens("Lv01", entiteittype="EDC"), parameters=vraag_params,
        gelijk={"entiteittype": "EDC", "identificatie": doc_id},
        scope={"object": {"entiteittype": "EDC", "scope": "alles"}},
    )
    inhoud = first(lezen.antwoord.object).inhoud
    data = inhoud._value_1 if not isinstance(inhoud._value_1, str) else base64.b64decode(inhoud._value_1)
    assert data == content
    assert inhoud.bestandsnaam == "aanvraag.bin"
