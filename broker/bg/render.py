"""Rendering ``npsLa01`` from persons of the case model, in schema order, as the scope asks.

What the scope lists is answered: a value, or ``xsi:nil`` with ``StUF:noValue`` -- ``geenWaarde`` when
the person has none (no voorvoegsel, not deceased), ``nietOndersteund`` for an element no person
source holds (telephone, e-mail, bank account...). A named scope (``alles``, ``kerngegevens``) and the
default (no scope: the person with its addresses) answer what has a value and leave the rest out.

Kept from the source: incomplete dates (``StUF:indOnvolledigeDatum`` D/M/J with zeros for the unknown
parts), ``inOnderzoek`` per group (and on the relations), voorvoegsel, adellijke titel/predikaat,
overlijden with the opschorting of the bijhouding, and ``inp.indicatieGeheim``, which is sent whenever
it is set, asked for or not: protecting these persons is the receiver's duty and it must know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from broker.bg.read import RELATIES, Scope
from broker.model.person import ADELLIJKE_TITELS, ONBEKENDE_CODE, ONBEKENDE_NAAM, Adres, Datum, Persoon, Verwant
from broker.stuf import ns
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem, answer_to, write

_ENTITEITTYPE = ns.q(ns.STUF, "entiteittype")
_NIL = ns.q(ns.XSI, "nil")
_NOVALUE = ns.q(ns.STUF, "noValue")
_INDICATOR = ns.q(ns.STUF, "indOnvolledigeDatum")
_METAGEGEVEN = ns.q(ns.STUF, "metagegeven")

#: the simple elements of NPS-antwoord up to the address choice, in schema order
_PERSOON_KOP = ("inp.bsn", "authentiek", "anp.identificatie", "sub.typering", "inp.a-nummer", "geslachtsnaam",
                "voorvoegselGeslachtsnaam", "voorletters", "voornamen", "aanduidingNaamgebruik",
                "geslachtsnaamPartner", "voorvoegselGeslachtsnaamPartner", "aanhefAanschrijving",
                "voornamenAanschrijving", "geslachtsnaamAanschrijving", "adellijkeTitelPredikaat",
                "geslachtsaanduiding", "geboortedatum", "inp.geboorteplaats", "inp.geboorteLand",
                "overlijdensdatum", "inp.overlijdenplaats", "inp.overlijdenLand")
#: the simple elements after the addresses, in schema order
_PERSOON_STAART = ("sub.telefoonnummer", "sub.faxnummer", "sub.emailadres", "sub.url", "sub.rekeningnummerBankGiro",
                   "acd.code", "inp.burgerlijkeStaat", "inp.gemeenteVanInschrijving", "inp.datumInschrijving",
                   "vbt.aanduidingVerblijfstitel", "ing.datumVerkrijgingVerblijfstitel",
                   "ing.datumVerliesVerblijfstitel", "inp.datumVestigingInNederland", "inp.immigratieLand",
                   "inp.datumVertrekUitNederland", "inp.emigratieLand", "inp.signaleringReisdocument",
                   "inp.aanduidingBijzonderNederlanderschap", "inp.buitenlandsReisdocument",
                   "ing.aanduidingEuropeesKiesrecht", "ing.aanduidingUitgeslotenKiesrecht",
                   "ing.indicatieGezagMinderjarige", "ing.indicatieCurateleRegister",
                   "inp.datumOpschortingBijhouding", "inp.redenOpschortingBijhouding", "inp.indicatieGeheim",
                   "ing.indicatieBlokkering")
#: what a person source can hold at all; everything else asked for is nietOndersteund
_BEKEND = frozenset({"inp.bsn", "authentiek", "inp.a-nummer", "geslachtsnaam", "voorvoegselGeslachtsnaam",
                     "voorletters", "voornamen", "aanduidingNaamgebruik", "geslachtsnaamPartner",
                     "voorvoegselGeslachtsnaamPartner", "adellijkeTitelPredikaat", "geslachtsaanduiding",
                     "geboortedatum", "inp.geboorteplaats", "inp.geboorteLand", "overlijdensdatum",
                     "inp.overlijdenplaats", "inp.overlijdenLand", "inp.gemeenteVanInschrijving",
                     "inp.datumInschrijving", "inp.datumOpschortingBijhouding", "inp.redenOpschortingBijhouding",
                     "inp.indicatieGeheim", "inp.adresHerkomst"})
KERNGEGEVENS = frozenset({"inp.bsn", "authentiek", "geslachtsnaam", "voorvoegselGeslachtsnaam", "voorletters",
                          "voornamen", "geslachtsaanduiding", "geboortedatum"})
#: without a scope: the person, its addresses and what the broker must always tell (no relations)
STANDAARD = (_BEKEND | {"verblijfsadres", "sub.verblijfBuitenland", "sub.correspondentieAdres"}) - {
    "authentiek", "geslachtsnaamPartner", "voorvoegselGeslachtsnaamPartner"}
#: the elements of a related person (NPS-gerelateerdeAntwoord) the broker fills
_GERELATEERDE = ("inp.bsn", "geslachtsnaam", "voorvoegselGeslachtsnaam", "voorletters", "voornamen",
                 "adellijkeTitelPredikaat", "geslachtsaanduiding", "geboortedatum", "inp.geboorteplaats",
                 "inp.geboorteLand")
_ADRES = ("aoa.identificatie", "authentiek", "wpl.identificatie", "wpl.woonplaatsNaam", "aoa.woonplaatsWaarinGelegen",
          "gor.identificatie", "opr.identificatie", "gor.openbareRuimteNaam", "gor.straatnaam", "aoa.postcode",
          "aoa.huisnummer", "aoa.huisletter", "aoa.huisnummertoevoeging", "inp.locatiebeschrijving",
          "begindatumVerblijf")
_CORRESPONDENTIE = ("typering", "wpl.woonplaatsNaam", "aoa.woonplaatsWaarinGelegen", "postcode", "aoa.identificatie",
                    "authentiek", "wpl.identificatie", "opr.identificatie", "gor.openbareRuimteNaam",
                    "gor.straatnaam", "aoa.huisnummer", "aoa.huisletter", "aoa.huisnummertoevoeging")
#: address parts no person source holds (nietOndersteund), and those the broker never writes
_GROEP_ONBEKEND = frozenset({"wpl.identificatie", "gor.identificatie", "opr.identificatie"})
_GROEP_OVERSLAAN = frozenset({"authentiek", "aoa.woonplaatsWaarinGelegen"})
_BUITENLAND = ("lnd.landcode", "lnd.landnaam", "sub.adresBuitenland1", "sub.adresBuitenland2", "sub.adresBuitenland3")
_RELATIE_TYPE = {"inp.heeftAlsEchtgenootPartner": "NPSNPSHUW", "inp.heeftAlsKinderen": "NPSNPSKND",
                 "inp.heeftAlsOuders": "NPSNPSOUD"}
_RELATIE_EIGEN = {
    "inp.heeftAlsEchtgenootPartner": ("soortVerbintenis", "datumSluiting", "plaatsSluiting", "landSluiting",
                                      "datumOntbinding"),
    "inp.heeftAlsKinderen": (),
    "inp.heeftAlsOuders": ("ouderAanduiding", "datumIngangFamilierechtelijkeBetrekking"),
}

class _VastgesteldOnbekend:
    """The BRP's standaardwaarde for "established unknown" (geslachtsnaam ".", land or gemeente 0000)."""


