"""Building the ZDS 1.2 besluit messages for tests (and a voegZaakdocumentToe to make documents).

Shapes follow the STP scenarios (shared/stuf-testplatform/stp_*Besluit*), with the zaak in
voegBesluitToe identified with verwerkingssoort I. Relation fragments are built by
:func:`vastgelegd_in` and :func:`placeholder`; ``update_besluit`` takes the inner XML of the old and
the new object after their identificatie.
"""

from __future__ import annotations

from tests.support.messages import NSDECL, ZDS_ACTION, stuurgegevens, tijdstip, today

ACTIONS = {
    name: ZDS_ACTION + element
    for name, element in {
        "genereer": "genereerBesluitIdentificatie_Di02",
        "voeg": "voegBesluitToe_Di01",
        "update": "updateBesluit_BslLk01",
        "details": "geefBesluitdetails_BslLv01",
        "lijst": "geefLijstBesluiten_ZakLv01",
        "document": "voegZaakdocumentToe_EdcLk01",
    }.items()
}

ALLES = '<ZKN:object StUF:entiteittype="BSL" StUF:scope="alles"/>'
ZAAK_ALLES = '<ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"/>'
LIJST_SCOPE = (
    '<ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/>'
    '<ZKN:leidtTot StUF:entiteittype="ZAKBSL"><ZKN:gerelateerde StUF:entiteittype="BSL">'
    '<ZKN:identificatie xsi:nil="true"/><ZKN:bst.omschrijving xsi:nil="true"/>'
    '<ZKN:datumBeslissing xsi:nil="true"/><ZKN:toelichting xsi:nil="true"/>'
    '<ZKN:ingangsdatumWerking xsi:nil="true"/></ZKN:gerelateerde></ZKN:leidtTot></ZKN:object>'
)
#: the element scope of STP geefBesluitDetails_BslLv01_11 (noValue in a scope, which the broker tolerates)
ELEMENT_SCOPE = (
    '<ZKN:object StUF:entiteittype="BSL"><ZKN:identificatie xsi:nil="true"/>'
    '<ZKN:datumBeslissing xsi:nil="true"/><ZKN:ingangsdatumWerking xsi:nil="true"/>'
    '<StUF:tijdvakGeldigheid><StUF:beginGeldigheid StUF:noValue="geenWaarde" xsi:nil="true"/>'
    '<StUF:eindGeldigheid StUF:noValue="geenWaarde" xsi:nil="true"/></StUF:tijdvakGeldigheid>'
    '<ZKN:isUitkomstVan StUF:entiteittype="BSLZAK"><ZKN:gerelateerde StUF:entiteittype="ZAK">'
    '<ZKN:identificatie xsi:nil="true"/></ZKN:gerelateerde></ZKN:isUitkomstVan></ZKN:object>'
)


def genereer_besluit_identificatie(**sg: object) -> str:
    return (f"<ZDS:genereerBesluitIdentificatie_Di02 {NSDECL}>"
            f"{stuurgegevens('ZDS', 'Di02', functie='genereerBesluitidentificatie', **sg)}"
            "</ZDS:genereerBesluitIdentificatie_Di02>")


def vastgelegd_in(document: str, soort: str = "T", *, gerelateerde: str = "I", titel: str = "Besluitbrief") -> str:
    return (f'<ZKN:isVastgelegdIn StUF:entiteittype="BSLEDC" StUF:verwerkingssoort="{soort}">'
            f'<ZKN:gerelateerde StUF:entiteittype="EDC" StUF:verwerkingssoort="{gerelateerde}">'
            f"<ZKN:identificatie>{document}</ZKN:identificatie><ZKN:dct.omschrijving>Besluit</ZKN:dct.omschrijving>"
            f"<ZKN:titel>{titel}</ZKN:titel></ZKN:gerelateerde></ZKN:isVastgelegdIn>")


def placeholder(soort: str) -> str:
    """The empty side of a relation that is added (T) or removed (V) in a W kennisgeving."""
    return f'<ZKN:isVastgelegdIn StUF:entiteittype="BSLEDC" StUF:verwerkingssoort="{soort}" xsi:nil="true"/>'


