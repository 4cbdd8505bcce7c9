"""The format of a mapping file (``<config>/mappings/*.yaml``): how ZDS values become ZGW resources.

A functional administrator writes one file per zaaktype, per zender, or one for everything; the
broker reads them all together (broker.mappings.mapping). Every part is optional. Example::

    gemeenten:                      # gemeentecode -> RSIN (bronorganisatie, verantwoordelijkeOrganisatie)
      "1234": "002220647"
    vertrouwelijkheidaanduiding: zaakvertrouwelijk
    defaults:
      document: {taal: nld}
    zaaktypen:
      SHV:                          # the zaaktype code ZDS clients send (isVan/gerelateerde/code)
        zaaktype: SHV-2024          # identificatie of the zaaktype in the Catalogi API
        statustypen:                # ZDS status code -> statustype omschrijving (text) or volgnummer (number)
          SHV-1: Aanmelding ontvangen
          SHV-4: 4
        roltypen:                   # StUF rol (heeftAlsInitiator, ... or the rol's omschrijving) -> roltype omschrijving
          heeftAlsInitiator: Aanvrager
        informatieobjecttypen:      # dct.omschrijving -> informatieobjecttype omschrijving
          Aanvraagformulier: Aanvraag
        resultaat: Afgehandeld      # resultaattype when the eindstatus is set without a resultaat
    zenders:
      PERSPECTIEF:                  # zender applicatie
        defaults: {document: {auteur: Perspectief}}

The published JSON Schema of this format is ``docs/mappings.schema.json``, generated from these
models (:func:`json_schema`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

#: ZGW's vertrouwelijkheidaanduiding (Zaken/Documenten API, VertrouwelijkheidaanduidingEnum)
VERTROUWELIJKHEID = ("openbaar", "beperkt_openbaar", "intern", "zaakvertrouwelijk", "vertrouwelijk",
                     "confidentieel", "geheim", "zeer_geheim")
Vertrouwelijkheid = Literal["openbaar", "beperkt_openbaar", "intern", "zaakvertrouwelijk", "vertrouwelijk",
                            "confidentieel", "geheim", "zeer_geheim"]

#: the writable fields of each ZGW resource the broker sends, as the specs name them (Zaken 1.5.1,
#: Documenten 1.4.2, Besluiten 1.0.2); ``defaults`` and ``overrides`` may set these
WRITABLE: dict[str, tuple[str, ...]] = {
    "zaak": ("identificatie", "bronorganisatie", "omschrijving", "toelichting", "registratiedatum",
             "verantwoordelijkeOrganisatie", "startdatum", "einddatumGepland", "uiterlijkeEinddatumAfdoening",
             "publicatiedatum", "communicatiekanaal", "productenOfDiensten", "vertrouwelijkheidaanduiding",
             "betalingsindicatie", "laatsteBetaaldatum", "selectielijstklasse", "archiefnominatie",
             "archiefstatus", "archiefactiedatum", "opdrachtgevendeOrganisatie", "processobjectaard",
             "startdatumBewaartermijn"),
    "rol": ("afwijkendeNaamBetrokkene", "roltoelichting", "indicatieMachtiging"),
    "status": ("statustoelichting",),
    "resultaat": ("toelichting",),
    "document": ("identificatie", "bronorganisatie", "creatiedatum", "titel", "vertrouwelijkheidaanduiding",
                 "auteur", "status", "formaat", "taal", "bestandsnaam", "link", "beschrijving",
                 "ontvangstdatum", "verzenddatum", "indicatieGebruiksrecht", "verschijningsvorm", "trefwoorden"),
    "zaakinformatieobject": ("titel", "beschrijving"),
    "besluit": ("identificatie", "verantwoordelijkeOrganisatie", "toelichting", "bestuursorgaan",
                "vervaldatum", "vervalreden", "publicatiedatum", "verzenddatum", "uiterlijkeReactiedatum"),
}
#: fields whose values ``waarden`` may translate (``<resource>.<field>``)
TRANSLATABLE = ("zaak.archiefnominatie", "zaak.betalingsindicatie", "zaak.vertrouwelijkheidaanduiding",
                "document.taal", "document.status", "document.formaat", "document.link",
                "document.vertrouwelijkheidaanduiding",
                "besluit.vervalreden", "rol.indicatieMachtiging")

FieldValues = dict[str, Any]
Gemeentecode = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]


def _elfproef(rsin: str) -> str:
    """An RSIN passes the 11-proof as a BSN does: 9*d1 + 8*d2 + ... + 2*d8 - d9 is a multiple of 11."""
    if len(rsin) == 9 and rsin.isdigit():
        total = sum(int(d) * w for d, w in zip(rsin, (9, 8, 7, 6, 5, 4, 3, 2, -1)))
        if total % 11:
            raise ValueError(f"RSIN {rsin} fails the 11-proof (elfproef): a digit is wrong or two are swapped")
    return rsin


Rsin = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$"), AfterValidator(_elfproef)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Values(_Strict):
    """Values per ZGW resource, by field name as the API spec names it."""

    zaak: FieldValues = Field(default_factory=dict, description="fields of the ZAAK (Zaken API)")
    rol: FieldValues = Field(default_factory=dict, description="fields of every ROL")
    status: FieldValues = Field(default_factory=dict, description="fields of every STATUS")
    resultaat: FieldValues = Field(default_factory=dict, description="fields of the RESULTAAT")
    document: FieldValues = Field(default_factory=dict,
                                  description="fields of an ENKELVOUDIGINFORMATIEOBJECT (Documenten API)")
    zaakinformatieobject: FieldValues = Field(default_factory=dict, description="fields of a ZAAKINFORMATIEOBJECT")
    besluit: FieldValues = Field(default_factory=dict, description="fields of a BESLUIT (Besluiten API)")


class Tweaks(_Strict):
    """What a zaaktype, a zender or the whole file may set for the resources the broker sends."""

    vertrouwelijkheidaanduiding: Vertrouwelijkheid | None = Field(
        None, description="vertrouwelijkheidaanduiding of new zaken (and of documents that name none)")
    defaults: Values = Field(default_factory=Values,
                             description="values used when the ZDS message gives none")
    overrides: Values = Field(default_factory=Values,
                              description="values used whatever the ZDS message says")
    waarden: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="value translations per field ('document.taal': {'NL': 'nld'}): ZDS value -> ZGW "
                    "value on the way in, and back on the way out")


class ZaaktypeMapping(Tweaks):
    """How one ZDS zaaktype (by its code) is registered in the ZGW APIs."""

    zaaktype: str | None = Field(
        None, description="identificatie (or URL) of the zaaktype in the Catalogi API; default: the ZDS code")
    statustypen: dict[str, str | int] = Field(
        default_factory=dict,
        description="ZDS status code (or omschrijving) -> statustype omschrijving (text) or volgnummer (number); "
                    "a status that is not listed is matched on its omschrijving, then its volgnummer")
    roltypen: dict[str, str] = Field(
        default_factory=dict,
        description="StUF rol (heeftAlsInitiator, heeftAlsBelanghebbende, ... or the rol's omschrijving) -> "
                    "roltype omschrijving; a rol that is not listed gets the roltype with the matching "
                    "omschrijvingGeneriek")
    informatieobjecttypen: dict[str, str] = Field(
        default_factory=dict,
        description="document type (dct.omschrijving) -> informatieobjecttype omschrijving; not listed: the "
                    "same omschrijving")
    besluittypen: dict[str, str] = Field(
        default_factory=dict,
        description="besluittype (bst.omschrijving) -> besluittype omschrijving; not listed: the same omschrijving")
    resultaattypen: dict[str, str] = Field(
        default_factory=dict, description="StUF resultaat omschrijving -> resultaattype omschrijving")
    resultaat: str | None = Field(
        None, description="resultaattype (omschrijving) for closing a zaak whose message names no resultaat")
    besluittype: str | None = Field(
        None, description="besluittype (omschrijving) for a besluit whose message names none")


class ZenderMapping(Tweaks):
    """Tweaks for the messages of one zender (by its applicatie)."""


class MappingFile(Tweaks):
    """One file under ``config/mappings/``; its own tweaks apply to every zaaktype and zender."""

    gemeenten: dict[Gemeentecode, Rsin] = Field(
        default_factory=dict,
        description="gemeentecode (4 digits) -> RSIN (9 digits) of the gemeente, used as bronorganisatie and "
                    "verantwoordelijkeOrganisatie")
    zaaktypen: dict[str, ZaaktypeMapping] = Field(default_factory=dict,
                                                  description="per ZDS zaaktype code")
    zenders: dict[str, ZenderMapping] = Field(default_factory=dict, description="per zender applicatie")


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of a mapping file (``docs/mappings.schema.json``)."""
    schema = MappingFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/stuf-broker/stuf-broker/blob/main/docs/mappings.schema.json"
    schema["title"] = "stuf-broker mapping file (config/mappings/*.yaml)"
    return schema