ONBEKEND = _VastgesteldOnbekend()
Value = str | Datum | _VastgesteldOnbekend | None
#: StUF element -> the group of the case model a source may not be authorised for
_GROEP_VAN = {
    "geboortedatum": "geboorte", "inp.geboorteplaats": "geboorte", "inp.geboorteLand": "geboorte",
    "overlijdensdatum": "overlijden", "inp.overlijdenplaats": "overlijden", "inp.overlijdenLand": "overlijden",
    "verblijfsadres": "verblijfplaats", "sub.verblijfBuitenland": "verblijfplaats", "inp.adresHerkomst": "verblijfplaats",
    "sub.correspondentieAdres": "verblijfplaats", "inp.gemeenteVanInschrijving": "gemeenteVanInschrijving",
    "inp.datumInschrijving": "gemeenteVanInschrijving", "inp.heeftAlsEchtgenootPartner": "partners",
    "inp.heeftAlsKinderen": "kinderen", "inp.heeftAlsOuders": "ouders",
}


def _naam_of(value: str | None, limit: int) -> Value:
    return ONBEKEND if value == ONBEKENDE_NAAM else _clip(value, limit)


def _code_of(value: str | None) -> Value:
    return ONBEKEND if value == ONBEKENDE_CODE else value


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


def _naam_values(naam: Any) -> dict[str, Value]:
    return {
        "geslachtsnaam": _naam_of(naam.geslachtsnaam, 200),
        "voorvoegselGeslachtsnaam": _clip(naam.voorvoegsel, 10),
        "voorletters": _clip(naam.berekende_voorletters(), 20),
        "voornamen": _clip(naam.voornamen, 200),
        "aanduidingNaamgebruik": naam.aanduiding_naamgebruik,
        "adellijkeTitelPredikaat": ADELLIJKE_TITELS.get(naam.adellijke_titel or ""),
    }


