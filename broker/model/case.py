"""Zaak, status, rol/betrokkene, document and besluit (RGBZ 2.0 concepts, named as in StUF-ZKN)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from lxml import etree

from broker.store.blobs import BlobRef

#: rol relations of StUF-ZKN ("heeftAls<Rol>") and their rolomschrijvingGeneriek (StUF-ZKN 03.10 enumeration)
ROLLEN = {
    "heeftAlsBelanghebbende": "Belanghebbende",
    "heeftAlsGemachtigde": "Gemachtigde",
    "heeftAlsInitiator": "Initiator",
    "heeftAlsUitvoerende": "Uitvoerder",
    "heeftAlsVerantwoordelijke": "Verantwoordelijke",
    "heeftAlsOverigBetrokkene": "Overig",
}

#: the rol relations' element names in any namespace, for lxml's name match in C (``iterchildren``)
ROL_TAGS = tuple("{*}" + name for name in ROLLEN)

#: betrokkene kinds (the choice inside a rol's gerelateerde)
BETROKKENE_TYPES = (
    "natuurlijkPersoon",
    "nietNatuurlijkPersoon",
    "medewerker",
    "vestiging",
    "organisatorischeEenheid",
)

PERSONAL_FIELDS = frozenset(
    {
        "bsn",
        "a_nummer",
        "geslachtsnaam",
        "voorletters",
        "voornamen",
        "voorvoegsel",
        "geboortedatum",
        "achternaam",
        "adres",
        "verblijfsadres",
        "naam",
        "telefoonnummer",
        "emailadres",
    }
)


@dataclass
class _Base:
    stuf: etree._Element | None = field(default=None, repr=False, compare=False, kw_only=True)
    #: the fields whose element the sender included, with or without a value. In the new object of a
    #: W kennisgeving these are the changes (StUF 03.01 §5.2): a field listed here with no value
    #: (None, or an empty list) is emptied, a field not listed stays as it is.
    present: set[str] = field(default_factory=set, repr=False, compare=False, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for display and JSON (without the StUF element)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("stuf", "present"):
                continue
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, _Base):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, BlobRef):
        return f"<{value.size} bytes in the file store>"
    return value


@dataclass
class ZaakType(_Base):
    code: str | None = None
    omschrijving: str | None = None
    ingangsdatum: str | None = None


@dataclass
class Adres(_Base):
    """A Dutch address as a betrokkene's verblijfsadres holds it (StUF-BG VerblijfsadresGrp)."""

    identificatie: str | None = None  # aoa.identificatie: the BAG nummeraanduiding
    woonplaatsnaam: str | None = None
    openbare_ruimte_naam: str | None = None
    straatnaam: str | None = None
    postcode: str | None = None
    huisnummer: str | None = None
    huisletter: str | None = None
    huisnummertoevoeging: str | None = None
    locatiebeschrijving: str | None = None


@dataclass
class Contactpersoon(_Base):
    """Who to address for a betrokkene in a rol (``heeftAlsAanspreekpunt``, CTP)."""

    identificatie: str | None = None
    naam: str | None = None
    functie: str | None = None
    telefoonnummer: str | None = None
    emailadres: str | None = None


@dataclass
class Betrokkene(_Base):
    type: str = "natuurlijkPersoon"
    bsn: str | None = None
    anp_identificatie: str | None = None
    a_nummer: str | None = None
    geslachtsnaam: str | None = None
    voorvoegsel: str | None = None
    voorletters: str | None = None
    voornamen: str | None = None
    geslachtsaanduiding: str | None = None
    geboortedatum: str | None = None
    #: natuurlijk persoon, vestiging
    verblijfsadres: Adres | None = None
    #: niet-natuurlijk persoon: RSIN (inn.nnpId) or ann.identificatie
    rsin: str | None = None
    ann_identificatie: str | None = None
    statutaire_naam: str | None = None
    rechtsvorm: str | None = None
    #: medewerker / organisatorische eenheid (a medewerker's voorvoegselAchternaam is ``voorvoegsel``)
    identificatie: str | None = None
    achternaam: str | None = None
    naam: str | None = None
    #: organisatorische eenheid: the vestigingsnummer of the vestiging it is housed in (isGehuisvestIn)
    gehuisvest_in: str | None = None
    #: vestiging
    vestigingsnummer: str | None = None
    handelsnaam: str | None = None

    @property
    def key(self) -> str | None:
        """The identifier that names this betrokkene (BSN, RSIN, vestigingsnummer, ...)."""
        return (
            self.bsn
            or self.rsin
            or self.ann_identificatie
            or self.vestigingsnummer
            or self.identificatie
            or self.a_nummer
        )


@dataclass
class Rol(_Base):
    """A betrokkene relation. In a W kennisgeving the relations of one kind are paired by position
    between the old and the new object (an empty placeholder has no betrokkene), and
    ``verwerkingssoort`` (StUF 03.01 §5.2.3: T, W, V, E, R, I) says what happens to each pair."""

    relatie: str  # StUF relation element, e.g. heeftAlsInitiator
    betrokkene: Betrokkene | None = None
    rolomschrijving: str | None = None
    toelichting: str | None = None
    contactpersoon: Contactpersoon | None = None
    verwerkingssoort: str | None = None

    @property
    def omschrijving_generiek(self) -> str:
        return ROLLEN.get(self.relatie, self.relatie)


@dataclass
class Status(_Base):
    zaaktype_code: str | None = None
    zaaktype_omschrijving: str | None = None
    code: str | None = None
    omschrijving: str | None = None
    volgnummer: str | None = None
    datum_status_gezet: str | None = None
    toelichting: str | None = None
    gezet_door: Betrokkene | None = None
    indicatie_laatste_status: str | None = None
    verwerkingssoort: str | None = None  # of the ``heeft`` relation in a kennisgeving (T: a new status)


