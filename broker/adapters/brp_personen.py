"""The Haal Centraal BRP Personen Bevragen API 2.x as a person source.

``POST {url}/personen`` with a ``type`` and ``fields`` (shared/openapi/brp/personen-2.7.0.yaml): a
question by BSN is ``RaadpleegMetBurgerservicenummer``; a search (``ZoekMetGeslachtsnaamEnGeboortedatum``,
``ZoekMetPostcodeEnHuisnummer``) answers thin persons, so the broker asks only their BSNs and then
raadpleegt them, at most 20 per call. ``fields`` never names what the API delivers by itself
(inOnderzoek, geheimhoudingPersoonsgegevens, opschortingBijhouding): that is a 400.

The JSON is mapped to the case model (broker.model.person): the date types back to ``yyyymmdd`` with
zeros (Datum, JaarMaandDatum, JaarDatum, DatumOnbekend), ``inOnderzoek`` per group, the briefadres as
correspondentieadres, ``geheimhoudingPersoonsgegevens: true`` as the configured indicatie geheim (the
API does not say which of 1-7; default 7, the strictest).

Options in routes.yaml (:class:`BrpOptions`): ``url`` (the API's base, e.g.
``https://proefomgeving.haalcentraal.nl/haalcentraal/api/brp``), ``api_key_env`` (the environment
variable holding the key), ``api_key_header`` (default ``X-API-KEY``), ``timeout``,
``gemeente_van_inschrijving`` (only persons registered there), ``inclusief_overledenen`` (default
true), ``indicatie_geheim`` (default 7), ``niet_geautoriseerd`` (groups the broker's autorisatie does
not cover: geboorte, overlijden, verblijfplaats, gemeenteVanInschrijving, partners, kinderen, ouders;
never asked, answered ``nietGeautoriseerd`` where the scope asks for them).

Failures: no answer, 5xx, 429: AdapterError worth a retry; 401/403: the broker's own authorisation
(AdapterError, permanent); 400: the broker's mapping (logged with the names of the invalid
parameters, never their values). The question's sender gets a Fo02 plek server in each case.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

import httpx
import structlog
from pydantic import Field

from broker.adapters.http import HttpErrors, calling
from broker.adapters.options import HttpUrl, Options, Timeout
from broker.errors import AdapterError, ConfigError, ConfigProblem, StufError
from broker.model.person import Adres, Datum, Naam, Persoon, PersoonVraag, Verwant
from broker.model.ports import Health

log = structlog.get_logger("broker.adapters.brp")

#: what the broker asks of a person (trimmed to the relations the question needs)
FIELDS = ("burgerservicenummer", "aNummer", "naam", "geslacht", "geboorte", "overlijden", "verblijfplaats",
          "gemeenteVanInschrijving", "datumInschrijvingInGemeente")
RELATIE_FIELDS = {"partners": "partners", "kinderen": "kinderen", "ouders": "ouders"}
BATCH = 20


class BrpOptions(Options):
    #: the API's base URL (`/personen` is appended), e.g. https://proefomgeving.haalcentraal.nl/haalcentraal/api/brp
    url: HttpUrl
    #: the environment variable that holds the API key
    api_key_env: str | None = None
    #: the header the API key is sent in
    api_key_header: str = "X-API-KEY"
    #: seconds to wait for each API call
    timeout: Timeout = 10.0
    #: a gemeentecode: searches find only persons registered there
    gemeente_van_inschrijving: str | None = Field(None, pattern=r"^[0-9]{4}$")
    #: searches find deceased persons too
    inclusief_overledenen: bool = True
    #: the inp.indicatieGeheim (1-7) answered for geheimhoudingPersoonsgegevens (the API does not say which)
    indicatie_geheim: int = Field(7, ge=1, le=7)
    #: groups the broker's BRP autorisatie does not cover: never asked (a 403), answered nietGeautoriseerd
    niet_geautoriseerd: list[Literal["geboorte", "overlijden", "verblijfplaats", "gemeenteVanInschrijving",
                                     "partners", "kinderen", "ouders"]] = []


class BrpPersonen(HttpErrors):
    def __init__(self, name: str, options: BrpOptions, api_key: str | None) -> None:
        self.name = name
        self.options = options
        self.url = options.url.rstrip("/") + "/personen"
        headers = {"User-Agent": "stuf-broker", "Accept": "application/json"}
        if api_key:
            headers[options.api_key_header] = api_key
        self.http = httpx.Client(timeout=options.timeout, headers=headers)

    # -- the port ------------------------------------------------------------------------------
    def zoek(self, vraag: PersoonVraag) -> list[Persoon]:
        if vraag.soort == "bsn":
            return self._raadpleeg([vraag.bsn or ""], vraag)
        query: dict[str, Any]
        if vraag.soort == "postcode_huisnummer":
            query = {"type": "ZoekMetPostcodeEnHuisnummer", "postcode": vraag.postcode,
                     "huisnummer": vraag.huisnummer}
            if vraag.huisletter:
                query["huisletter"] = vraag.huisletter
            if vraag.huisnummertoevoeging:
                query["huisnummertoevoeging"] = vraag.huisnummertoevoeging
        else:
            assert vraag.geboortedatum is not None
            d = vraag.geboortedatum.waarde
            # a non-exact name is the API's wildcard: the beginning and a trailing *
            query = {"type": "ZoekMetGeslachtsnaamEnGeboortedatum",
                     "geslachtsnaam": (vraag.geslachtsnaam or "") + ("" if vraag.geslachtsnaam_exact else "*"),
                     "geboortedatum": f"{d[:4]}-{d[4:6]}-{d[6:]}"}
            voornamen = (vraag.voornamen + ("" if vraag.voornamen_exact else "*")) if vraag.voornamen else None
            for key, value in (("voornamen", voornamen), ("voorvoegsel", vraag.voorvoegsel),
                               ("geslacht", vraag.geslacht)):
                if value:
                    query[key] = value
        query["inclusiefOverledenPersonen"] = self.options.inclusief_overledenen and vraag.inclusief_overledenen
        query["fields"] = ["burgerservicenummer"]
        found = [p.get("burgerservicenummer") for p in self._post(query).get("personen", [])]
        bsns = list(dict.fromkeys(b for b in found if b))
        personen: list[Persoon] = []
        for i in range(0, len(bsns), BATCH):
            personen += self._raadpleeg(bsns[i:i + BATCH], vraag)
        return personen

    def check(self) -> Health:
        return Health(True, self.url)

    def close(self) -> None:
        self.http.close()

    # -- the API -------------------------------------------------------------------------------
    def _raadpleeg(self, bsns: list[str], vraag: PersoonVraag) -> list[Persoon]:
        verboden: set[str] = set(self.options.niet_geautoriseerd)
        if "gemeenteVanInschrijving" in verboden:
            verboden.add("datumInschrijvingInGemeente")
        fields = [f for f in FIELDS if f not in verboden]
        fields += sorted(RELATIE_FIELDS[r] for r in vraag.relaties if r in RELATIE_FIELDS and r not in verboden)
        query: dict[str, Any] = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": bsns,
                                 "fields": fields}
        return [self._persoon(p) for p in self._post(query).get("personen", [])]

    def _post(self, query: dict[str, Any]) -> dict[str, Any]:
        if self.options.gemeente_van_inschrijving:
            query["gemeenteVanInschrijving"] = self.options.gemeente_van_inschrijving
        where = f"POST {self.url} ({query['type']})"
        with calling(where, self.options.timeout, error=_no_answer):
            # the media type exactly as the contract declares it
            response = self.http.post(self.url, content=json.dumps(query).encode("utf-8"),
                                      headers={"Content-Type": "application/json; charset=utf-8"})
        if response.status_code != 200:
            if response.status_code == 400:
                try:
                    invalid = [p.get("name") for p in response.json().get("invalidParams", [])]
                except ValueError:
                    invalid = []
                log.error("the BRP API refused the broker's question", type=query["type"], invalid_params=invalid)
            raise self._error(where, response)
        data = response.json()
        if not isinstance(data, dict):
            raise AdapterError(f"{where}: no JSON object in the answer", retryable=True)
        return data

    def _error(self, where: str, response: httpx.Response) -> AdapterError:
        # the answer may hold personal data (a 400 repeats the question): only the status and title
        try:
            title = str(response.json().get("title", ""))[:200]
        except ValueError:
            title = ""
        message = f"{where}: HTTP {response.status_code} {title}".rstrip()
        fault = StufError("StUF058", "De BRP kon de vraag nu niet beantwoorden", message[:500], plek="server")
        return AdapterError(message, retryable=self.retryable_status(response.status_code), fault=fault)

    # -- JSON -> case model --------------------------------------------------------------------
    def _persoon(self, p: dict[str, Any]) -> Persoon:
        geboorte, overlijden = p.get("geboorte", {}), p.get("overlijden", {})
        onderzoek: list[str] = []

        def mark(groep: str, where: Any) -> None:
            if isinstance(where, dict) and where.get("inOnderzoek") and groep not in onderzoek:
                onderzoek.append(groep)

        persoon_onderzoek = p.get("inOnderzoek", {})
        if any(persoon_onderzoek.get(k) for k in ("burgerservicenummer", "geslacht", "leeftijd")):
            onderzoek.append("Persoonsgegevens")
        mark("Persoonsgegevens", p.get("naam"))
        mark("Persoonsgegevens", geboorte)
        mark("Overlijden", overlijden)
        verblijf, brief = _verblijfplaats(p.get("verblijfplaats"))
        adres = verblijf or brief
        mark("VerblijfBuitenland" if adres is not None and adres.buitenland else "Verblijfsplaats",
             p.get("verblijfplaats"))
        if any(persoon_onderzoek.get(k) for k in ("gemeenteVanInschrijving", "datumInschrijvingInGemeente")):
            onderzoek.append("Inschrijving")
        opschorting = p.get("opschortingBijhouding", {})
        return Persoon(
            bsn=p.get("burgerservicenummer", ""), a_nummer=p.get("aNummer"), naam=_naam(p.get("naam", {})),
            geslacht=_code(p.get("geslacht")), geboortedatum=_datum(geboorte.get("datum")),
            geboorteplaats=_omschrijving(geboorte.get("plaats")), geboorteland=_code(geboorte.get("land")),
            overlijdensdatum=_datum(overlijden.get("datum")), overlijdensplaats=_omschrijving(overlijden.get("plaats")),
            overlijdensland=_code(overlijden.get("land")), verblijfadres=verblijf, correspondentieadres=brief,
            gemeente_van_inschrijving=_code(p.get("gemeenteVanInschrijving")),
            datum_inschrijving=_datum(p.get("datumInschrijvingInGemeente")),
            geheimhouding=self.options.indicatie_geheim if p.get("geheimhoudingPersoonsgegevens") else None,
            opschorting_reden=_code(opschorting.get("reden")), opschorting_datum=_datum(opschorting.get("datum")),
            in_onderzoek=onderzoek,
            partners=[_verwant(v) for v in p.get("partners", [])],
            kinderen=[_verwant(v) for v in p.get("kinderen", [])],
            ouders=[_verwant(v) for v in p.get("ouders", [])],
            niet_geautoriseerd=list(self.options.niet_geautoriseerd))


def _no_answer(message: str, exc: httpx.RequestError) -> AdapterError:
    return AdapterError(message, retryable=True,
                        fault=StufError("StUF058", "De BRP gaf geen antwoord", message[:500], plek="server"))


def _code(value: Any) -> str | None:
    return value.get("code") if isinstance(value, dict) else None


def _omschrijving(value: Any) -> str | None:
    return value.get("omschrijving") if isinstance(value, dict) else None


def _datum(value: Any) -> Datum | None:
    """An API date (AbstractDatum) as the BRP registers it: ``yyyymmdd`` with zeros for what is unknown."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind == "Datum" and value.get("datum"):
        return Datum(str(value["datum"]).replace("-", ""))
    if kind == "JaarMaandDatum":
        return Datum(f"{int(value['jaar']):04d}{int(value['maand']):02d}00")
    if kind == "JaarDatum":
        return Datum(f"{int(value['jaar']):04d}0000")
    if kind == "DatumOnbekend":
        return Datum("00000000")
    return None


