"""ZDS messages for the ZGW tests: a creeerZaak with a betrokkene of every kind, an initial status,
kenmerken and a zaakobject, and the status and W messages around it (zaaktype SHV of
config/zaaktypecatalogus.yaml and config/mappings/shv.yaml)."""

from __future__ import annotations

from tests.support.messages import NSDECL, ZDS_ACTION, stuurgegevens, tijdstip, today

ACTION = {name: ZDS_ACTION + element for name, element in {
    "genereer": "genereerZaakIdentificatie_Di02",
    "creeer": "creeerZaak_ZakLk01",
    "update": "updateZaak_ZakLk01",
    "status": "actualiseerZaakstatus_ZakLk01",
    "details": "geefZaakdetails_ZakLv01",
    "zaakstatus": "geefZaakstatus_ZakLv01",
}.items()}
BSN = "999993653"  # a BRP test BSN (../shared/openapi/brp/testdata)

BETROKKENEN = {
    "natuurlijkPersoon": ('<ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="I">'
                          f"<BG:inp.bsn>{BSN}</BG:inp.bsn><BG:geslachtsnaam>Jansen</BG:geslachtsnaam>"
                          "<BG:voorletters>J</BG:voorletters><BG:geslachtsaanduiding>V</BG:geslachtsaanduiding>"
                          "</ZKN:natuurlijkPersoon>"),
    "nietNatuurlijkPersoon": ('<ZKN:nietNatuurlijkPersoon StUF:entiteittype="NNP" StUF:verwerkingssoort="I">'
                              "<BG:inn.nnpId>002220647</BG:inn.nnpId>"
                              '<BG:authentiek StUF:metagegeven="true">J</BG:authentiek>'
                              "<BG:statutaireNaam>Stichting Hulp</BG:statutaireNaam></ZKN:nietNatuurlijkPersoon>"),
    "medewerker": ('<ZKN:medewerker StUF:entiteittype="MDW" StUF:verwerkingssoort="I">'
                   "<ZKN:identificatie>1234MDW01</ZKN:identificatie><ZKN:achternaam>Bakker</ZKN:achternaam>"
                   "<ZKN:voorletters>P</ZKN:voorletters></ZKN:medewerker>"),
    "vestiging": ('<ZKN:vestiging StUF:entiteittype="VES" StUF:verwerkingssoort="I">'
                  "<BG:vestigingsNummer>000012345678</BG:vestigingsNummer>"
                  "<BG:handelsnaam>Bakkerij Bol</BG:handelsnaam></ZKN:vestiging>"),
}
ROLLEN = {  # relation -> betrokkene kind
    "heeftAlsBelanghebbende": "nietNatuurlijkPersoon",
    "heeftAlsInitiator": "natuurlijkPersoon",
    "heeftAlsUitvoerende": "medewerker",
    "heeftAlsOverigBetrokkene": "vestiging",
}
_ENTITEITTYPE = {"heeftAlsBelanghebbende": "ZAKBTRBLH", "heeftAlsInitiator": "ZAKBTRINI",
                 "heeftAlsUitvoerende": "ZAKBTRUTV", "heeftAlsOverigBetrokkene": "ZAKBTROVR",
                 "heeftAlsGemachtigde": "ZAKBTRGMC", "heeftAlsVerantwoordelijke": "ZAKBTRVRA"}


def rol(relation: str, kind: str, soort: str = "T") -> str:
    return (f'<ZKN:{relation} StUF:entiteittype="{_ENTITEITTYPE[relation]}" StUF:verwerkingssoort="{soort}">'
            f"<ZKN:gerelateerde>{BETROKKENEN[kind]}</ZKN:gerelateerde></ZKN:{relation}>")


def isvan(code: str = "SHV", omschrijving: str = "Schuldhulpverlening") -> str:
    return ('<ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="I">'
            '<ZKN:gerelateerde StUF:entiteittype="ZKT" StUF:verwerkingssoort="I">'
            f"<ZKN:omschrijving>{omschrijving}</ZKN:omschrijving><ZKN:code>{code}</ZKN:code>"
            "</ZKN:gerelateerde></ZKN:isVan>")


