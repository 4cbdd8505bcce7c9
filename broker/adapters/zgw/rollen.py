"""Rollen: a StUF-ZKN betrokkene relation (``heeftAlsInitiator``, ...) as a ZGW ROL and back.

The roltype (Catalogi API) is the one the mapping names for the StUF relation or for the rol's
omschrijving; otherwise the roltype of the zaaktype whose ``omschrijvingGeneriek`` matches the
relation (RGBZ 2.0 generic rol omschrijvingen):

==============================  =======================================
StUF-ZKN relation               ZGW omschrijvingGeneriek (first found)
==============================  =======================================
heeftAlsInitiator               initiator
heeftAlsBelanghebbende          belanghebbende
heeftAlsGemachtigde             belanghebbende (indicatieMachtiging gemachtigde)
heeftAlsUitvoerende             behandelaar
heeftAlsVerantwoordelijke       zaakcoordinator, beslisser
heeftAlsOverigBetrokkene        adviseur, mede_initiator, klantcontacter
==============================  =======================================

The betrokkene becomes ``betrokkeneIdentificatie`` of its kind (Zaken API 1.5.1: RolNatuurlijkPersoon,
RolNietNatuurlijkPersoon, RolMedewerker, RolVestiging, RolOrganisatorischeEenheid).
"""

from __future__ import annotations

from typing import Any

from broker.adapters.zgw.convert import (
    date_in,
    date_out,
    geslacht_in,
    geslacht_out,
    rechtsvorm_in,
    rechtsvorm_out,
)
from broker.errors import StufError
from broker.mappings.schema import ZaaktypeMapping
from broker.model import Adres, Betrokkene, Contactpersoon, Rol

GENERIEK: dict[str, tuple[str, ...]] = {
    "heeftAlsInitiator": ("initiator",),
    "heeftAlsBelanghebbende": ("belanghebbende",),
    "heeftAlsGemachtigde": ("belanghebbende",),
    "heeftAlsUitvoerende": ("behandelaar",),
    "heeftAlsVerantwoordelijke": ("zaakcoordinator", "beslisser"),
    "heeftAlsOverigBetrokkene": ("adviseur", "mede_initiator", "klantcontacter"),
}
_RELATIE_VAN_GENERIEK = {
    "initiator": "heeftAlsInitiator",
    "belanghebbende": "heeftAlsBelanghebbende",
    "behandelaar": "heeftAlsUitvoerende",
    "zaakcoordinator": "heeftAlsVerantwoordelijke",
    "beslisser": "heeftAlsVerantwoordelijke",
}
BETROKKENE_TYPE = {
    "natuurlijkPersoon": "natuurlijk_persoon",
    "nietNatuurlijkPersoon": "niet_natuurlijk_persoon",
    "medewerker": "medewerker",
    "vestiging": "vestiging",
    "organisatorischeEenheid": "organisatorische_eenheid",
}


def roltype(roltypen: list[dict[str, Any]], mapping: ZaaktypeMapping, rol: Rol, zaaktype: str) -> dict[str, Any]:
    """The roltype for ``rol`` among the zaaktype's ``roltypen``; StUF058 when there is none."""
    wanted = mapping.roltypen.get(rol.relatie) or mapping.roltypen.get(rol.rolomschrijving or "")
    if wanted:
        for rt in roltypen:
            if rt.get("omschrijving") == wanted:
                return rt
        raise _missing(rol, zaaktype, roltypen, f"de mapping noemt roltype {wanted!r}, dat het zaaktype niet heeft")
    generiek = GENERIEK.get(rol.relatie, ())
    if rol.rolomschrijving:
        for rt in roltypen:
            if rt.get("omschrijving") == rol.rolomschrijving and rt.get("omschrijvingGeneriek") in generiek:
                return rt
    for g in generiek:
        for rt in roltypen:
            if rt.get("omschrijvingGeneriek") == g:
                return rt
    raise _missing(rol, zaaktype, roltypen, f"geen roltype met omschrijvingGeneriek {' of '.join(generiek)}")


