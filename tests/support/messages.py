"""Building StUF messages for tests: stuurgegevens and small, valid ZDS 1.2 messages.

``ZENDER``/``ONTVANGER`` are the defaults; each builder takes a fresh referentienummer unless given.
"""

from __future__ import annotations

import itertools
from datetime import datetime

STUF = "http://www.egem.nl/StUF/StUF0301"
ZKN = "http://www.egem.nl/StUF/sector/zkn/0310"
ZDS = "http://www.stufstandaarden.nl/koppelvlak/zds0120"
BG = "http://www.egem.nl/StUF/sector/bg/0310"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSDECL = f'xmlns:StUF="{STUF}" xmlns:ZKN="{ZKN}" xmlns:ZDS="{ZDS}" xmlns:BG="{BG}" xmlns:xsi="{XSI}"'
ZDS_ACTION = "http://www.stufstandaarden.nl/koppelvlak/zds0120/"

_refs = itertools.count(1)


def ref() -> str:
    return f"T{datetime.now().strftime('%H%M%S')}{next(_refs):06d}"


def today() -> str:
    return datetime.now().strftime("%Y%m%d")


def tijdstip() -> str:
    return datetime.now().strftime("%Y%m%d%H%M%S%f")[:17]


def systeem(tag: str, organisatie: str, applicatie: str) -> str:
    return (f"<StUF:{tag}><StUF:organisatie>{organisatie}</StUF:organisatie>"
            f"<StUF:applicatie>{applicatie}</StUF:applicatie></StUF:{tag}>")


def stuurgegevens(prefix: str, berichtcode: str, *, entiteittype: str | None = None, functie: str | None = None,
                  referentienummer: str | None = None, zender: tuple[str, str] = ("KING", "STP"),
                  ontvanger: tuple[str, str] = ("ORG", "TTA"), tijdstip_bericht: str | None = None) -> str:
    parts = [f"<StUF:berichtcode>{berichtcode}</StUF:berichtcode>"]
    if zender:
        parts.append(systeem("zender", *zender))
    if ontvanger:
        parts.append(systeem("ontvanger", *ontvanger))
    parts.append(f"<StUF:referentienummer>{referentienummer or ref()}</StUF:referentienummer>")
    parts.append(f"<StUF:tijdstipBericht>{tijdstip_bericht or tijdstip()}</StUF:tijdstipBericht>")
    if entiteittype:
        parts.append(f"<StUF:entiteittype>{entiteittype}</StUF:entiteittype>")
    if functie:
        parts.append(f"<StUF:functie>{functie}</StUF:functie>")
    return f"<{prefix}:stuurgegevens>{''.join(parts)}</{prefix}:stuurgegevens>"


def genereer_zaak_identificatie(**sg: object) -> str:
    return (f"<ZDS:genereerZaakIdentificatie_Di02 {NSDECL}>"
            f"{stuurgegevens('ZDS', 'Di02', functie='genereerZaakidentificatie', **sg)}"
            "</ZDS:genereerZaakIdentificatie_Di02>")


def zaaktype_xml(code: str = "SHV", omschrijving: str = "Schuldhulpverlening") -> str:
    return ('<ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="T">'
            '<ZKN:gerelateerde StUF:entiteittype="ZKT" StUF:verwerkingssoort="I">'
            f"<ZKN:omschrijving>{omschrijving}</ZKN:omschrijving><ZKN:code>{code}</ZKN:code>"
            "</ZKN:gerelateerde></ZKN:isVan>")


def initiator_nps(bsn: str = "111222333") -> str:
    return ('<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI" StUF:verwerkingssoort="T"><ZKN:gerelateerde>'
            '<ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="I">'
            f"<BG:inp.bsn>{bsn}</BG:inp.bsn></ZKN:natuurlijkPersoon></ZKN:gerelateerde></ZKN:heeftAlsInitiator>")


def creeer_zaak(identificatie: str, *, omschrijving: str = "Aanvraag schuldhulp", zaaktype: str = "SHV",
                zaaktype_omschrijving: str = "Schuldhulpverlening", extra: str = "", element: str = "ZDS:creeerZaak_ZakLk01",
                **sg: object) -> str:
    obj = ('<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="T">'
           f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
           f"<ZKN:omschrijving>{omschrijving}</ZKN:omschrijving>"
           f"<ZKN:startdatum>{today()}</ZKN:startdatum><ZKN:registratiedatum>{today()}</ZKN:registratiedatum>"
           "<ZKN:zaakniveau>1</ZKN:zaakniveau><ZKN:deelzakenIndicatie>N</ZKN:deelzakenIndicatie>"
           f"{zaaktype_xml(zaaktype, zaaktype_omschrijving)}{initiator_nps()}{extra}</ZKN:object>")
    return (f"<{element} {NSDECL}>{stuurgegevens('ZKN', 'Lk01', entiteittype='ZAK', **sg)}"
            "<ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername>"
            f"</ZKN:parameters>{obj}</{element}>")


def geef_zaakdetails(identificatie: str, scope: str = '<ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"/>',
                     element: str = "ZDS:geefZaakdetails_ZakLv01", **sg: object) -> str:
    return (f"<{element} {NSDECL}>{stuurgegevens('ZKN', 'Lv01', entiteittype='ZAK', **sg)}"
            "<ZKN:parameters><StUF:sortering>0</StUF:sortering><StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag>"
            f'</ZKN:parameters><ZKN:gelijk StUF:entiteittype="ZAK"><ZKN:identificatie>{identificatie}</ZKN:identificatie>'
            f"</ZKN:gelijk><ZKN:scope>{scope}</ZKN:scope></{element}>")


def update_zaak(identificatie: str, oud: str, nieuw: str, **sg: object) -> str:
    """updateZaak (W): the zaak's omschrijving changes from ``oud`` to ``nieuw``."""

    def obj(omschrijving: str) -> str:
        return ('<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="W">'
                f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
                f"<ZKN:omschrijving>{omschrijving}</ZKN:omschrijving></ZKN:object>")

    return (f"<ZDS:updateZaak_ZakLk01 {NSDECL}>{stuurgegevens('ZKN', 'Lk01', entiteittype='ZAK', **sg)}"
            "<ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername>"
            f"</ZKN:parameters>{obj(oud)}{obj(nieuw)}</ZDS:updateZaak_ZakLk01>")