def persoon_values(p: Persoon) -> dict[str, Value]:
    partner = next((v for v in p.partners if v.datum_ontbinding is None), None)
    values: dict[str, Value] = {
        "inp.bsn": p.bsn, "authentiek": "J", "inp.a-nummer": p.a_nummer, **_naam_values(p.naam),
        "geslachtsnaamPartner": _clip(partner.naam.geslachtsnaam, 200) if partner else None,
        "voorvoegselGeslachtsnaamPartner": _clip(partner.naam.voorvoegsel, 10) if partner else None,
        "geslachtsaanduiding": p.geslacht, "geboortedatum": p.geboortedatum,
        "inp.geboorteplaats": _clip(p.geboorteplaats, 40), "inp.geboorteLand": _code_of(p.geboorteland),
        "overlijdensdatum": p.overlijdensdatum, "inp.overlijdenplaats": _clip(p.overlijdensplaats, 40),
        "inp.overlijdenLand": _code_of(p.overlijdensland),
        "inp.adresHerkomst": p.verblijfadres.functie if p.verblijfadres and not p.verblijfadres.buitenland else None,
        "inp.gemeenteVanInschrijving": _code_of(p.gemeente_van_inschrijving),
        "inp.datumInschrijving": p.datum_inschrijving,
        "inp.datumOpschortingBijhouding": p.opschorting_datum, "inp.redenOpschortingBijhouding": p.opschorting_reden,
        "inp.indicatieGeheim": str(p.geheimhouding) if p.geheimhouding is not None else None,
    }
    return values


def verwant_values(v: Verwant) -> dict[str, Value]:
    return {"inp.bsn": v.bsn, **_naam_values(v.naam), "geslachtsaanduiding": v.geslacht,
            "geboortedatum": v.geboortedatum, "inp.geboorteplaats": _clip(v.geboorteplaats, 40),
            "inp.geboorteLand": _code_of(v.geboorteland)}


def _put(parent: etree._Element, name: str, value: Value, *, nil_as: str | None = None,
         tag_ns: str = ns.BG) -> None:
    """One simple element: its value, or nil with ``nil_as`` as noValue (None: left out)."""
    if isinstance(value, _VastgesteldOnbekend):
        value, nil_as = None, "vastgesteldOnbekend"
    if value is None:
        if nil_as is None:
            return
        el = etree.SubElement(parent, ns.q(tag_ns, name))
        el.set(_NIL, "true")
        el.set(_NOVALUE, nil_as)
        return
    el = etree.SubElement(parent, ns.q(tag_ns, name))
    if isinstance(value, Datum):
        el.text = value.waarde
        if value.indicator != "V":
            el.set(_INDICATOR, value.indicator)
    else:
        el.text = value
        if name == "authentiek":  # a metagegeven of inp.bsn: the BSN comes from the BRP
            el.set(_METAGEGEVEN, "true")


