#!/usr/bin/env python3
"""Build the seed of the embedded person register from the BRP test persons.

Reads the data file of the official BRP API Personen mock (1,176 fictitious persons of the RvIG
GBA-V proefomgeving, EUPL-1.2; ``shared/openapi/brp/testdata/personen-mock-test-data.json``) and
writes one person of the broker's case model (broker.model.person) per line, gzipped:

    scripts/brp_testset_seed.py [MOCK_JSON] [OUT]   (default OUT: broker/adapters/data/brp-testpersonen.jsonl.gz)

These are test persons. Never seed a production register with them.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from broker.model.person import Adres, Datum, Naam, Persoon, Verwant  # noqa: E402

DEFAULT_IN = REPO.parent / "shared" / "openapi" / "brp" / "testdata" / "personen-mock-test-data.json"
DEFAULT_OUT = REPO / "broker" / "adapters" / "data" / "brp-testpersonen.jsonl.gz"

#: LO GBA category of aanduidingGegevensInOnderzoek -> StUF-BG groep of NPS
_ONDERZOEK = {"01": "Persoonsgegevens", "04": "Nationaliteit", "06": "Overlijden", "07": "Inschrijving",
              "08": "Verblijfsplaats"}


def _code(value: Any) -> str | None:
    return value.get("code") if isinstance(value, dict) else None


def _omschrijving(value: Any) -> str | None:
    return value.get("omschrijving") if isinstance(value, dict) else None


def _datum(value: str | None) -> Datum | None:
    return Datum(value) if value and len(value) == 8 and value.isdigit() else None


def _naam(n: dict[str, Any]) -> Naam:
    return Naam(geslachtsnaam=n.get("geslachtsnaam"), voorvoegsel=n.get("voorvoegsel"),
                voornamen=(n.get("voornamen") or "").strip() or None,
                adellijke_titel=_code(n.get("adellijkeTitelPredicaat")),
                aanduiding_naamgebruik=_code(n.get("aanduidingNaamgebruik")))


def _verwant(v: dict[str, Any]) -> Verwant:
    geboorte = v.get("geboorte", {})
    sluiting = v.get("aangaanHuwelijkPartnerschap", {})
    return Verwant(
        bsn=v.get("burgerservicenummer"), naam=_naam(v.get("naam", {})), geslacht=_code(v.get("geslacht")),
        geboortedatum=_datum(geboorte.get("datum")), geboorteplaats=_omschrijving(geboorte.get("plaats")),
        geboorteland=_code(geboorte.get("land")), in_onderzoek="inOnderzoek" in v,
        soort_verbintenis=_code(v.get("soortVerbintenis")), datum_sluiting=_datum(sluiting.get("datum")),
        plaats_sluiting=_omschrijving(sluiting.get("plaats")), land_sluiting=_code(sluiting.get("land")),
        datum_ontbinding=_datum(v.get("ontbindingHuwelijkPartnerschap", {}).get("datum")),
        ouder_aanduiding=v.get("ouderAanduiding"),
        datum_ingang_familierechtelijke_betrekking=_datum(v.get("datumIngangFamilierechtelijkeBetrekking")))


def _adres(vp: dict[str, Any]) -> Adres | None:
    if "land" in vp:
        return Adres(land_code=_code(vp["land"]), land_naam=_omschrijving(vp["land"]), regel1=vp.get("regel1"),
                     regel2=vp.get("regel2"), regel3=vp.get("regel3"),
                     datum_aanvang=_datum(vp.get("datumAanvangAdresBuitenland")))
    if not any(k in vp for k in ("straat", "postcode", "locatiebeschrijving")):
        return None
    huisnummer = vp.get("huisnummer")
    return Adres(functie=_code(vp.get("functieAdres")), straat=vp.get("naamOpenbareRuimte") or vp.get("straat"),
                 korte_straatnaam=vp.get("straat"), huisnummer=int(huisnummer) if huisnummer else None,
                 huisletter=vp.get("huisletter"), huisnummertoevoeging=vp.get("huisnummertoevoeging"),
                 postcode=(vp.get("postcode") or "").replace(" ", "").upper() or None, woonplaats=vp.get("woonplaats"),
                 nummeraanduiding_id=vp.get("nummeraanduidingIdentificatie"),
                 adresseerbaar_object_id=vp.get("adresseerbaarObjectIdentificatie"),
                 locatiebeschrijving=vp.get("locatiebeschrijving"),
                 datum_aanvang=_datum(vp.get("datumAanvangAdreshouding")))


def persoon(p: dict[str, Any]) -> Persoon:
    geboorte, overlijden = p.get("geboorte", {}), p.get("overlijden", {})
    adres = _adres(p.get("verblijfplaats", {}))
    onderzoek = []
    for where in (p.get("persoonInOnderzoek"), p.get("verblijfplaats", {}).get("inOnderzoek"),
                  overlijden.get("inOnderzoek")):
        aanduiding = (where or {}).get("aanduidingGegevensInOnderzoek", "")
        groep = _ONDERZOEK.get(aanduiding[:2])
        if groep == "Verblijfsplaats" and adres is not None and adres.buitenland:
            groep = "VerblijfBuitenland"
        if groep and groep not in onderzoek:
            onderzoek.append(groep)
    opschorting = p.get("opschortingBijhouding", {})
    geheim = p.get("geheimhoudingPersoonsgegevens")
    brief = adres is not None and adres.functie == "B"
    return Persoon(
        bsn=p["burgerservicenummer"], a_nummer=p.get("aNummer"), naam=_naam(p.get("naam", {})),
        geslacht=_code(p.get("geslacht")), geboortedatum=_datum(geboorte.get("datum")),
        geboorteplaats=_omschrijving(geboorte.get("plaats")), geboorteland=_code(geboorte.get("land")),
        overlijdensdatum=_datum(overlijden.get("datum")), overlijdensplaats=_omschrijving(overlijden.get("plaats")),
        overlijdensland=_code(overlijden.get("land")),
        verblijfadres=None if brief else adres, correspondentieadres=adres if brief else None,
        gemeente_van_inschrijving=_code(p.get("gemeenteVanInschrijving")),
        datum_inschrijving=_datum(p.get("datumInschrijvingInGemeente")),
        geheimhouding=int(geheim) if geheim else None,
        opschorting_reden=_code(opschorting.get("reden")), opschorting_datum=_datum(opschorting.get("datum")),
        in_onderzoek=onderzoek,
        partners=[_verwant(v) for v in p.get("partners", [])],
        kinderen=[_verwant(v) for v in p.get("kinderen", [])],
        ouders=[_verwant(v) for v in p.get("ouders", [])])


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_IN
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    persons = [persoon(p) for p in json.loads(source.read_text(encoding="utf-8"))]
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime 0: the same input gives the same bytes
    with gzip.GzipFile(out, "wb", mtime=0) as f:
        for p in sorted(persons, key=lambda p: p.bsn):
            f.write(json.dumps(p.to_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
    print(f"{len(persons)} test persons written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