def _naam(n: dict[str, Any]) -> Naam:
    return Naam(geslachtsnaam=n.get("geslachtsnaam"), voorvoegsel=n.get("voorvoegsel"), voornamen=n.get("voornamen"),
                voorletters=n.get("voorletters"), adellijke_titel=_code(n.get("adellijkeTitelPredicaat")),
                aanduiding_naamgebruik=_code(n.get("aanduidingNaamgebruik")))


def _verwant(v: dict[str, Any]) -> Verwant:
    geboorte = v.get("geboorte", {})
    sluiting = v.get("aangaanHuwelijkPartnerschap", {})
    return Verwant(
        bsn=v.get("burgerservicenummer"), naam=_naam(v.get("naam", {})), geslacht=_code(v.get("geslacht")),
        geboortedatum=_datum(geboorte.get("datum")), geboorteplaats=_omschrijving(geboorte.get("plaats")),
        geboorteland=_code(geboorte.get("land")), in_onderzoek=bool(v.get("inOnderzoek")),
        soort_verbintenis=_code(v.get("soortVerbintenis")), datum_sluiting=_datum(sluiting.get("datum")),
        plaats_sluiting=_omschrijving(sluiting.get("plaats")), land_sluiting=_code(sluiting.get("land")),
        datum_ontbinding=_datum(v.get("ontbindingHuwelijkPartnerschap", {}).get("datum")),
        ouder_aanduiding=v.get("ouderAanduiding"),
        datum_ingang_familierechtelijke_betrekking=_datum(v.get("datumIngangFamilierechtelijkeBetrekking")))


