"""Reading an ``npsLv01`` into a question of the case model, the scope asked for and the paging.

Three selections are answered (shared/docs/stuf-bg-primer.md §2.1): ``gelijk/inp.bsn`` (alone);
``geslachtsnaam`` + complete ``geboortedatum`` (optionally ``voornamen``, ``voorvoegselGeslachtsnaam``,
``geslachtsaanduiding``); ``verblijfsadres/aoa.postcode`` + ``aoa.huisnummer`` (optionally
``aoa.huisletter``, ``aoa.huisnummertoevoeging``). Anything else, and ``vanaf``/``totEnMet``, is a
fault that says which questions are answered: an empty answer would claim that nothing matches.

A BSN that fails the 11-proof is refused with StUF055 (a value outside the domain of the BSN).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from broker.errors import StufError
from broker.model.person import Datum, PersoonVraag, elfproef
from broker.stuf import ns
from broker.zds.xmlutil import child, children, text

#: the sort orders of StUF:NPS-sortering the broker applies (0: any order)
SORTERINGEN = {0, 1, 3, 7, 8}
#: StUF:scope values and what they cover
NAMED_SCOPES = ("alles", "allesZonderMetagegevens", "allesMaarKerngegevensGerelateerden",
                "allesZonderMetagegevensMaarKerngegevensGerelateerden", "kerngegevens")
RELATIES = {"inp.heeftAlsEchtgenootPartner": "partners", "inp.heeftAlsKinderen": "kinderen",
            "inp.heeftAlsOuders": "ouders"}
ADRESSEN = ("verblijfsadres", "sub.correspondentieAdres", "sub.verblijfBuitenland")

_SUPPORTED = ("inp.bsn; geslachtsnaam + geboortedatum (met voornamen, voorvoegselGeslachtsnaam, "
              "geslachtsaanduiding); verblijfsadres/aoa.postcode + aoa.huisnummer (met aoa.huisletter, "
              "aoa.huisnummertoevoeging)")


@dataclass
class Scope:
    """What the answer must hold. ``named``: a StUF:scope value, or "standaard" when the question
    has no scope; otherwise the elements listed (``elements``), the children listed per address group
    (``groepen``) and per relation its own elements and those of its gerelateerde (``relaties``)."""

    named: str | None = None
    elements: set[str] = field(default_factory=set)
    groepen: dict[str, set[str]] = field(default_factory=dict)
    relaties: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)

    @property
    def metagegevens(self) -> bool:
        if self.named is None:
            return "inOnderzoek" in self.elements
        return self.named in ("alles", "allesMaarKerngegevensGerelateerden", "standaard")

    @property
    def relatie_namen(self) -> frozenset[str]:
        """The relations of the case model (partners, kinderen, ouders) the answer needs."""
        if self.named is not None:
            return frozenset(RELATIES.values()) if self.named.startswith("alles") else frozenset()
        return frozenset(RELATIES[r] for r in self.relaties if r in RELATIES)


@dataclass
class Paging:
    sortering: int
    vervolgvraag: bool
    maximum: int = 15
    aantal: bool = False
    afnemerindicatie: bool = False
    #: the bsn of the last object of the previous answer (a vervolgvraag's ``start``)
    start_bsn: str | None = None


@dataclass
class NpsVraag:
    vraag: PersoonVraag
    scope: Scope
    paging: Paging


#: elements a question may give as the beginning of the value (StUF:exact="false"), with the least
#: number of characters (those of the BRP API's wildcard)
INEXACT = {"geslachtsnaam": 3, "voornamen": 1}


def _exact(el: etree._Element) -> bool:
    return el.get(ns.q(ns.STUF, "exact")) != "false"


def _no_inexact(el: etree._Element) -> None:
    if not _exact(el) and ns.local(el.tag) in INEXACT:
        least = INEXACT[ns.local(el.tag)]
        if len((text(el) or "").rstrip("*")) < least:
            raise StufError("StUF058", f"Een niet-exacte {ns.local(el.tag)} moet minstens {least} tekens hebben",
                            "StUF:exact=\"false\" met een kortere waarde", plek="server")
        return
    if not _exact(el):
        raise StufError("StUF058", "Een niet-exacte selectie (StUF:exact=\"false\") wordt niet ondersteund",
                        f"element {ns.local(el.tag)}; vraag met exacte waarden", plek="server")


def read(body: etree._Element) -> NpsVraag:
    for name in ("vanaf", "totEnMet"):
        if child(body, name) is not None:
            raise StufError("StUF058", "Vragen met vanaf/totEnMet worden niet ondersteund",
                            f"de broker beantwoordt vragen met gelijk op: {_SUPPORTED}", plek="server")
    return NpsVraag(_selectie(child(body, "gelijk")), _scope(child(body, "scope")), _paging(body))


def _selectie(gelijk: etree._Element | None) -> PersoonVraag:
    if gelijk is None:
        raise StufError("StUF058", "Een vraag zonder selectie (gelijk) wordt niet ondersteund",
                        f"de broker beantwoordt vragen met gelijk op: {_SUPPORTED}", plek="server")
    given: dict[str, etree._Element] = {}
    adres: dict[str, etree._Element] = {}
    for el in children(gelijk):
        name = ns.local(el.tag)
        if name == "verblijfsadres":
            for part in children(el):
                if text(part) is not None:
                    _no_inexact(part)
                    adres[ns.local(part.tag)] = part
        elif text(el) is not None:
            _no_inexact(el)
            given[name] = el
    keys = set(given) | {f"verblijfsadres/{k}" for k in adres}
    if "inp.bsn" in given:
        if keys != {"inp.bsn"}:
            raise _unsupported(keys)
        bsn = text(given["inp.bsn"]) or ""
        if not elfproef(bsn):
            raise StufError("StUF055", "Het burgerservicenummer in de vraag voldoet niet aan de elfproef",
                            "gelijk/inp.bsn is geen geldig burgerservicenummer")
        return PersoonVraag(bsn=bsn)
    if "aoa.postcode" in adres and "aoa.huisnummer" in adres:
        allowed = {"verblijfsadres/aoa.postcode", "verblijfsadres/aoa.huisnummer", "verblijfsadres/aoa.huisletter",
                   "verblijfsadres/aoa.huisnummertoevoeging"}
        if not keys <= allowed:
            raise _unsupported(keys)
        huisletter = text(adres.get("aoa.huisletter"))
        return PersoonVraag(postcode=(text(adres["aoa.postcode"]) or "").replace(" ", "").upper(),
                            huisnummer=int(text(adres["aoa.huisnummer"]) or "0"),
                            huisletter=huisletter,
                            huisnummertoevoeging=text(adres.get("aoa.huisnummertoevoeging")))
    if "geslachtsnaam" in given and "geboortedatum" in given:
        if not keys <= {"geslachtsnaam", "geboortedatum", "voornamen", "voorvoegselGeslachtsnaam",
                        "geslachtsaanduiding"}:
            raise _unsupported(keys)
        geboren = given["geboortedatum"]
        datum = text(geboren) or ""
        indicator = geboren.get(ns.q(ns.STUF, "indOnvolledigeDatum"), "V")
        if indicator != "V" or len(datum) != 8 or datum.endswith("00"):
            raise StufError("StUF058", "Zoeken op een onvolledige geboortedatum wordt niet ondersteund",
                            "geef de volledige geboortedatum (JJJJMMDD)", plek="server")
        voornamen = given.get("voornamen")
        return PersoonVraag(geslachtsnaam=(text(given["geslachtsnaam"]) or "").rstrip("*"),
                            geboortedatum=Datum(datum),
                            geslachtsnaam_exact=_exact(given["geslachtsnaam"]),
                            voornamen=(text(voornamen) or "").rstrip("*") or None,
                            voornamen_exact=voornamen is None or _exact(voornamen),
                            voorvoegsel=text(given.get("voorvoegselGeslachtsnaam")),
                            geslacht=text(given.get("geslachtsaanduiding")))
    raise _unsupported(keys)


def _unsupported(keys: set[str]) -> StufError:
    return StufError("StUF058", "Deze selectie kan de personenbron niet beantwoorden",
                     f"gevraagd op: {', '.join(sorted(keys)) or '(niets)'}; ondersteund: {_SUPPORTED}",
                     plek="server")


def _scope(scope: etree._Element | None) -> Scope:
    obj = child(scope, "object") if scope is not None else None
    if obj is None:
        return Scope(named="standaard")
    named = obj.get(ns.q(ns.STUF, "scope"))
    if named:
        return Scope(named=named)
    result = Scope()
    for el in children(obj):
        name = ns.local(el.tag)
        result.elements.add(name)
        if name in ADRESSEN:
            result.groepen[name] = {ns.local(c.tag) for c in children(el)}
        elif name in RELATIES:
            own = {ns.local(c.tag) for c in children(el)}
            gerelateerde = child(el, "gerelateerde")
            asked = {ns.local(c.tag) for c in children(gerelateerde)} if gerelateerde is not None else set()
            if gerelateerde is not None and gerelateerde.get(ns.q(ns.STUF, "scope")):
                asked = {"*"}
            result.relaties[name] = (own - {"gerelateerde"}, asked)
    return result


def _paging(body: etree._Element) -> Paging:
    params = child(body, "parameters")

    def value(name: str) -> str | None:
        return text(child(params, name)) if params is not None else None

    sortering = int(value("sortering") or "0")
    if sortering not in SORTERINGEN:
        raise StufError("StUF133", f"Sortering {sortering} wordt niet ondersteund",
                        "ondersteund: 0 (geen), 1 (naam), 3 (postcode, huisnummer), 7 (geboortedatum, naam), 8 (bsn)",
                        plek="server")
    vervolg = value("indicatorVervolgvraag") in ("true", "1")
    paging = Paging(sortering=sortering, vervolgvraag=vervolg, maximum=int(value("maximumAantal") or "15"),
                    aantal=value("indicatorAantal") in ("true", "1"),
                    afnemerindicatie=value("indicatorAfnemerIndicatie") in ("true", "1"))
    if vervolg:
        start = child(body, "start")
        obj = child(start, "object") if start is not None else None
        bsn = text(child(obj, "inp.bsn")) if obj is not None else None
        if bsn is None:
            raise StufError("StUF103", "Een vervolgvraag moet in start het laatst ontvangen object noemen",
                            "start/object/inp.bsn ontbreekt")
        paging.start_bsn = bsn
    return paging


def describe(body: etree._Element) -> dict[str, object]:
    """A stored npsLv01 for operators: which kind of question, what it asks for; no personal data."""
    try:
        vraag = read(body)
    except StufError as exc:
        return {"vraag": "npsLv01", "niet beantwoordbaar": exc.code}
    scope = vraag.scope
    return {"vraag": vraag.vraag.soort,
            "scope": scope.named or sorted(scope.elements),
            "relaties": sorted(scope.relatie_namen),
            "sortering": vraag.paging.sortering, "maximumAantal": vraag.paging.maximum,
            "vervolgvraag": vraag.paging.vervolgvraag}


@dataclass
class NpsKennisgeving:
    mutatiesoort: str
    bsn: str


def kennisgeving(body: etree._Element) -> NpsKennisgeving:
    """An afnemer's npsLk01 to the broker: its mutatiesoort and the person's BSN (of the last object)."""
    params = child(body, "parameters")
    mutatiesoort = text(child(params, "mutatiesoort")) if params is not None else None
    objects = children(body, "object")
    bsn = text(child(objects[-1], "inp.bsn")) if objects else None
    if not bsn:
        raise StufError("StUF055", "De kennisgeving noemt geen burgerservicenummer",
                        "object/inp.bsn ontbreekt: een afnemerindicatie hoort bij een persoon")
    if not elfproef(bsn):
        raise StufError("StUF055", "Het burgerservicenummer in de kennisgeving voldoet niet aan de elfproef",
                        "object/inp.bsn is geen geldig burgerservicenummer")
    return NpsKennisgeving(mutatiesoort or "", bsn)
