"""Checks shared by the StUF-BG tests of every person source: the questions per type and what each
answer must show (incomplete dates, inOnderzoek, geheimhouding, overlijden, relations, no match)."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from tests.support.bg_messages import bsn, npslv01
from tests.support.soapcall import SoapAnswer

BG = "http://www.egem.nl/StUF/sector/bg/0310"
STUF = "http://www.egem.nl/StUF/StUF0301"


def objects(answer: SoapAnswer) -> list[etree._Element]:
    assert answer.berichtcode == "La01", answer.content[:2000]
    return answer.payload.findall(f"{{{BG}}}antwoord/{{{BG}}}object")


def value(el: etree._Element, path: str) -> str | None:
    found = el.find("/".join(f"{{{BG}}}{p}" for p in path.split("/")))
    return None if found is None else (found.text or "")


def naam_en_geboortedatum(geslachtsnaam: str, datum: str, extra: str = "", **kw: object) -> str:
    return npslv01(f"<BG:geslachtsnaam>{geslachtsnaam}</BG:geslachtsnaam>{extra}"
                   f"<BG:geboortedatum>{datum}</BG:geboortedatum>", **kw)  # type: ignore[arg-type]


def postcode_huisnummer(postcode: str, huisnummer: int, extra: str = "", **kw: object) -> str:
    return npslv01(f"<BG:verblijfsadres><BG:aoa.postcode>{postcode}</BG:aoa.postcode>"
                   f"<BG:aoa.huisnummer>{huisnummer}</BG:aoa.huisnummer>{extra}</BG:verblijfsadres>",
                   **kw)  # type: ignore[arg-type]


def by_bsn(answer: SoapAnswer) -> dict[str, etree._Element]:
    return {value(o, "inp.bsn") or "": o for o in objects(answer)}


def date_of(el: etree._Element, path: str) -> tuple[str | None, str | None]:
    found = el.find("/".join(f"{{{BG}}}{p}" for p in path.split("/")))
    assert found is not None, path
    return found.text, found.get(f"{{{STUF}}}indOnvolledigeDatum")


def onderzoek(el: etree._Element) -> list[str | None]:
    found = el.findall(f"{{{BG}}}inOnderzoek")
    assert all(o.get(f"{{{STUF}}}metagegeven") == "true" and o.text == "J" for o in found)
    return [o.get("groepsnaam") for o in found]


QUESTIONS = {
    "bsn": {
        "incomplete": bsn("999970586"), "onderzoek": bsn("000009830"), "geheim": bsn("100600220"),
        "overleden": bsn("999970239"), "relaties": bsn("000009969"), "geen": bsn("999999291"),
    },
    "naam_geboortedatum": {
        "incomplete": naam_en_geboortedatum("Haouati", "19890223"),
        "onderzoek": naam_en_geboortedatum("Ven-Van Roedelrode tot Broekzucht", "19750707",
                                           "<BG:voorvoegselGeslachtsnaam>van der</BG:voorvoegselGeslachtsnaam>"),
        "geheim": naam_en_geboortedatum("Digid 1 100600220 geslachtsnaam", "19191219"),
        "overleden": naam_en_geboortedatum("Saasveld", "19981201"),
        "relaties": naam_en_geboortedatum("wiel", "19350430", "<BG:voornamen>Henk</BG:voornamen>"),
        "geen": naam_en_geboortedatum("Wiel", "19350429"),
    },
    "postcode_huisnummer": {
        "incomplete": postcode_huisnummer("2511CA", 63),
        "onderzoek": postcode_huisnummer("7511AG", 144),
        "geheim": postcode_huisnummer("2272BV", 54, maximum=200),
        "overleden": postcode_huisnummer("2511CA", 77),
        "relaties": postcode_huisnummer("9725AD", 22, "<BG:aoa.huisletter>A</BG:aoa.huisletter>"),
        "geen": postcode_huisnummer("9725AD", 23),
    },
}



def check_question_type(ask: Callable[[str], SoapAnswer], soort: str) -> None:
    q = QUESTIONS[soort]
    # incomplete dates keep their indicator and zeros (in the person or its relations)
    found = by_bsn(ask(q["incomplete"]))
    dates = [(o.text, o.get(f"{{{STUF}}}indOnvolledigeDatum")) for p in found.values()
             for o in p.iter(f"{{{BG}}}geboortedatum") if o.text]
    assert any(ind in ("D", "M", "J") for _, ind in dates), dates
    for text, ind in dates:
        assert len(text or "") == 8
        if ind == "M":
            assert (text or "").endswith("0000")
        elif ind == "D":
            assert (text or "").endswith("00")
    # inOnderzoek per group, with StUF:metagegeven
    found = by_bsn(ask(q["onderzoek"]))
    assert onderzoek(found["000009830"]) == ["Verblijfsplaats"]
    assert value(found["000009830"], "adellijkeTitelPredikaat") == "Graaf"
    # geheimhouding: always sent when set
    found = by_bsn(ask(q["geheim"]))
    # (the register keeps the BRP's code, 1; from the API's boolean the configured code, 7 by default)
    assert value(found["100600220"], "inp.indicatieGeheim") in {"1", "7"}
    # overlijden: the date and the opschorting of the bijhouding
    found = by_bsn(ask(q["overleden"]))
    dead = found["999970239"]
    assert value(dead, "overlijdensdatum")
    assert value(dead, "inp.redenOpschortingBijhouding") == "O"
    # partner, children and parents
    found = by_bsn(ask(q["relaties"]))
    person = found["000009969"]
    assert len(person.findall(f"{{{BG}}}inp.heeftAlsEchtgenootPartner")) == 1
    assert len(person.findall(f"{{{BG}}}inp.heeftAlsKinderen")) == 1
    assert len(person.findall(f"{{{BG}}}inp.heeftAlsOuders")) == 2
    # no match: an answer without objects
    answer = ask(q["geen"])
    assert answer.status == 200 and objects(answer) == []




def check_inexact_names(ask: Callable[[str], SoapAnswer]) -> None:
    """StUF:exact="false": the name begins with what is asked (at least 3 characters), else a fault."""
    found = by_bsn(ask(npslv01('<BG:geslachtsnaam StUF:exact="false">wie</BG:geslachtsnaam>'
                               "<BG:voornamen StUF:exact=\"false\">He</BG:voornamen>"
                               "<BG:geboortedatum>19350430</BG:geboortedatum>")))
    assert list(found) == ["000009969"]
    found = by_bsn(ask(npslv01('<BG:geslachtsnaam StUF:exact="false">Wie</BG:geslachtsnaam>'
                               "<BG:geboortedatum>19350430</BG:geboortedatum>")))
    assert "000009969" in found
    short = ask(npslv01('<BG:geslachtsnaam StUF:exact="false">Wi</BG:geslachtsnaam>'
                        "<BG:geboortedatum>19350430</BG:geboortedatum>"))
    assert short.foutcode == "StUF058" and "3 tekens" in (short.text("body/omschrijving") or "")