def _missing(rol: Rol, zaaktype: str, roltypen: list[dict[str, Any]], why: str) -> StufError:
    known = ", ".join(f"{r.get('omschrijving')} ({r.get('omschrijvingGeneriek')})" for r in roltypen) or "geen"
    return StufError("StUF058", f"Geen roltype voor {rol.relatie} bij zaaktype {zaaktype}",
                     f"{why}; roltypen van het zaaktype: {known}; zie 'roltypen' in de mapping")


def relatie(rol: dict[str, Any], roltype_: dict[str, Any], mapping: ZaaktypeMapping) -> str:
    """The StUF relation of a ZGW rol: the mapping read backwards, else by omschrijvingGeneriek."""
    for key, omschrijving in mapping.roltypen.items():
        if key.startswith("heeftAls") and omschrijving == roltype_.get("omschrijving"):
            return key
    generiek = roltype_.get("omschrijvingGeneriek") or rol.get("omschrijvingGeneriek")
    if generiek == "belanghebbende" and rol.get("indicatieMachtiging") == "gemachtigde":
        return "heeftAlsGemachtigde"
    return _RELATIE_VAN_GENERIEK.get(generiek or "", "heeftAlsOverigBetrokkene")


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [])}


def identificatie(b: Betrokkene) -> tuple[str, dict[str, Any]]:
    """(betrokkeneType, betrokkeneIdentificatie) of a betrokkene."""
    kind = BETROKKENE_TYPE.get(b.type)
    if kind is None:
        raise StufError("StUF058", f"Betrokkene van soort {b.type} kan niet in de Zaken API")
    ident: dict[str, Any]
    if b.type == "natuurlijkPersoon":
        ident = {"inpBsn": b.bsn, "anpIdentificatie": b.anp_identificatie, "inpA_nummer": b.a_nummer,
                 "geslachtsnaam": b.geslachtsnaam, "voorvoegselGeslachtsnaam": b.voorvoegsel,
                 "voorletters": b.voorletters, "voornamen": b.voornamen,
                 "geslachtsaanduiding": geslacht_in(b.geslachtsaanduiding),
                 "geboortedatum": date_in(b.geboortedatum) or b.geboortedatum,
                 "verblijfsadres": adres_in(b.verblijfsadres)}
    elif b.type == "nietNatuurlijkPersoon":
        ident = {"innNnpId": b.rsin, "annIdentificatie": b.ann_identificatie, "statutaireNaam": b.statutaire_naam,
                 "innRechtsvorm": rechtsvorm_in(b.rechtsvorm)}
    elif b.type == "medewerker":
        ident = {"identificatie": b.identificatie, "achternaam": b.achternaam, "voorletters": b.voorletters,
                 "voorvoegselAchternaam": b.voorvoegsel}
    elif b.type == "vestiging":
        ident = {"vestigingsNummer": b.vestigingsnummer, "handelsnaam": [b.handelsnaam] if b.handelsnaam else None,
                 "verblijfsadres": adres_in(b.verblijfsadres)}
    else:
        ident = {"identificatie": b.identificatie, "naam": b.naam, "isGehuisvestIn": (b.gehuisvest_in or "")[:24]}
    return kind, _drop_empty(ident)


def betrokkene(kind: str, ident: dict[str, Any]) -> Betrokkene:
    """A ZGW betrokkeneIdentificatie as the case model's betrokkene."""
    def v(name: str) -> str | None:
        value = ident.get(name)
        return value or None

    if kind == "natuurlijk_persoon":
        geboren = v("geboortedatum")
        return Betrokkene(type="natuurlijkPersoon", bsn=v("inpBsn"), anp_identificatie=v("anpIdentificatie"),
                          a_nummer=v("inpA_nummer"),
                          geslachtsnaam=v("geslachtsnaam"), voorvoegsel=v("voorvoegselGeslachtsnaam"),
                          voorletters=v("voorletters"), voornamen=v("voornamen"),
                          geslachtsaanduiding=geslacht_out(v("geslachtsaanduiding")),
                          geboortedatum=date_out(geboren) if geboren and "-" in geboren else geboren,
                          verblijfsadres=adres_out(ident.get("verblijfsadres")))
    if kind == "niet_natuurlijk_persoon":
        return Betrokkene(type="nietNatuurlijkPersoon", rsin=v("innNnpId"), ann_identificatie=v("annIdentificatie"),
                          statutaire_naam=v("statutaireNaam"), rechtsvorm=rechtsvorm_out(v("innRechtsvorm")))
    if kind == "medewerker":
        return Betrokkene(type="medewerker", identificatie=v("identificatie"), achternaam=v("achternaam"),
                          voorletters=v("voorletters"), voorvoegsel=v("voorvoegselAchternaam"))
    if kind == "vestiging":
        names = ident.get("handelsnaam") or []
        return Betrokkene(type="vestiging", vestigingsnummer=v("vestigingsNummer"),
                          handelsnaam=names[0] if names else None, verblijfsadres=adres_out(ident.get("verblijfsadres")))
    return Betrokkene(type="organisatorischeEenheid", identificatie=v("identificatie"), naam=v("naam"),
                      gehuisvest_in=v("isGehuisvestIn"))