class _Wants:
    """Which elements of one level an answer holds, and what an asked-for element without a value gets."""

    def __init__(self, named: str | None, listed: set[str], default: frozenset[str], known: frozenset[str]) -> None:
        self.named, self.listed, self.default, self.known = named, listed, default, known

    def __call__(self, name: str) -> bool:
        if self.named is None:
            return name in self.listed
        if self.named == "kerngegevens":
            return name in KERNGEGEVENS
        if self.named == "standaard":
            return name in self.default
        return True  # alles...

    def empty(self, name: str) -> str | None:
        """noValue for a wanted element without a value: only when it was listed explicitly."""
        if self.named is not None or name not in self.listed:
            return None
        return "geenWaarde" if name in self.known else "nietOndersteund"


def persoon_object(p: Persoon, scope: Scope) -> etree._Element:
    obj = etree.Element(ns.q(ns.BG, "object"), nsmap=ns.NSMAP)
    obj.set(_ENTITEITTYPE, "NPS")
    wants = _Wants(scope.named, scope.elements, STANDAARD, _BEKEND)
    values = persoon_values(p)
    verboden = set(p.niet_geautoriseerd)

    def put(name: str) -> None:
        if _GROEP_VAN.get(name) in verboden:  # asked for, and withheld from the broker: say so
            if scope.named is None and name in scope.elements:
                _put(obj, name, None, nil_as="nietGeautoriseerd")
            return
        _put(obj, name, values.get(name), nil_as=wants.empty(name))

    for name in _PERSOON_KOP:
        if wants(name):
            put(name)
    if "verblijfplaats" not in verboden:
        _addresses(obj, p, scope, wants)
    else:
        for group in ("verblijfsadres", "sub.correspondentieAdres"):  # not nillable: the asked parts are
            if scope.named is None and scope.groepen.get(group):
                el = etree.SubElement(obj, ns.q(ns.BG, group))
                order = _ADRES if group == "verblijfsadres" else _CORRESPONDENTIE
                for part in order:
                    if part in scope.groepen[group] and part not in _GROEP_OVERSLAAN:
                        _put(el, part, None, nil_as="nietGeautoriseerd")
    for name in _PERSOON_STAART:
        if wants(name) or (name == "inp.indicatieGeheim" and p.geheimhouding):
            put(name)
    if scope.metagegevens:
        for groep in p.in_onderzoek:
            el = etree.SubElement(obj, ns.q(ns.BG, "inOnderzoek"))
            el.text = "J"
            el.set(_METAGEGEVEN, "true")
            el.set("groepsnaam", groep)
    for relatie, lijst in (("inp.heeftAlsEchtgenootPartner", p.partners), ("inp.heeftAlsKinderen", p.kinderen),
                           ("inp.heeftAlsOuders", p.ouders)):
        if scope.named is not None and not scope.named.startswith("alles"):
            continue
        if scope.named is None and relatie not in scope.relaties:
            continue
        if _GROEP_VAN[relatie] in verboden:
            if scope.named is None:  # asked for explicitly: one nil relation says it is withheld
                el = etree.SubElement(obj, ns.q(ns.BG, relatie))
                el.set(_ENTITEITTYPE, _RELATIE_TYPE[relatie])
                el.set(_NIL, "true")
                el.set(_NOVALUE, "nietGeautoriseerd")
            continue
        for verwant in lijst:
            obj.append(_relatie(relatie, verwant, scope))
    return obj


