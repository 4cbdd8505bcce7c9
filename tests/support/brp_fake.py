"""A loopback stand-in for the Haal Centraal BRP Personen API 2.x (``POST /personen``), serving the GBA-V
test persons (shared/openapi/brp/testdata/personen-mock-test-data.json, converted to the 2.x response
shape as the official mock does: date objects, Waardetabel pairs, ``inOnderzoek`` per group).

Every request and every response is checked against the official OpenAPI document
(shared/openapi/brp/personen-2.7.0.yaml) with openapi-core; a violation fails the test that caused it
(``violations``), and a request that violates it gets the API's 400. The API's own rules beyond the
schema are enforced too: the API key header, ``fields`` naming no automatically delivered field and
only fields of the answer's type, search answers as ``PersoonBeperkt``, the deceased only with
``inclusiefOverledenPersonen``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.support.loopback import LoopbackServer

BRP_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "openapi" / "brp"
SPEC = BRP_DIR / "personen-2.7.0.yaml"
TESTDATA = BRP_DIR / "testdata" / "personen-mock-test-data.json"
BASE = "/haalcentraal/api/brp"
AUTO_FIELDS = {"inOnderzoek", "geheimhoudingPersoonsgegevens", "opschortingBijhouding", "rni", "verificatie"}
MAANDEN = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december")


@lru_cache(maxsize=1)
def _spec() -> tuple[OpenAPI, dict[str, Any]]:
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return OpenAPI.from_dict(document), document


@lru_cache(maxsize=1)
def _persons() -> dict[str, dict[str, Any]]:
    return {p["burgerservicenummer"]: p for p in json.loads(TESTDATA.read_text(encoding="utf-8"))}


@dataclass
class _Request:
    body: bytes
    content_type: str
    headers: list[tuple[str, str]]
    method: str = "post"
    # as the spec's server names it: the fake stands in for the proefomgeving
    host_url: str = "https://proefomgeving.haalcentraal.nl"
    path: str = BASE + "/personen"
    full_url_pattern: str = "https://proefomgeving.haalcentraal.nl" + BASE + "/personen"
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(query=ImmutableMultiDict(), header=Headers(self.headers),
                                            cookie=ImmutableMultiDict())


@dataclass
class _Response:
    status_code: int
    data: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: Headers = field(default_factory=Headers)


# -- the test data in the API's shape ------------------------------------------------------------

def datum(value: str | None) -> dict[str, Any] | None:
    if not value or len(value) != 8 or not value.isdigit():
        return None
    jaar, maand, dag = int(value[:4]), int(value[4:6]), int(value[6:])
    if value == "00000000":
        return {"type": "DatumOnbekend", "onbekend": True, "langFormaat": "onbekend"}
    if maand == 0:
        return {"type": "JaarDatum", "jaar": jaar, "langFormaat": str(jaar)}
    if dag == 0:
        return {"type": "JaarMaandDatum", "jaar": jaar, "maand": maand, "langFormaat": f"{MAANDEN[maand - 1]} {jaar}"}
    return {"type": "Datum", "datum": f"{value[:4]}-{value[4:6]}-{value[6:]}",
            "langFormaat": f"{dag} {MAANDEN[maand - 1]} {jaar}"}


def _wt(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {k: value[k] for k in ("code", "omschrijving", "soort") if value.get(k)} or None


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _onderzoek(where: Any, **flags: bool) -> dict[str, Any] | None:
    if not isinstance(where, dict) or "aanduidingGegevensInOnderzoek" not in where:
        return None
    return {**flags, "datumIngangOnderzoek": datum(where.get("datumIngangOnderzoek"))}


def _naam(n: dict[str, Any]) -> dict[str, Any]:
    voornamen = (n.get("voornamen") or "").strip()
    return {"voornamen": voornamen, "voorvoegsel": n.get("voorvoegsel"), "geslachtsnaam": n.get("geslachtsnaam"),
            "adellijkeTitelPredicaat": _wt(n.get("adellijkeTitelPredicaat")),
            "voorletters": " ".join(f"{v[0]}." for v in voornamen.split()) or None}


def _geboorte(g: dict[str, Any]) -> dict[str, Any]:
    return {"datum": datum(g.get("datum")), "plaats": _wt(g.get("plaats")), "land": _wt(g.get("land"))}


def api_persoon(p: dict[str, Any]) -> dict[str, Any]:
    """One test person as ``Persoon`` of the 2.x API."""
    vp = p.get("verblijfplaats", {})
    verblijfplaats: dict[str, Any]
    if "land" in vp:
        verblijfplaats = {"type": "VerblijfplaatsBuitenland", "datumVan": datum(vp.get("datumAanvangAdresBuitenland")),
                          "verblijfadres": {"land": _wt(vp["land"]), "regel1": vp.get("regel1"),
                                            "regel2": vp.get("regel2"), "regel3": vp.get("regel3")},
                          "inOnderzoek": _onderzoek(vp.get("inOnderzoek"), type=True)}
    elif "straat" in vp or "postcode" in vp:
        verblijfplaats = {
            "type": "Adres", "functieAdres": _wt(vp.get("functieAdres")), "datumVan": datum(vp.get("datumAanvangAdreshouding")),
            "nummeraanduidingIdentificatie": vp.get("nummeraanduidingIdentificatie"),
            "adresseerbaarObjectIdentificatie": vp.get("adresseerbaarObjectIdentificatie"),
            "verblijfadres": {"officieleStraatnaam": vp.get("naamOpenbareRuimte") or vp.get("straat"),
                              "korteStraatnaam": vp.get("straat"),
                              "huisnummer": int(vp["huisnummer"]) if vp.get("huisnummer") else None,
                              "huisletter": vp.get("huisletter"), "huisnummertoevoeging": vp.get("huisnummertoevoeging"),
                              "postcode": vp.get("postcode"), "woonplaats": vp.get("woonplaats")},
            "inOnderzoek": _onderzoek(vp.get("inOnderzoek"), type=True)}
    else:
        verblijfplaats = {"type": "VerblijfplaatsOnbekend"}
    persoon_onderzoek = p.get("persoonInOnderzoek") or {}
    categorie = persoon_onderzoek.get("aanduidingGegevensInOnderzoek", "")[:2]
    overlijden = p.get("overlijden", {})
    opschorting = p.get("opschortingBijhouding", {})
    return _prune({
        "burgerservicenummer": p["burgerservicenummer"], "aNummer": p.get("aNummer"),
        "geslacht": _wt(p.get("geslacht")),
        "naam": {**_naam(p.get("naam", {})), "aanduidingNaamgebruik": _wt(p.get("naam", {}).get("aanduidingNaamgebruik"))},
        "geboorte": _geboorte(p.get("geboorte", {})),
        "overlijden": {"datum": datum(overlijden.get("datum")), "plaats": _wt(overlijden.get("plaats")),
                       "land": _wt(overlijden.get("land")),
                       "inOnderzoek": _onderzoek(overlijden.get("inOnderzoek"), datum=True)},
        "verblijfplaats": verblijfplaats,
        "gemeenteVanInschrijving": _wt(p.get("gemeenteVanInschrijving")),
        "datumInschrijvingInGemeente": datum(p.get("datumInschrijvingInGemeente")),
        "geheimhoudingPersoonsgegevens": True if p.get("geheimhoudingPersoonsgegevens") not in (None, "0") else None,
        "opschortingBijhouding": {"reden": _wt(opschorting.get("reden")), "datum": datum(opschorting.get("datum"))},
        "inOnderzoek": ({"burgerservicenummer": True, "geslacht": True,
                         "datumIngangOnderzoekPersoon": datum(persoon_onderzoek.get("datumIngangOnderzoek"))}
                        if categorie == "01" else None),
        "partners": [{"burgerservicenummer": v.get("burgerservicenummer"), "geslacht": _wt(v.get("geslacht")),
                      "soortVerbintenis": _wt(v.get("soortVerbintenis")), "naam": _naam(v.get("naam", {})),
                      "geboorte": _geboorte(v.get("geboorte", {})),
                      "aangaanHuwelijkPartnerschap": {
                          "datum": datum(v.get("aangaanHuwelijkPartnerschap", {}).get("datum")),
                          "plaats": _wt(v.get("aangaanHuwelijkPartnerschap", {}).get("plaats")),
                          "land": _wt(v.get("aangaanHuwelijkPartnerschap", {}).get("land"))},
                      "ontbindingHuwelijkPartnerschap": {
                          "datum": datum(v.get("ontbindingHuwelijkPartnerschap", {}).get("datum"))},
                      "inOnderzoek": _onderzoek(v.get("inOnderzoek"), burgerservicenummer=True)}
                     for v in p.get("partners", [])],
        "kinderen": [{"burgerservicenummer": v.get("burgerservicenummer"), "naam": _naam(v.get("naam", {})),
                      "geboorte": _geboorte(v.get("geboorte", {})),
                      "inOnderzoek": _onderzoek(v.get("inOnderzoek"), burgerservicenummer=True)}
                     for v in p.get("kinderen", [])],
        "ouders": [{"burgerservicenummer": v.get("burgerservicenummer"), "geslacht": _wt(v.get("geslacht")),
                    "ouderAanduiding": v.get("ouderAanduiding"), "naam": _naam(v.get("naam", {})),
                    "geboorte": _geboorte(v.get("geboorte", {})),
                    "datumIngangFamilierechtelijkeBetrekking": datum(v.get("datumIngangFamilierechtelijkeBetrekking")),
                    "inOnderzoek": _onderzoek(v.get("inOnderzoek"), burgerservicenummer=True)}
                   for v in p.get("ouders", [])],
    })


BEPERKT = ("burgerservicenummer", "geboorte", "geheimhoudingPersoonsgegevens", "geslacht", "inOnderzoek", "naam",
           "opschortingBijhouding")


def _select(persoon: dict[str, Any], fields: list[str], beperkt: bool) -> dict[str, Any]:
    """``fields`` applied (top-level names and dotted paths), plus what the API always delivers."""
    out: dict[str, Any] = {}
    for f in fields:
        head, _, rest = f.partition(".")
        if head not in persoon:
            continue
        if not rest:
            out[head] = persoon[head]
        elif isinstance(persoon[head], dict) and rest in persoon[head]:
            out.setdefault(head, {})[rest] = persoon[head][rest]
    for auto in ("geheimhoudingPersoonsgegevens", "opschortingBijhouding"):
        if auto in persoon:
            out[auto] = persoon[auto]
    if "inOnderzoek" in persoon and ({"burgerservicenummer", "geslacht"} & set(fields)):
        out["inOnderzoek"] = persoon["inOnderzoek"]
    if beperkt:  # PersoonBeperkt: the search answers' thin shape
        out = {k: v for k, v in out.items() if k in BEPERKT}
        if "naam" in out:
            out["naam"] = {k: v for k, v in out["naam"].items() if k != "aanduidingNaamgebruik"}
        if "geboorte" in out:
            out["geboorte"] = {k: v for k, v in out["geboorte"].items() if k == "datum"}
        if isinstance(out.get("inOnderzoek"), dict):
            out["inOnderzoek"] = {k: v for k, v in out["inOnderzoek"].items() if k != "geslacht"}
    return out


class BrpFake(LoopbackServer):
    def __init__(self, api_key: str = "test-api-key") -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        #: statuses to answer the next requests with (as a problem+json), e.g. [503]
        self.fail_next: list[int] = []
        self.violations: list[str] = []
        self.persons = {bsn: api_persoon(p) for bsn, p in _persons().items()}
        self.serve(Starlette(routes=[Route(BASE + "/personen", self._personen, methods=["POST"])]))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{BASE}"

    def _problem(self, status: int, title: str, invalid: list[dict[str, str]] | None = None) -> Response:
        body: dict[str, Any] = {"type": "https://datatracker.ietf.org/doc/html/rfc7231", "title": title,
                                "status": status, "instance": BASE + "/personen", "code": "paramsValidation"}
        if invalid:
            body["invalidParams"] = invalid
        return Response(json.dumps(body), status_code=status, media_type="application/problem+json")

    async def _personen(self, request: Request) -> Response:
        body = await request.body()
        api, _ = _spec()
        if request.headers.get("x-api-key") != self.api_key:
            return self._problem(401, "Niet correct geauthenticeerd.")
        if self.fail_next:
            return self._problem(self.fail_next.pop(0), "Service niet beschikbaar.")
        spec_request = _Request(body, request.headers.get("content-type", ""), list(request.headers.items()))
        try:
            api.validate_request(spec_request)
        except Exception as exc:  # the broker sent something the contract does not allow
            self.violations.append(f"request: {exc}")
            return self._problem(400, "Een of meerdere parameters zijn niet correct.")
        query = json.loads(body)
        self.requests.append(query)
        fields = query["fields"]
        if bad := [f for f in fields if f.split(".")[0] in AUTO_FIELDS]:
            self.violations.append(f"request: automatically delivered fields asked for: {bad}")
            return self._problem(400, "Een of meerdere parameters zijn niet correct.",
                                 [{"name": "fields", "code": "field", "reason": "Parameter bevat een niet toegestane veldnaam."}])
        beperkt = query["type"] != "RaadpleegMetBurgerservicenummer"
        found = self._find(query)
        if beperkt and not query.get("inclusiefOverledenPersonen"):
            found = [p for p in found if "overlijden" not in p]
        answer = {"type": query["type"], "personen": [_select(p, fields, beperkt) for p in found]}
        data = json.dumps(answer).encode("utf-8")
        try:
            api.validate_response(spec_request, _Response(200, data))
        except Exception as exc:
            self.violations.append(f"response: {exc}")
        return Response(data, media_type="application/json; charset=utf-8")

    def _find(self, q: dict[str, Any]) -> list[dict[str, Any]]:
        def fold(v: Any) -> str:
            return str(v or "").casefold()

        gemeente = q.get("gemeenteVanInschrijving")
        people = [p for p in self.persons.values()
                  if not gemeente or p.get("gemeenteVanInschrijving", {}).get("code") == gemeente]
        if q["type"] == "RaadpleegMetBurgerservicenummer":
            wanted = set(q["burgerservicenummer"])
            return [p for p in people if p["burgerservicenummer"] in wanted]
        def matches(value: Any, asked: str) -> bool:  # the API's wildcard: a trailing *
            if asked.endswith("*"):
                return fold(value).startswith(fold(asked[:-1]))
            return fold(value) == fold(asked)

        if q["type"] == "ZoekMetGeslachtsnaamEnGeboortedatum":
            hits = [p for p in people if matches(p.get("naam", {}).get("geslachtsnaam"), q["geslachtsnaam"])
                    and p.get("geboorte", {}).get("datum", {}).get("datum") == q["geboortedatum"]]
            if q.get("voorvoegsel"):
                hits = [p for p in hits if fold(p["naam"].get("voorvoegsel")) == fold(q["voorvoegsel"])]
            if q.get("voornamen"):
                hits = [p for p in hits if fold(p["naam"].get("voornamen")).startswith(fold(q["voornamen"].rstrip("*")))]
            if q.get("geslacht"):
                hits = [p for p in hits if p.get("geslacht", {}).get("code") == q["geslacht"]]
            return hits
        if q["type"] == "ZoekMetPostcodeEnHuisnummer":
            postcode = q["postcode"].replace(" ", "").upper()
            hits = []
            for p in people:
                adres = p.get("verblijfplaats", {}).get("verblijfadres", {})
                if adres.get("postcode") != postcode or adres.get("huisnummer") != q["huisnummer"]:
                    continue
                if q.get("huisletter") and fold(adres.get("huisletter")) != fold(q["huisletter"]):
                    continue
                if q.get("huisnummertoevoeging") and fold(adres.get("huisnummertoevoeging")) != fold(q["huisnummertoevoeging"]):
                    continue
                hits.append(p)
            return hits
        raise AssertionError(f"the fake does not serve {q['type']}")