def _verblijfplaats(vp: Any) -> tuple[Adres | None, Adres | None]:
    """(verblijfadres, briefadres) of an API verblijfplaats."""
    if not isinstance(vp, dict):
        return None, None
    kind, adres = vp.get("type"), vp.get("verblijfadres", {})
    if kind == "VerblijfplaatsBuitenland":
        return Adres(land_code=_code(adres.get("land")), land_naam=_omschrijving(adres.get("land")),
                     regel1=adres.get("regel1"), regel2=adres.get("regel2"), regel3=adres.get("regel3"),
                     datum_aanvang=_datum(vp.get("datumVan"))), None
    if kind == "Locatie":
        return Adres(functie=_code(vp.get("functieAdres")), locatiebeschrijving=adres.get("locatiebeschrijving"),
                     datum_aanvang=_datum(vp.get("datumVan"))), None
    if kind != "Adres":
        return None, None
    found = Adres(functie=_code(vp.get("functieAdres")), straat=adres.get("officieleStraatnaam"),
                  korte_straatnaam=adres.get("korteStraatnaam"), huisnummer=adres.get("huisnummer"),
                  huisletter=adres.get("huisletter"), huisnummertoevoeging=adres.get("huisnummertoevoeging"),
                  postcode=(adres.get("postcode") or "").replace(" ", "").upper() or None,
                  woonplaats=adres.get("woonplaats"), nummeraanduiding_id=vp.get("nummeraanduidingIdentificatie"),
                  adresseerbaar_object_id=vp.get("adresseerbaarObjectIdentificatie"),
                  datum_aanvang=_datum(vp.get("datumVan")))
    return (None, found) if found.functie == "B" else (found, None)


def build(name: str, options: BrpOptions) -> BrpPersonen:
    api_key = None
    if options.api_key_env:
        api_key = os.environ.get(options.api_key_env)
        if not api_key:
            raise ConfigError([ConfigProblem("routes.yaml", None, f"target {name!r}: environment variable "
                                             f"{options.api_key_env} (api_key_env) is not set")])
    return BrpPersonen(name, options, api_key)