def adres_in(a: Adres | None) -> dict[str, Any] | None:
    """A verblijfsadres as the Zaken API's VerblijfsAdres. It requires aoaIdentificatie, aoaHuisnummer
    (a number), gorOpenbareRuimteNaam and wplWoonplaatsNaam: an address without them is not sent.
    gor.straatnaam has no place (the openbare ruimte's naam is kept)."""
    if a is None or not (a.identificatie and a.openbare_ruimte_naam and a.woonplaatsnaam
                         and (a.huisnummer or "").isdigit()):
        return None
    return _drop_empty({"aoaIdentificatie": a.identificatie, "wplWoonplaatsNaam": a.woonplaatsnaam,
                        "gorOpenbareRuimteNaam": a.openbare_ruimte_naam, "aoaPostcode": a.postcode,
                        "aoaHuisnummer": int(a.huisnummer or 0), "aoaHuisletter": a.huisletter,
                        "aoaHuisnummertoevoeging": a.huisnummertoevoeging,
                        "inpLocatiebeschrijving": a.locatiebeschrijving})


def adres_out(value: dict[str, Any] | None) -> Adres | None:
    if not value or not value.get("aoaIdentificatie"):
        return None
    huisnummer = value.get("aoaHuisnummer")
    return Adres(identificatie=value.get("aoaIdentificatie"), woonplaatsnaam=value.get("wplWoonplaatsNaam") or None,
                 openbare_ruimte_naam=value.get("gorOpenbareRuimteNaam") or None,
                 postcode=value.get("aoaPostcode") or None,
                 huisnummer=str(huisnummer) if huisnummer is not None else None,
                 huisletter=value.get("aoaHuisletter") or None,
                 huisnummertoevoeging=value.get("aoaHuisnummertoevoeging") or None,
                 locatiebeschrijving=value.get("inpLocatiebeschrijving") or None)


def contactpersoon_in(c: Contactpersoon | None) -> dict[str, Any] | None:
    """The rol's contactpersoonRol (naam required); the CTP's identificatie has no place in it."""
    if c is None or not c.naam:
        return None
    return _drop_empty({"naam": c.naam[:200], "functie": (c.functie or "")[:50],
                        "telefoonnummer": (c.telefoonnummer or "")[:20], "emailadres": (c.emailadres or "")[:254]})


def contactpersoon_out(value: dict[str, Any] | None) -> Contactpersoon | None:
    if not value or not value.get("naam"):
        return None
    return Contactpersoon(naam=value["naam"], functie=value.get("functie") or None,
                          telefoonnummer=value.get("telefoonnummer") or None,
                          emailadres=value.get("emailadres") or None)


def same_betrokkene(zgw_rol: dict[str, Any], b: Betrokkene | None) -> bool:
    """Does a ZGW rol name this betrokkene (by its identifying value)?"""
    if b is None:
        return False
    kind, ident = identificatie(b)
    if zgw_rol.get("betrokkeneType") != kind:
        return False
    theirs = zgw_rol.get("betrokkeneIdentificatie") or {}
    keys = [k for k in ("inpBsn", "anpIdentificatie", "innNnpId", "annIdentificatie", "identificatie",
                        "vestigingsNummer") if ident.get(k)]
    return bool(keys) and all(theirs.get(k) == ident[k] for k in keys)
