"""The messages the benchmarks send, built from the StUF Testplatform ZDS 1.2 templates.

The creeerZaak is ``stp_creeerZaak/creeerZaak_ZakLk01_13`` (a zaak with every attribute, a
gemachtigde, an initiator, two uitvoerenden, a verantwoordelijke and two overig betrokkenen) with
two more overig betrokkenen, its placeholders filled in, wrapped in a SOAP 1.1 envelope with a
(ZDS 1.1 style) empty header and CR LF line ends: about 11.6 KB, the shape of a captured ZDS 1.1
``zakLk01`` issue 9 describes. Templates are read from ../shared/stuf-testplatform, never copied.

Every message is a template with two markers, ``@REF@`` (the referentienummer) and ``@ID@`` (the part
of the zaak identificatie after the gemeentecode), so each request can be made unique cheaply, in
Python (:func:`fill`) or in wrk's Lua script.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STP = REPO.parent / "shared" / "stuf-testplatform"
GEMEENTECODE = "1234"
ZDS_NS = "http://www.stufstandaarden.nl/koppelvlak/zds0120"
CREEER_ACTION = f"{ZDS_NS}/creeerZaak_ZakLk01"
GEEF_ACTION = f"{ZDS_NS}/geefZaakdetails_ZakLv01"
ZAAKTYPE = {"code": "12345678", "omschrijving": "Aanvraag burgerservicenummer behandelen"}
#: the zaaktypecatalogus the bench's broker configuration uses (the STP's zaaktype)
CATALOGUS = {"zaaktypen": [{
    "code": ZAAKTYPE["code"], "omschrijving": ZAAKTYPE["omschrijving"],
    "statustypen": [{"volgnummer": 1, "code": "12345678", "omschrijving": "Intake afgerond"},
                    {"volgnummer": 2, "code": "87126534", "omschrijving": "Zaak afgerond", "eindstatus": True}],
    "roltypen": [], "documenttypen": []}]}

_BETROKKENE = re.compile(r"(\s*<ZKN:heeftAlsOverigBetrokkene\b.*?</ZKN:heeftAlsOverigBetrokkene>)", re.S)


def _context() -> dict[str, str]:
    now = datetime(2026, 11, 29, 12, 0, 0)
    today, before = now.strftime("%Y%m%d"), (now - timedelta(days=2)).strftime("%Y%m%d")
    return {
        "zenderOrganisatie": "KING", "zenderApplicatie": "STP", "ontvangerOrganisatie": "ORG",
        "ontvangerApplicatie": "TTA", "gemeentecode": GEMEENTECODE, "tijdstipBericht": now.strftime("%Y%m%d%H%M%S"),
        "tijdstipRegistratie": now.strftime("%Y%m%d%H%M%S"), "datumVandaag": today, "datumEergisteren": before,
        "zds_zaaktype_omschrijving": ZAAKTYPE["omschrijving"], "zds_zaaktype_code": ZAAKTYPE["code"],
        "zds_zaaktype_datum": today,
    }


def _fill_template(text: str, ident_placeholder: str) -> str:
    ctx = _context()
    text = text.replace("#{referentienummer}", "@REF@").replace("${" + ident_placeholder + "}", "@ID@")
    text = re.sub(r"\$\{(\w+)\}", lambda m: ctx[m.group(1)], text)
    return re.sub(r'\s+xsi:schemaLocation="[^"]*"', "", text, count=1)


def _envelope(body: str) -> bytes:
    """SOAP 1.1 with an empty header, CR LF line ends throughout."""
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">\n'
            "<soapenv:Header/>\n<soapenv:Body>\n" + body.strip() + "\n</soapenv:Body>\n</soapenv:Envelope>\n")
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def creeer_zaak(extra_betrokkenen: int = 2) -> bytes:
    """creeerZaak_ZakLk01_13 with ``extra_betrokkenen`` more overig betrokkenen (medewerkers)."""
    text = _fill_template((STP / "stp_creeerZaak" / "creeerZaak_ZakLk01_13.orig.xml").read_text(),
                          "creerzaak_identificatie_13")
    found = _BETROKKENE.findall(text)
    block = found[-1]
    extra = "".join(block.replace("56786</ZKN:identificatie>", f"{56787 + n:05d}</ZKN:identificatie>")
                    for n in range(extra_betrokkenen))
    end = text.rindex(block) + len(block)
    return _envelope(text[:end] + extra + text[end:])


def creeer_zaak_minimal() -> bytes:
    """The smallest creeerZaak the zaaksysteem accepts: stuurgegevens, the zaak, its zaaktype and
    initiator (about 2 KB)."""
    text = _fill_template((STP / "stp_creeerZaak" / "creeerZaak_ZakLk01_13.orig.xml").read_text(),
                          "creerzaak_identificatie_13")
    head, rest = text.split('<ZKN:object StUF:verwerkingssoort="T" StUF:entiteittype="ZAK">', 1)
    fields = "".join(m.group(0) for m in re.finditer(r"<ZKN:(\w+)>[^<]*</ZKN:\1>", rest.split("<ZKN:kenmerk>")[0])
                     if m.group(1) in ("identificatie", "omschrijving"))
    fields += "".join(m.group(0) for m in re.finditer(r"<ZKN:(startdatum|registratiedatum|zaakniveau|"
                                                       r"deelzakenIndicatie)>[^<]*</ZKN:\1>", rest))
    isvan = re.search(r"<ZKN:isVan.*?</ZKN:isVan>", rest, re.S).group(0)
    initiator = re.search(r"<ZKN:heeftAlsInitiator.*?</ZKN:gerelateerde>", rest, re.S).group(0)
    body = (head + '<ZKN:object StUF:verwerkingssoort="T" StUF:entiteittype="ZAK">' + fields + isvan
            + initiator + "</ZKN:heeftAlsInitiator>"
            + "</ZKN:object></ZDS:creeerZaak_ZakLk01>")
    return _envelope(re.sub(r">\s+<", "><", body))


def creeer_zaak_of_size(size: int) -> bytes:
    """A creeerZaak of about ``size`` bytes: the minimal one below 8 KB, otherwise the template with
    as many overig betrokkenen as it takes (a zaak with very many betrokkenen, structure that grows)."""
    if size < 8_000:
        return creeer_zaak_minimal()
    base = creeer_zaak(0)
    one = len(creeer_zaak(1)) - len(base)
    return creeer_zaak(max(0, round((size - len(base)) / one)))


def geef_zaakdetails() -> bytes:
    """geefZaakdetails_ZakLv01_01: the zaak whose identificatie is 1234 + @ID@, scope alles."""
    text = _fill_template((STP / "stp_geefZaakdetails" / "geefZaakdetails_ZakLv01_01.orig.xml").read_text(),
                          "genereerzaakident_identificatie_2")
    return _envelope(text)


def fill(template: bytes, ref: str, ident: str) -> bytes:
    return template.replace(b"@REF@", ref.encode(), 1).replace(b"@ID@", ident.encode(), 1)


def split(template: bytes) -> tuple[str, str, str]:
    """(before the referentienummer, between it and the identificatie, after it), for wrk's Lua."""
    text = template.decode()
    prefix, rest = text.split("@REF@")
    middle, suffix = rest.split("@ID@")
    return prefix, middle, suffix
