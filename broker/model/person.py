"""A natural person (natuurlijk persoon) as the broker reasons about it: what StUF-BG ``npsLa01`` and
the Haal Centraal BRP Personen API both carry, independent of either.

Dates may be incomplete, as in the BRP: :class:`Datum` keeps the GBA form ``yyyymmdd`` with zeros
for the unknown parts and says which parts are missing (StUF ``indOnvolledigeDatum``; the API's
``JaarMaandDatum``/``JaarDatum``/``DatumOnbekend``). Codes and numbers stay text (leading zeros).

A person is personal data through and through: nothing of it may be logged.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

_DATUM = re.compile(r"^[0-9]{8}$")

#: BRP code of adellijke titel/predicaat -> the StUF-BG value (capitalised words)
ADELLIJKE_TITELS = {
    "B": "Baron", "BS": "Barones", "G": "Graaf", "GI": "Gravin", "H": "Hertog", "HI": "Hertogin",
    "JH": "Jonkheer", "JV": "Jonkvrouw", "M": "Markies", "MI": "Markiezin", "P": "Prins", "PS": "Prinses",
    "R": "Ridder",
}

#: groups of a person that may be under investigation (StUF-BG ``NPSGroepen``)
ONDERZOEK_GROEPEN = ("Persoonsgegevens", "Overlijden", "Verblijfsplaats", "VerblijfBuitenland", "Inschrijving",
                     "Nationaliteit")


#: groups of a person a source's autorisatie may leave out (StUF: nietGeautoriseerd when asked for)
NIET_GEAUTORISEERD_GROEPEN = ("geboorte", "overlijden", "verblijfplaats", "gemeenteVanInschrijving", "partners",
                              "kinderen", "ouders")
#: the BRP's standaardwaarde for "established unknown" (StUF: vastgesteldOnbekend)
ONBEKENDE_NAAM = "."
ONBEKENDE_CODE = "0000"


@dataclass(frozen=True)
class Datum:
    """A date as the BRP registers it: ``yyyymmdd`` with ``00`` for an unknown month or day and
    ``00000000`` for a date that exists but is wholly unknown."""

    waarde: str

    def __post_init__(self) -> None:
        if not _DATUM.match(self.waarde):
            raise ValueError("a Datum is yyyymmdd (zeros for unknown parts)")

    @property
    def indicator(self) -> str:
        """StUF ``indOnvolledigeDatum``: V complete, D day unknown, M month and day unknown, J all unknown."""
        if self.waarde == "00000000":
            return "J"
        if self.waarde[4:] == "0000":
            return "M"
        if self.waarde[6:] == "00":
            return "D"
        return "V"

    @property
    def volledig(self) -> bool:
        return self.indicator == "V"

    @classmethod
    def of(cls, value: str | None) -> Datum | None:
        return cls(value) if value else None


@dataclass
class Adres:
    """A Dutch address (verblijfadres or briefadres) or, with ``land_code``, an address abroad."""

    functie: str | None = None  # W woonadres, B briefadres (the BRP's functieAdres)
    straat: str | None = None  # official name (openbare ruimte)
    korte_straatnaam: str | None = None
    huisnummer: int | None = None
    huisletter: str | None = None
    huisnummertoevoeging: str | None = None
    postcode: str | None = None  # 1234AB: no space, upper case
    woonplaats: str | None = None
    nummeraanduiding_id: str | None = None
    adresseerbaar_object_id: str | None = None
    locatiebeschrijving: str | None = None
    datum_aanvang: Datum | None = None
    # abroad
    land_code: str | None = None
    land_naam: str | None = None
    regel1: str | None = None
    regel2: str | None = None
    regel3: str | None = None

    @property
    def buitenland(self) -> bool:
        return self.land_code is not None and self.land_code != "6030"


@dataclass
class Naam:
    geslachtsnaam: str | None = None
    voorvoegsel: str | None = None
    voornamen: str | None = None
    voorletters: str | None = None
    adellijke_titel: str | None = None  # BRP code (G, JH ...), see ADELLIJKE_TITELS
    aanduiding_naamgebruik: str | None = None  # E, N, P, V

    def berekende_voorletters(self) -> str | None:
        if self.voorletters:
            return self.voorletters
        if not self.voornamen:
            return None
        return "".join(f"{part[0]}." for part in self.voornamen.split() if part)[:20] or None


@dataclass
class Verwant:
    """A related person (partner, kind, ouder) with the basic data a person list holds of it."""

    bsn: str | None = None
    naam: Naam = field(default_factory=Naam)
    geslacht: str | None = None  # M, V, O
    geboortedatum: Datum | None = None
    geboorteplaats: str | None = None
    geboorteland: str | None = None
    in_onderzoek: bool = False
    # partner
    soort_verbintenis: str | None = None  # H huwelijk, P partnerschap
    datum_sluiting: Datum | None = None
    plaats_sluiting: str | None = None
    land_sluiting: str | None = None
    datum_ontbinding: Datum | None = None
    # ouder
    ouder_aanduiding: str | None = None  # "1" or "2"
    datum_ingang_familierechtelijke_betrekking: Datum | None = None


@dataclass
class Persoon:
    bsn: str
    a_nummer: str | None = None
    naam: Naam = field(default_factory=Naam)
    geslacht: str | None = None
    geboortedatum: Datum | None = None
    geboorteplaats: str | None = None
    geboorteland: str | None = None
    overlijdensdatum: Datum | None = None
    overlijdensplaats: str | None = None
    overlijdensland: str | None = None
    verblijfadres: Adres | None = None  # in the Netherlands, or abroad (land_code)
    correspondentieadres: Adres | None = None  # a briefadres
    gemeente_van_inschrijving: str | None = None
    datum_inschrijving: Datum | None = None
    #: indicatie geheim 0-7 (GBA 07.70.10); None when the source does not say
    geheimhouding: int | None = None
    opschorting_reden: str | None = None  # O overlijden, E emigratie, M, F, R
    opschorting_datum: Datum | None = None
    #: groups under investigation (ONDERZOEK_GROEPEN)
    in_onderzoek: list[str] = field(default_factory=list)
    partners: list[Verwant] = field(default_factory=list)
    kinderen: list[Verwant] = field(default_factory=list)
    ouders: list[Verwant] = field(default_factory=list)
    #: groups the source may not give the broker (its autorisatie): NIET_GEAUTORISEERD_GROEPEN
    niet_geautoriseerd: list[str] = field(default_factory=list)

    @property
    def overleden(self) -> bool:
        return self.overlijdensdatum is not None or self.opschorting_reden == "O"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (dates as their ``yyyymmdd`` text), the seed file's form; empty values left out."""
        return _prune(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Persoon:
        return _build(cls, data)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"waarde"}:
            return value["waarde"]
        return {k: _prune(v) for k, v in value.items() if v not in (None, [], {}, False)}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