def heeft(code: str, omschrijving: str, volgnummer: str, *, gezet: str | None = None, toelichting: str = "",
          zaaktype: tuple[str, str] = ("SHV", "Schuldhulpverlening")) -> str:
    extra = f"<ZKN:toelichting>{toelichting}</ZKN:toelichting>" if toelichting else ""
    return ('<ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T">'
            '<ZKN:gerelateerde StUF:entiteittype="STT" StUF:verwerkingssoort="I">'
            f"<ZKN:zkt.code>{zaaktype[0]}</ZKN:zkt.code><ZKN:zkt.omschrijving>{zaaktype[1]}</ZKN:zkt.omschrijving>"
            f"<ZKN:volgnummer>{volgnummer}</ZKN:volgnummer><ZKN:code>{code}</ZKN:code>"
            f"<ZKN:omschrijving>{omschrijving}</ZKN:omschrijving></ZKN:gerelateerde>"
            f"{extra}<ZKN:datumStatusGezet>{gezet or tijdstip()[:14]}</ZKN:datumStatusGezet>"
            '<ZKN:isGezetDoor StUF:entiteittype="ZAKSTTBTR" StUF:verwerkingssoort="T"><ZKN:gerelateerde>'
            '<ZKN:organisatorischeEenheid StUF:entiteittype="OEH" StUF:verwerkingssoort="I">'
            "<ZKN:identificatie>1234OE01</ZKN:identificatie></ZKN:organisatorischeEenheid>"
            "</ZKN:gerelateerde></ZKN:isGezetDoor></ZKN:heeft>")


def creeer_zaak(identificatie: str, *, zaaktype: tuple[str, str] = ("SHV", "Schuldhulpverlening"),
                rollen: dict[str, str] | None = None, status: str | None = None, extra: str = "",
                **sg: object) -> str:
    """creeerZaak with kenmerken, a zaakobject, a betrokkene of every kind and an initial status."""
    rollen = ROLLEN if rollen is None else rollen
    rol_xml = "".join(rol(relation, kind) for relation, kind in rollen.items())
    status_xml = status if status is not None else heeft("SHV-1", "Aanmelding ontvangen", "1")
    obj = ('<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="T">'
           f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
           "<ZKN:omschrijving>Aanvraag schuldhulp</ZKN:omschrijving>"
           "<ZKN:toelichting>Via het formulier</ZKN:toelichting>"
           "<ZKN:kenmerk><ZKN:kenmerk>FORM-17</ZKN:kenmerk><ZKN:bron>Formulieren</ZKN:bron></ZKN:kenmerk>"
           "<ZKN:kenmerk><ZKN:kenmerk>DOSSIER-9</ZKN:kenmerk><ZKN:bron>Dossiers</ZKN:bron></ZKN:kenmerk>"
           f"<ZKN:startdatum>{today()}</ZKN:startdatum><ZKN:registratiedatum>{today()}</ZKN:registratiedatum>"
           f"<ZKN:einddatumGepland>{today()}</ZKN:einddatumGepland>"
           f"<ZKN:zaakniveau>1</ZKN:zaakniveau><ZKN:deelzakenIndicatie>N</ZKN:deelzakenIndicatie>{extra}"
           f"{isvan(*zaaktype)}"
           '<ZKN:heeftBetrekkingOp StUF:entiteittype="ZAKOBJ" StUF:verwerkingssoort="T"><ZKN:gerelateerde>'
           '<ZKN:adres StUF:entiteittype="AOA" StUF:verwerkingssoort="I">'
           "<BG:identificatie>0599200000000001</BG:identificatie>"
           "<BG:wpl.woonplaatsNaam>Rotterdam</BG:wpl.woonplaatsNaam>"
           "<BG:gor.openbareRuimteNaam>Coolsingel</BG:gor.openbareRuimteNaam>"
           "<BG:huisnummer>40</BG:huisnummer></ZKN:adres></ZKN:gerelateerde>"
           "<ZKN:omschrijving>woonadres</ZKN:omschrijving></ZKN:heeftBetrekkingOp>"
           f"{rol_xml}{status_xml}</ZKN:object>")
    return (f"<ZDS:creeerZaak_ZakLk01 {NSDECL}>{stuurgegevens('ZKN', 'Lk01', entiteittype='ZAK', **sg)}"
            "<ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername>"
            f"</ZKN:parameters>{obj}</ZDS:creeerZaak_ZakLk01>")