@dataclass
class Inhoud(_Base):
    data: bytes = b""
    bestandsnaam: str | None = None
    content_type: str | None = None
    #: large content is not held in memory: it stays in the file store, ``data`` is then empty
    #: (broker.store.blobs; the edge moved it there while reading the request)
    blob: BlobRef | None = None

    @property
    def size(self) -> int:
        return self.blob.size if self.blob is not None else len(self.data)

    @property
    def has_content(self) -> bool:
        return self.blob is not None or bool(self.data)


@dataclass
class ZaakRelatie(_Base):
    """A document's relation with its zaak (EDCZAK ``isRelevantVoor``) and the relation's own gegevens."""

    zaak_identificatie: str | None = None
    titel: str | None = None
    beschrijving: str | None = None


@dataclass
class Document(_Base):
    identificatie: str | None = None
    documenttype: str | None = None  # dct.omschrijving
    documentcategorie: str | None = None  # dct.categorie
    creatiedatum: str | None = None
    ontvangstdatum: str | None = None
    titel: str | None = None
    beschrijving: str | None = None
    formaat: str | None = None
    taal: str | None = None
    versie: str | None = None
    status: str | None = None
    verzenddatum: str | None = None
    vertrouwelijkheid: str | None = None
    auteur: str | None = None
    link: str | None = None
    inhoud: Inhoud | None = None
    zaak_identificatie: str | None = None
    #: the relation with the zaak as the message names it (None when it names none)
    zaakrelatie: ZaakRelatie | None = None


@dataclass
class Besluit(_Base):
    identificatie: str | None = None
    besluittype: str | None = None  # bst.omschrijving
    datum_beslissing: str | None = None
    toelichting: str | None = None
    ingangsdatum: str | None = None
    vervaldatum: str | None = None
    vervalreden: str | None = None
    publicatiedatum: str | None = None
    verzenddatum: str | None = None
    uiterlijke_reactiedatum: str | None = None
    zaak_identificatie: str | None = None
    document_identificaties: list[str] = field(default_factory=list)


@dataclass
class Opschorting(_Base):
    indicatie: bool = False
    reden: str | None = None


@dataclass
class Verlenging(_Base):
    duur: int | None = None  # days
    reden: str | None = None


@dataclass
class ZaakObject(_Base):
    """An object the zaak is about (``heeftBetrekkingOp``): its kind (the element inside the
    gerelateerde, e.g. ``adres``), that element's entiteittype, and its simple gegevens by name."""

    soort: str
    entiteittype: str | None = None
    gegevens: dict[str, str] = field(default_factory=dict)
    omschrijving: str | None = None  # of the relation
    verwerkingssoort: str | None = None  # of the relation in a kennisgeving (T: a new one)


@dataclass
class Zaak(_Base):
    identificatie: str | None = None
    omschrijving: str | None = None
    toelichting: str | None = None
    zaaktype: ZaakType | None = None
    startdatum: str | None = None
    registratiedatum: str | None = None
    publicatiedatum: str | None = None
    einddatum_gepland: str | None = None
    uiterlijke_einddatum: str | None = None
    einddatum: str | None = None
    archiefnominatie: str | None = None
    datum_vernietiging_dossier: str | None = None
    resultaat_omschrijving: str | None = None
    resultaat_toelichting: str | None = None
    opschorting: Opschorting | None = None
    verlenging: Verlenging | None = None
    betalingsindicatie: str | None = None  # StUF-ZKN value: N.v.t., (Nog) niet, Gedeeltelijk, Geheel
    laatste_betaaldatum: str | None = None
    zaakniveau: str | None = None
    deelzaken_indicatie: str | None = None
    kenmerken: list[dict[str, str | None]] = field(default_factory=list)
    #: related zaken by identificatie: the hoofdzaak (heeftAlsHoofdzaak), other zaken (heeftBetrekkingOpAndere)
    hoofdzaak: str | None = None
    andere_zaken: list[str] = field(default_factory=list)
    deelzaken: list[str] = field(default_factory=list)  # heeftAlsDeelzaak, by identificatie
    zaakobjecten: list[ZaakObject] = field(default_factory=list)
    rollen: list[Rol] = field(default_factory=list)
    statussen: list[Status] = field(default_factory=list)

    def read_rollen_when_asked(self, read: Callable[[], list[Rol]]) -> None:
        """``rollen`` made by ``read`` when something first asks for them, then kept: a zaak read
        from a message carries its rollen's elements (their betrokkenen, addresses, about half of
        reading a zaak), which a target that stores the elements themselves never reads as fields.
        Equality, ``to_dict``, copies and ``dataclasses.replace`` see them as if read at once."""
        self.__dict__.pop("rollen", None)
        self.__dict__[_READ_ROLLEN] = read

    if not TYPE_CHECKING:  # (type checkers would take any unknown attribute for one)
        def __getattr__(self, name: str) -> Any:
            if name == "rollen":
                read = self.__dict__.get(_READ_ROLLEN)
                if read is not None:
                    self.__dict__.setdefault("rollen", read())  # another thread may have read them first
                    self.__dict__.pop(_READ_ROLLEN, None)  # (only once they are there)
                if "rollen" in self.__dict__:  # read here, or by another thread meanwhile
                    return self.__dict__["rollen"]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self) -> dict[str, Any]:
        """A copy (``copy``, ``deepcopy``, pickle) holds the rollen read, not their reader, which
        would read the original's elements."""
        self.rollen  # noqa: B018
        return self.__dict__


#: where a Zaak keeps the reader of its rollen until they are asked for (Zaak.read_rollen_when_asked)
_READ_ROLLEN = "_read_rollen"