def _addresses(obj: etree._Element, p: Persoon, scope: Scope, wants: _Wants) -> None:
    adres = p.verblijfadres
    if adres is not None and adres.buitenland:
        if wants("sub.verblijfBuitenland"):
            _group(obj, "sub.verblijfBuitenland", _BUITENLAND, _buitenland_values(adres),
                   scope.groepen.get("sub.verblijfBuitenland"))
    elif wants("verblijfsadres"):
        if adres is not None:
            _group(obj, "verblijfsadres", _ADRES, _adres_values(adres), scope.groepen.get("verblijfsadres"))
        elif scope.named is None:  # asked for, and the person has none (unknown or abroad)
            _group(obj, "verblijfsadres", _ADRES, {}, scope.groepen.get("verblijfsadres"), empty="waardeOnbekend")
    if wants("inp.adresHerkomst"):
        _put(obj, "inp.adresHerkomst", persoon_values(p)["inp.adresHerkomst"], nil_as=wants.empty("inp.adresHerkomst"))
    if wants("sub.correspondentieAdres"):
        brief = p.correspondentieadres
        if brief is not None:
            values = _adres_values(brief)
            values["postcode"] = values.pop("aoa.postcode", None)
            _group(obj, "sub.correspondentieAdres", _CORRESPONDENTIE, values,
                   scope.groepen.get("sub.correspondentieAdres"))
        elif scope.named is None:
            _group(obj, "sub.correspondentieAdres", _CORRESPONDENTIE, {},
                   scope.groepen.get("sub.correspondentieAdres"), empty="geenWaarde")


def _group(obj: etree._Element, name: str, order: tuple[str, ...], values: dict[str, Value],
           listed: set[str] | None, empty: str = "geenWaarde") -> None:
    """An address group (not nillable itself): its listed children, or all that have a value."""
    el = etree.SubElement(obj, ns.q(ns.BG, name))
    for part in order:
        if part in _GROEP_OVERSLAAN:
            continue
        if listed:
            if part in listed:
                _put(el, part, values.get(part), nil_as="nietOndersteund" if part in _GROEP_ONBEKEND else empty)
        else:
            _put(el, part, values.get(part))
    if len(el) == 0:  # nothing to say: an empty group would claim nothing
        obj.remove(el)


def _adres_values(a: Adres) -> dict[str, Value]:
    values: dict[str, Value] = {
        "aoa.identificatie": a.nummeraanduiding_id, "wpl.woonplaatsNaam": _clip(a.woonplaats, 80),
        "gor.openbareRuimteNaam": _clip(a.straat, 80),
        "gor.straatnaam": a.korte_straatnaam if a.korte_straatnaam and len(a.korte_straatnaam) <= 24 else None,
        "aoa.postcode": a.postcode, "aoa.huisnummer": str(a.huisnummer) if a.huisnummer else None,
        "aoa.huisletter": a.huisletter, "aoa.huisnummertoevoeging": a.huisnummertoevoeging,
        "inp.locatiebeschrijving": _clip(a.locatiebeschrijving, 35), "begindatumVerblijf": a.datum_aanvang,
    }
    return {k: v for k, v in values.items() if v is not None}


def _buitenland_values(a: Adres) -> dict[str, Value]:
    values: dict[str, Value] = {"lnd.landcode": a.land_code, "lnd.landnaam": _clip(a.land_naam, 40),
                                "sub.adresBuitenland1": _clip(a.regel1, 35), "sub.adresBuitenland2": _clip(a.regel2, 35),
                                "sub.adresBuitenland3": _clip(a.regel3, 35)}
    return {k: v for k, v in values.items() if v is not None}