def voeg_besluit_toe(identificatie: str, zaak: str, *, documenten: tuple[str, ...] = (),
                     toelichting: str | None = "Schuldregeling toegekend", bst_omschrijving: str | None = "Toekenning",
                     datum: str | None = None, tijdvak: bool = True, zaak_verwerkingssoort: str = "I",
                     **sg: object) -> str:
    datum = datum or today()
    parts = [f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"]
    if bst_omschrijving:
        parts.append(f"<ZKN:bst.omschrijving>{bst_omschrijving}</ZKN:bst.omschrijving>")
    parts.append(f"<ZKN:datumBeslissing>{datum}</ZKN:datumBeslissing>")
    if toelichting:
        parts.append(f"<ZKN:toelichting>{toelichting}</ZKN:toelichting>")
    parts.append(f"<ZKN:ingangsdatumWerking>{datum}</ZKN:ingangsdatumWerking>")
    if tijdvak:
        parts.append(f"<StUF:tijdvakGeldigheid><StUF:beginGeldigheid>{datum}</StUF:beginGeldigheid>"
                     '<StUF:eindGeldigheid StUF:noValue="geenWaarde" xsi:nil="true"/></StUF:tijdvakGeldigheid>'
                     f"<StUF:tijdstipRegistratie>{tijdstip()}</StUF:tijdstipRegistratie>")
    parts.extend(vastgelegd_in(d) for d in documenten)
    return (f"<ZDS:voegBesluitToe_Di01 {NSDECL}>{stuurgegevens('ZKN', 'Di01', functie='voegBesluitToe', **sg)}"
            '<ZKN:object><ZKN:besluit StUF:entiteittype="BSL" StUF:verwerkingssoort="T">'
            f"{''.join(parts)}</ZKN:besluit>"
            f'<ZKN:zaak StUF:entiteittype="ZAK" StUF:verwerkingssoort="{zaak_verwerkingssoort}">'
            f"<ZKN:identificatie>{zaak}</ZKN:identificatie></ZKN:zaak></ZKN:object></ZDS:voegBesluitToe_Di01>")


def update_besluit(identificatie: str, oud: str, nieuw: str, **sg: object) -> str:
    def obj(inner: str) -> str:
        return ('<ZKN:object StUF:entiteittype="BSL" StUF:verwerkingssoort="W">'
                f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>{inner}</ZKN:object>")

    return (f"<ZDS:updateBesluit_BslLk01 {NSDECL}>{stuurgegevens('ZKN', 'Lk01', entiteittype='BSL', **sg)}"
            "<ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort><StUF:indicatorOvername>I</StUF:indicatorOvername>"
            f"</ZKN:parameters>{obj(oud)}{obj(nieuw)}</ZDS:updateBesluit_BslLk01>")


def _vraag(element: str, entiteittype: str, identificatie: str, scope: str, **sg: object) -> str:
    return (f"<{element} {NSDECL}>{stuurgegevens('ZKN', 'Lv01', entiteittype=entiteittype, **sg)}"
            "<ZKN:parameters><StUF:sortering>0</StUF:sortering><StUF:indicatorVervolgvraag>false"
            "</StUF:indicatorVervolgvraag></ZKN:parameters>"
            f'<ZKN:gelijk StUF:entiteittype="{entiteittype}"><ZKN:identificatie>{identificatie}</ZKN:identificatie>'
            f"</ZKN:gelijk><ZKN:scope>{scope}</ZKN:scope></{element}>")


def geef_besluitdetails(identificatie: str, scope: str = ALLES, **sg: object) -> str:
    return _vraag("ZDS:geefBesluitdetails_BslLv01", "BSL", identificatie, scope, **sg)


def geef_lijst_besluiten(zaak: str, scope: str = LIJST_SCOPE, **sg: object) -> str:
    return _vraag("ZDS:geefLijstBesluiten_ZakLv01", "ZAK", zaak, scope, **sg)


def voeg_zaakdocument_toe(identificatie: str, zaak: str, *, titel: str = "Besluitbrief", **sg: object) -> str:
    obj = ('<ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="T">'
           f"<ZKN:identificatie>{identificatie}</ZKN:identificatie><ZKN:dct.omschrijving>Besluit</ZKN:dct.omschrijving>"
           f"<ZKN:creatiedatum>{today()}</ZKN:creatiedatum><ZKN:titel>{titel}</ZKN:titel>"
           "<ZKN:formaat>pdf</ZKN:formaat><ZKN:taal>nld</ZKN:taal>"
           "<ZKN:vertrouwelijkAanduiding>OPENBAAR</ZKN:vertrouwelijkAanduiding><ZKN:auteur>Gemeente</ZKN:auteur>"
           '<ZKN:inhoud StUF:bestandsnaam="besluit.pdf">JVBERi0xLjQK</ZKN:inhoud>'
           '<ZKN:isRelevantVoor StUF:entiteittype="EDCZAK" StUF:verwerkingssoort="T">'
           '<ZKN:gerelateerde StUF:entiteittype="ZAK" StUF:verwerkingssoort="I">'
           f"<ZKN:identificatie>{zaak}</ZKN:identificatie></ZKN:gerelateerde></ZKN:isRelevantVoor></ZKN:object>")
    return (f"<ZDS:voegZaakdocumentToe_EdcLk01 {NSDECL}>{stuurgegevens('ZKN', 'Lk01', entiteittype='EDC', **sg)}"
            "<ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername>"
            f"</ZKN:parameters>{obj}</ZDS:voegZaakdocumentToe_EdcLk01>")