_KINDS: dict[type, dict[str, str]] = {}


def _kinds(cls: type) -> dict[str, str]:
    """Per field of ``cls``: how its plain value becomes the field's value (computed once)."""
    found = _KINDS.get(cls)
    if found is None:
        found = {}
        for f in fields(cls):
            kind = str(f.type)
            found[f.name] = ("datum" if "Datum" in kind else "naam" if kind.startswith("Naam") else
                             "adres" if kind.startswith("Adres") else "verwanten" if kind == "list[Verwant]" else "")
        _KINDS[cls] = found
    return found


def _build(cls: type, data: dict[str, Any]) -> Any:
    kinds = _kinds(cls)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        kind = kinds[name]  # an unknown key is a KeyError: not a person of this model
        if value is None or not kind:
            kwargs[name] = value
        elif kind == "datum":
            kwargs[name] = Datum(value)
        elif kind == "naam":
            kwargs[name] = _build(Naam, value)
        elif kind == "adres":
            kwargs[name] = _build(Adres, value)
        else:
            kwargs[name] = [_build(Verwant, v) for v in value]
    return cls(**kwargs)


def elfproef(bsn: str) -> bool:
    """Whether a BSN passes the 11-proof: sum of the first eight digits times 9..2, minus the last, is a
    multiple of 11 (and the number is not all zeros)."""
    if len(bsn) != 9 or not bsn.isdigit() or bsn == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1), strict=True)) - int(bsn[8])
    return total % 11 == 0


@dataclass
class PersoonVraag:
    """A question for persons, as a person source gets it: one of three kinds of selection.

    ``bsn``: by burgerservicenummer. ``geslachtsnaam`` + ``geboortedatum`` (complete), optionally
    ``voornamen``, ``voorvoegsel``, ``geslacht``. ``postcode`` + ``huisnummer``, optionally
    ``huisletter``, ``huisnummertoevoeging``. ``relaties``: which of partners, kinderen, ouders the
    answer needs (a source may leave the others out).
    """

    bsn: str | None = None
    geslachtsnaam: str | None = None
    geboortedatum: Datum | None = None
    voornamen: str | None = None
    voorvoegsel: str | None = None
    geslacht: str | None = None
    postcode: str | None = None
    huisnummer: int | None = None
    huisletter: str | None = None
    huisnummertoevoeging: str | None = None
    relaties: frozenset[str] = frozenset()
    inclusief_overledenen: bool = True
    #: False: the person's geslachtsnaam (voornamen) begins with the asked one (StUF:exact="false")
    geslachtsnaam_exact: bool = True
    voornamen_exact: bool = True

    @property
    def soort(self) -> str:
        if self.bsn is not None:
            return "bsn"
        if self.postcode is not None:
            return "postcode_huisnummer"
        return "naam_geboortedatum"