def _relatie(relatie: str, v: Verwant, scope: Scope) -> etree._Element:
    el = etree.Element(ns.q(ns.BG, relatie))
    el.set(_ENTITEITTYPE, _RELATIE_TYPE[relatie])
    own, asked = scope.relaties.get(relatie, (set(), set()))
    gerelateerde = etree.SubElement(el, ns.q(ns.BG, "gerelateerde"))
    gerelateerde.set(_ENTITEITTYPE, "NPS")
    values = verwant_values(v)
    kern = scope.named in ("allesMaarKerngegevensGerelateerden", "allesZonderMetagegevensMaarKerngegevensGerelateerden")
    for name in _GERELATEERDE:
        if asked and "*" not in asked:
            if name in asked:
                _put(gerelateerde, name, values.get(name), nil_as="waardeOnbekend")
        elif not kern or name in KERNGEGEVENS:
            _put(gerelateerde, name, values.get(name))
    own_values: dict[str, Value] = {
        "soortVerbintenis": v.soort_verbintenis, "datumSluiting": v.datum_sluiting,
        "plaatsSluiting": _clip(v.plaats_sluiting, 40), "landSluiting": v.land_sluiting,
        "datumOntbinding": v.datum_ontbinding,
        "ouderAanduiding": {"1": "Ouder1", "2": "Ouder2"}.get(v.ouder_aanduiding or ""),
        "datumIngangFamilierechtelijkeBetrekking": v.datum_ingang_familierechtelijke_betrekking,
    }
    for name in _RELATIE_EIGEN[relatie]:
        if not own or name in own:
            _put(el, name, own_values.get(name), nil_as="geenWaarde" if name in own else None)
    if v.in_onderzoek and (scope.metagegevens or "inOnderzoek" in own or scope.named is None):
        onderzoek = etree.SubElement(el, ns.q(ns.BG, "inOnderzoek"))
        onderzoek.text = "J"
        onderzoek.set(_METAGEGEVEN, "true")
        if relatie == "inp.heeftAlsEchtgenootPartner":
            onderzoek.set("groepsnaam", "sluiting")
    return el


def la01(request: Stuurgegevens, own: Systeem, objects: list[etree._Element], *, vervolg: bool,
         aantal: int | None = None, afnemerindicatie: bool | None = None) -> etree._Element:
    """``npsLa01``: stuurgegevens mirrored, the parameters, and the objects (no antwoord when none).
    ``afnemerindicatie``: whether the afnemerindicaties the question asked for were placed (None: not asked)."""
    root = etree.Element(ns.q(ns.BG, "npsLa01"), nsmap=ns.NSMAP)
    write(root, ns.q(ns.BG, "stuurgegevens"), answer_to(request, "La01", own, entiteittype="NPS"))
    params = etree.SubElement(root, ns.q(ns.BG, "parameters"))
    etree.SubElement(params, ns.q(ns.STUF, "indicatorVervolgvraag")).text = "true" if vervolg else "false"
    if afnemerindicatie is not None:
        etree.SubElement(params, ns.q(ns.STUF, "indicatorAfnemerIndicatie")).text = str(afnemerindicatie).lower()
    if aantal is not None:
        etree.SubElement(params, ns.q(ns.STUF, "aantalVoorkomens")).text = str(aantal)
    if objects:
        antwoord = etree.SubElement(root, ns.q(ns.BG, "antwoord"))
        for o in objects:
            antwoord.append(o)
    return root


SortKey = Callable[[Persoon], tuple[str, ...]]


def _naam_key(p: Persoon) -> tuple[str, ...]:
    return ((p.naam.geslachtsnaam or "").lower(), (p.naam.berekende_voorletters() or "").lower(),
            (p.naam.voorvoegsel or "").lower())


SORTERINGEN: dict[int, SortKey] = {
    0: lambda p: (p.bsn,),
    1: lambda p: (*_naam_key(p), p.bsn),
    3: lambda p: ((p.verblijfadres.postcode or "") if p.verblijfadres else "",
                  f"{p.verblijfadres.huisnummer or 0:05d}" if p.verblijfadres else "",
                  (p.verblijfadres.huisletter or "") if p.verblijfadres else "", p.bsn),
    7: lambda p: (p.geboortedatum.waarde if p.geboortedatum else "", *_naam_key(p), p.bsn),
    8: lambda p: (p.bsn,),
}
RELATIE_NAMEN = RELATIES