def _w(element: str, oud: str, nieuw: str, **sg: object) -> str:
    return (f"<{element} {NSDECL}>{stuurgegevens('ZKN', 'Lk01', entiteittype='ZAK', **sg)}"
            "<ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort>"
            "<StUF:indicatorOvername>V</StUF:indicatorOvername></ZKN:parameters>"
            f'<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="W">{oud}</ZKN:object>'
            f'<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="W">{nieuw}</ZKN:object>'
            f"</{element}>")


def update_zaak(identificatie: str, oud: str, nieuw: str, **sg: object) -> str:
    ident = f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
    return _w("ZDS:updateZaak_ZakLk01", ident + oud, ident + nieuw, **sg)


def actualiseer_zaakstatus(identificatie: str, status: str, *, nieuw_extra: str = "", **sg: object) -> str:
    ident = f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
    oud = f'{ident}<ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T" xsi:nil="true"/>'
    return _w("ZDS:actualiseerZaakstatus_ZakLk01", oud, ident + nieuw_extra + status, **sg)


def vraag(element: str, identificatie: str, scope: str, *, gelijk_extra: str = "", **sg: object) -> str:
    return (f"<ZDS:{element} {NSDECL}>{stuurgegevens('ZKN', 'Lv01', entiteittype='ZAK', **sg)}"
            "<ZKN:parameters><StUF:sortering>0</StUF:sortering><StUF:indicatorVervolgvraag>false"
            "</StUF:indicatorVervolgvraag></ZKN:parameters>"
            f'<ZKN:gelijk StUF:entiteittype="ZAK"><ZKN:identificatie>{identificatie}</ZKN:identificatie>'
            f"{gelijk_extra}</ZKN:gelijk><ZKN:scope>{scope}</ZKN:scope></ZDS:{element}>")


ALLES = '<ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"/>'
STATUS_SCOPE = ('<ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/>'
                '<ZKN:heeft StUF:entiteittype="ZAKSTT"><ZKN:gerelateerde StUF:entiteittype="STT">'
                '<ZKN:zkt.omschrijving xsi:nil="true"/><ZKN:volgnummer xsi:nil="true"/>'
                '<ZKN:omschrijving xsi:nil="true"/></ZKN:gerelateerde>'
                '<ZKN:toelichting xsi:nil="true"/><ZKN:datumStatusGezet xsi:nil="true"/><ZKN:indicatieLaatsteStatus xsi:nil="true"/>'
                "</ZKN:heeft></ZKN:object>")


def geef_zaakdetails(identificatie: str, scope: str = ALLES, **sg: object) -> str:
    return vraag("geefZaakdetails_ZakLv01", identificatie, scope, **sg)


def geef_zaakstatus(identificatie: str, scope: str = STATUS_SCOPE, **sg: object) -> str:
    """geefZaakstatus asks the last status (gelijk/heeft/indicatieLaatsteStatus J, the only value)."""
    extra = ('<ZKN:heeft StUF:entiteittype="ZAKSTT"><ZKN:indicatieLaatsteStatus>J</ZKN:indicatieLaatsteStatus>'
             "</ZKN:heeft>")
    return vraag("geefZaakstatus_ZakLv01", identificatie, scope, gelijk_extra=extra, **sg)
