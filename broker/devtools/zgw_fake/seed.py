"""Builders for Catalogi data (catalogus, zaaktype and its types).

The Catalogi API is read-only for the broker, so tests put the catalogue
in place with these helpers.  Every object is checked against its
Catalogi component schema as it is made: a seed that the real API could
not return is a ``ValueError`` at once, not a surprise later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .specs import LoadedSpec
from .state import Store
from .validation import schema_problems

Entry = str | Sequence[Any] | Mapping[str, Any]

DEFAULT_RSIN = "002220647"


@dataclass
class SeededZaaktype:
    """URLs of a seeded zaaktype and of the types made with it."""

    url: str
    identificatie: str
    catalogus: str
    statustypen: dict[int, str] = field(default_factory=dict)  # volgnummer -> url
    roltypen: dict[str, str] = field(default_factory=dict)  # omschrijving -> url
    roltypen_generiek: dict[str, str] = field(default_factory=dict)  # omschrijvingGeneriek -> first url
    informatieobjecttypen: dict[str, str] = field(default_factory=dict)  # omschrijving -> url
    resultaattypen: dict[str, str] = field(default_factory=dict)  # omschrijving -> url
    besluittypen: dict[str, str] = field(default_factory=dict)  # omschrijving -> url
    eigenschappen: dict[str, str] = field(default_factory=dict)  # naam -> url

    @property
    def eindstatustype(self) -> str | None:
        return self.statustypen[max(self.statustypen)] if self.statustypen else None


def _iso(value: date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


class CatalogSeeder:
    """Creates Catalogi resources in a :class:`Store`."""

    def __init__(self, store: Store, spec: LoadedSpec) -> None:
        self.store = store
        self.spec = spec

    # -- helpers ----------------------------------------------------------
    def _make(self, kind: str, schema: str, obj: dict[str, Any]) -> dict[str, Any]:
        uid = self.store.new_uuid()
        obj = {"url": self.store.url(kind, uid), **obj, "_uuid": uid}
        problems = schema_problems(self.spec, schema, {k: v for k, v in obj.items() if not k.startswith("_")})
        if problems:
            raise ValueError(f"seeded {schema} is not valid per the Catalogi spec: "
                             + "; ".join(map(str, problems)))
        return self.store.add(kind, obj)

    def _catalogus(self, url: str | None) -> dict[str, Any]:
        if url is None:
            existing = self.store.all("catalogussen")
            if existing:
                return existing[0]
            url = self.catalogus()
        obj = self.store.resolve(url, "catalogussen")
        if obj is None:
            raise ValueError(f"unknown catalogus {url}")
        return obj

    # -- public builders --------------------------------------------------
    def catalogus(self, *, domein: str = "ZAKEN", rsin: str = DEFAULT_RSIN,
                  naam: str | None = "Testcatalogus", **extra: Any) -> str:
        obj = self._make("catalogussen", "Catalogus", {
            "domein": domein,
            "rsin": rsin,
            "contactpersoonBeheerNaam": "Beheerder",
            "contactpersoonBeheerTelefoonnummer": "",
            "zaaktypen": [],
            "besluittypen": [],
            "informatieobjecttypen": [],
            "naam": naam,
            "versie": "1",
            "begindatumVersie": None,
            **extra,
        })
        return obj["url"]

    def informatieobjecttype(self, omschrijving: str, *, catalogus: str | None = None,
                             vertrouwelijkheidaanduiding: str = "openbaar",
                             begin_geldigheid: date | str = "2020-01-01", concept: bool = False,
                             **extra: Any) -> str:
        """An informatieobjecttype; reused when the catalogus already has one with this omschrijving."""
        cat = self._catalogus(catalogus)
        for iot in self.store.all("informatieobjecttypen"):
            if iot["catalogus"] == cat["url"] and iot["omschrijving"] == omschrijving and not extra:
                return iot["url"]
        obj = self._make("informatieobjecttypen", "InformatieObjectType", {
            "catalogus": cat["url"],
            "omschrijving": omschrijving,
            "vertrouwelijkheidaanduiding": vertrouwelijkheidaanduiding,
            "beginGeldigheid": _iso(begin_geldigheid),
            "eindeGeldigheid": None,
            "beginObject": _iso(begin_geldigheid),
            "eindeObject": None,
            "concept": concept,
            "zaaktypen": [],
            "besluittypen": [],
            "informatieobjectcategorie": "Overig",
            "trefwoord": [],
            **extra,
        })
        cat["informatieobjecttypen"].append(obj["url"])
        return obj["url"]

    def besluittype(self, omschrijving: str, *, catalogus: str | None = None,
                    informatieobjecttypen: Iterable[str] = (), begin_geldigheid: date | str = "2020-01-01",
                    concept: bool = False, **extra: Any) -> str:
        cat = self._catalogus(catalogus)
        informatieobjecttypen = list(informatieobjecttypen)
        obj = self._make("besluittypen", "BesluitType", {
            "catalogus": cat["url"],
            "zaaktypen": [],
            "omschrijving": omschrijving,
            "omschrijvingGeneriek": "",
            "besluitcategorie": "",
            "reactietermijn": None,
            "publicatieIndicatie": False,
            "publicatietekst": "",
            "publicatietermijn": None,
            "toelichting": "",
            "informatieobjecttypen": informatieobjecttypen,
            "beginGeldigheid": _iso(begin_geldigheid),
            "eindeGeldigheid": None,
            "beginObject": _iso(begin_geldigheid),
            "eindeObject": None,
            "concept": concept,
            "resultaattypen": [],
            "resultaattypenOmschrijving": [],
            "vastgelegdIn": [],
            **extra,
        })
        cat["besluittypen"].append(obj["url"])
        for iot_url in informatieobjecttypen:
            iot = self.store.resolve(iot_url, "informatieobjecttypen")
            if iot is None:
                raise ValueError(f"unknown informatieobjecttype {iot_url}")
            iot["besluittypen"].append(obj["url"])
        return obj["url"]

    def zaaktype(
        self,
        identificatie: str,
        omschrijving: str = "",
        *,
        statustypen: Iterable[Entry] = (),
        roltypen: Iterable[Entry] = (),
        informatieobjecttypen: Iterable[Entry] = (),
        resultaattypen: Iterable[Entry] = (),
        besluittypen: Iterable[Entry] = (),
        eigenschappen: Iterable[Entry] = (),
        catalogus: str | None = None,
        vertrouwelijkheidaanduiding: str = "openbaar",
        begin_geldigheid: date | str = "2020-01-01",
        einde_geldigheid: date | str | None = None,
        versiedatum: date | str | None = None,
        concept: bool = False,
        **extra: Any,
    ) -> SeededZaaktype:
        cat = self._catalogus(catalogus)
        omschrijving = omschrijving or identificatie
        zt = self._make("zaaktypen", "ZaakType", {
            "identificatie": identificatie,
            "omschrijving": omschrijving,
            "omschrijvingGeneriek": "",
            "vertrouwelijkheidaanduiding": vertrouwelijkheidaanduiding,
            "doel": omschrijving,
            "aanleiding": omschrijving,
            "toelichting": "",
            "indicatieInternOfExtern": "extern",
            "handelingInitiator": "aanvragen",
            "onderwerp": omschrijving[:80],
            "handelingBehandelaar": "behandelen",
            "doorlooptijd": "P56D",
            "servicenorm": None,
            "opschortingEnAanhoudingMogelijk": False,
            "verlengingMogelijk": False,
            "verlengingstermijn": None,
            "trefwoorden": [],
            "publicatieIndicatie": False,
            "publicatietekst": "",
            "verantwoordingsrelatie": [],
            "productenOfDiensten": [],
            "selectielijstProcestype": "",
            "referentieproces": {"naam": omschrijving[:80]},
            "verantwoordelijke": cat["rsin"],
            "zaakobjecttypen": [],
            "catalogus": cat["url"],
            "statustypen": [],
            "resultaattypen": [],
            "eigenschappen": [],
            "informatieobjecttypen": [],
            "roltypen": [],
            "besluittypen": [],
            "deelzaaktypen": [],
            "gerelateerdeZaaktypen": [],
            "beginGeldigheid": _iso(begin_geldigheid),
            "eindeGeldigheid": _iso(einde_geldigheid),
            "beginObject": _iso(begin_geldigheid),
            "eindeObject": _iso(einde_geldigheid),
            "versiedatum": _iso(versiedatum) or _iso(begin_geldigheid),
            "concept": concept,
            **extra,
        })
        cat["zaaktypen"].append(zt["url"])
        seeded = SeededZaaktype(url=zt["url"], identificatie=identificatie, catalogus=cat["url"])
        common = {"zaaktype": zt["url"], "zaaktypeIdentificatie": identificatie}

        entries = [_as_dict(e, ("volgnummer", "omschrijving")) for e in statustypen]
        entries.sort(key=lambda e: int(e["volgnummer"]))
        for index, entry in enumerate(entries):
            st = self._make("statustypen", "StatusType", {
                "omschrijving": entry["omschrijving"],
                "omschrijvingGeneriek": "",
                "statustekst": "",
                **common,
                "catalogus": cat["url"],
                "volgnummer": int(entry["volgnummer"]),
                "isEindstatus": index == len(entries) - 1,
                "informeren": False,
                "doorlooptijd": None,
                "toelichting": None,
                "checklistitemStatustype": [],
                "eigenschappen": [],
                "beginGeldigheid": None,
                "eindeGeldigheid": None,
                "beginObject": None,
                "eindeObject": None,
                "zaakobjecttype": "",
                **_rest(entry, ("volgnummer", "omschrijving")),
            })
            zt["statustypen"].append(st["url"])
            seeded.statustypen[st["volgnummer"]] = st["url"]

        for entry in (_as_dict(e, ("omschrijvingGeneriek", "omschrijving")) for e in roltypen):
            rt = self._make("roltypen", "RolType", {
                **common,
                "omschrijving": entry.get("omschrijving") or entry["omschrijvingGeneriek"],
                "omschrijvingGeneriek": entry["omschrijvingGeneriek"],
                "catalogus": cat["url"],
                "beginGeldigheid": None,
                "eindeGeldigheid": None,
                "beginObject": None,
                "eindeObject": None,
                **_rest(entry, ("omschrijvingGeneriek", "omschrijving")),
            })
            zt["roltypen"].append(rt["url"])
            seeded.roltypen[rt["omschrijving"]] = rt["url"]
            seeded.roltypen_generiek.setdefault(rt["omschrijvingGeneriek"], rt["url"])

        for volgnummer, entry in enumerate(
            (_as_dict(e, ("omschrijving", "richting")) for e in informatieobjecttypen), start=1
        ):
            iot_url = self.informatieobjecttype(
                entry["omschrijving"], catalogus=cat["url"],
                **_rest(entry, ("omschrijving", "richting")),
            )
            iot = self.store.resolve(iot_url, "informatieobjecttypen")
            assert iot is not None
            iot["zaaktypen"].append(zt["url"])
            zt["informatieobjecttypen"].append(iot_url)
            seeded.informatieobjecttypen[entry["omschrijving"]] = iot_url
            self._make("zaaktype-informatieobjecttypen", "ZaakTypeInformatieObjectType", {
                **common,
                "catalogus": cat["url"],
                # Open Zaak returns the URL here (the VNG 1.3.1 document only says "string")
                "informatieobjecttype": iot_url,
                "volgnummer": volgnummer,
                "richting": entry.get("richting") or "inkomend",
                "statustype": None,
            })

        for entry in (_as_dict(e, ("omschrijving", "archiefnominatie")) for e in resultaattypen):
            uid_hint = self.store.new_uuid()
            rs = self._make("resultaattypen", "ResultaatType", {
                **common,
                "omschrijving": entry["omschrijving"],
                "resultaattypeomschrijving":
                    f"https://selectielijst.example/api/v1/resultaattypeomschrijvingen/{uid_hint}",
                "omschrijvingGeneriek": entry["omschrijving"],
                "selectielijstklasse": f"https://selectielijst.example/api/v1/resultaten/{uid_hint}",
                "toelichting": "",
                "archiefnominatie": entry.get("archiefnominatie") or "vernietigen",
                "archiefactietermijn": "P10Y",
                "brondatumArchiefprocedure": {
                    "afleidingswijze": "afgehandeld",
                    "datumkenmerk": "",
                    "einddatumBekend": False,
                    "objecttype": "",
                    "registratie": "",
                    "procestermijn": None,
                },
                "procesobjectaard": None,
                "catalogus": cat["url"],
                "beginGeldigheid": None,
                "eindeGeldigheid": None,
                "beginObject": None,
                "eindeObject": None,
                "indicatieSpecifiek": None,
                "procestermijn": None,
                "besluittypen": [],
                "besluittypeOmschrijving": [],
                "informatieobjecttypen": [],
                "informatieobjecttypeOmschrijving": [],
                "zaakobjecttypen": [],
                **_rest(entry, ("omschrijving", "archiefnominatie")),
            })
            zt["resultaattypen"].append(rs["url"])
            seeded.resultaattypen[rs["omschrijving"]] = rs["url"]

        for entry in (_as_dict(e, ("omschrijving", "informatieobjecttypen")) for e in besluittypen):
            # by default a besluit may hold the documents of any of the zaaktype's types
            iots = [seeded.informatieobjecttypen.get(i, i) for i in entry.get("informatieobjecttypen") or []]
            iots = iots or list(zt["informatieobjecttypen"])
            bt_url = self.besluittype(entry["omschrijving"], catalogus=cat["url"], informatieobjecttypen=iots,
                                      **_rest(entry, ("omschrijving", "informatieobjecttypen")))
            bt = self.store.resolve(bt_url, "besluittypen")
            assert bt is not None
            bt["zaaktypen"].append(zt["url"])
            zt["besluittypen"].append(bt_url)
            seeded.besluittypen[entry["omschrijving"]] = bt_url

        for entry in (_as_dict(e, ("naam", "formaat")) for e in eigenschappen):
            ei = self._make("eigenschappen", "Eigenschap", {
                "naam": entry["naam"],
                "catalogus": cat["url"],
                "definitie": entry.get("definitie") or entry["naam"],
                "specificatie": {
                    "groep": "",
                    "formaat": entry.get("formaat") or "tekst",
                    "lengte": str(entry.get("lengte") or "255"),
                    "kardinaliteit": "1",
                    "waardenverzameling": [],
                },
                "toelichting": "",
                **common,
                "statustype": None,
                "beginGeldigheid": None,
                "eindeGeldigheid": None,
                "beginObject": None,
                "eindeObject": None,
                **_rest(entry, ("naam", "formaat", "definitie", "lengte")),
            })
            zt["eigenschappen"].append(ei["url"])
            seeded.eigenschappen[ei["naam"]] = ei["url"]

        # the zaaktype itself changed (type lists): check it once more
        problems = schema_problems(self.spec, "ZaakType", {k: v for k, v in zt.items() if not k.startswith("_")})
        if problems:
            raise ValueError("seeded ZaakType is not valid: " + "; ".join(map(str, problems)))
        return seeded


def _as_dict(entry: Entry, names: tuple[str, ...]) -> dict[str, Any]:
    """``"x"`` / ``(a, b)`` / ``{...}`` -> a dict keyed by ``names``."""
    if isinstance(entry, Mapping):
        return dict(entry)
    if isinstance(entry, str):
        return {names[0]: entry}
    values = list(entry)
    if len(values) > len(names):
        raise ValueError(f"too many values in {entry!r}; expected {names}")
    return dict(zip(names, values))


def _rest(entry: Mapping[str, Any], used: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in used}
