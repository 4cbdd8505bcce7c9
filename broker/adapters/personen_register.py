"""The embedded person register: persons of the case model in memory, seeded at start-up from a file
(one person per line as JSON, broker.model.person.Persoon.to_dict; ``.gz`` allowed).

Without a ``seed`` option it loads the shipped test set: the 1,176 fictitious persons of the RvIG
GBA-V proefomgeving (``broker/adapters/data``, built by ``scripts/brp_testset_seed.py``). These are
test persons: a production broker configures its own seed or another person source.

Options in routes.yaml (:class:`RegisterOptions`): ``seed`` (path; relative to the configuration
folder), ``inclusief_overledenen`` (searches also find deceased persons; default true, as a GBA-fed
StUF-BG source would).
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

from broker.adapters.options import Options
from broker.errors import ConfigError, ConfigProblem
from broker.model.person import Persoon, PersoonVraag
from broker.model.ports import Health

TESTSET = Path(__file__).parent / "data" / "brp-testpersonen.jsonl.gz"


class RegisterOptions(Options):
    #: the persons, one JSON object a line (`.gz` allowed), relative to the configuration folder; default: the shipped test persons
    seed: str | None = None
    #: searches find deceased persons too
    inclusief_overledenen: bool = True


def _fold(value: str | None) -> str:
    return (value or "").casefold().strip()


class PersonenRegister:
    def __init__(self, name: str, seed: Path, *, inclusief_overledenen: bool = True) -> None:
        self.name = name
        self.seed = seed
        self.inclusief_overledenen = inclusief_overledenen
        self.by_bsn: dict[str, Persoon] = {}
        self.by_adres: dict[tuple[str, int], list[Persoon]] = defaultdict(list)
        self.by_naam: dict[tuple[str, str], list[Persoon]] = defaultdict(list)
        self.by_geboortedatum: dict[str, list[Persoon]] = defaultdict(list)
        self._load()

    def _load(self) -> None:
        if not self.seed.is_file():
            raise ConfigError([ConfigProblem("routes.yaml", None, f"target {self.name!r}: seed {self.seed} does not exist")])
        opener = gzip.open if self.seed.suffix == ".gz" else open
        with opener(self.seed, "rt", encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    p = Persoon.from_dict(json.loads(line))
                except (ValueError, TypeError, KeyError) as exc:  # no values in the message: personal data
                    raise ConfigError([ConfigProblem(str(self.seed), lineno,
                                                     f"not a person ({type(exc).__name__})")]) from None
                self.by_bsn[p.bsn] = p
                for adres in (p.verblijfadres, p.correspondentieadres):
                    if adres is not None and adres.postcode and adres.huisnummer:
                        self.by_adres[(adres.postcode, adres.huisnummer)].append(p)
                if p.naam.geslachtsnaam and p.geboortedatum:
                    self.by_naam[(_fold(p.naam.geslachtsnaam), p.geboortedatum.waarde)].append(p)
                    self.by_geboortedatum[p.geboortedatum.waarde].append(p)

    def zoek(self, vraag: PersoonVraag) -> list[Persoon]:
        if vraag.soort == "bsn":
            found = self.by_bsn.get(vraag.bsn or "")
            return [found] if found is not None else []
        if vraag.soort == "postcode_huisnummer":
            hits = [p for p in self.by_adres.get((vraag.postcode or "", vraag.huisnummer or 0), [])
                    if _adres_past(p, vraag)]
        else:
            assert vraag.geboortedatum is not None
            if vraag.geslachtsnaam_exact:
                hits = self.by_naam.get((_fold(vraag.geslachtsnaam), vraag.geboortedatum.waarde), [])
            else:
                begin = _fold(vraag.geslachtsnaam)
                hits = [p for p in self.by_geboortedatum.get(vraag.geboortedatum.waarde, [])
                        if _fold(p.naam.geslachtsnaam).startswith(begin)]
            hits = [p for p in hits if _naam_past(p, vraag)]
        if not (self.inclusief_overledenen and vraag.inclusief_overledenen):
            hits = [p for p in hits if not p.overleden]
        return list({p.bsn: p for p in hits}.values())

    def check(self) -> Health:
        return Health(True, f"{len(self.by_bsn)} personen")


def _adres_past(p: Persoon, vraag: PersoonVraag) -> bool:
    for adres in (p.verblijfadres, p.correspondentieadres):
        if adres is None or adres.postcode != vraag.postcode or adres.huisnummer != vraag.huisnummer:
            continue
        if vraag.huisletter and _fold(adres.huisletter) != _fold(vraag.huisletter):
            continue
        if vraag.huisnummertoevoeging and _fold(adres.huisnummertoevoeging) != _fold(vraag.huisnummertoevoeging):
            continue
        return True
    return False


def _naam_past(p: Persoon, vraag: PersoonVraag) -> bool:
    if vraag.voorvoegsel and _fold(p.naam.voorvoegsel) != _fold(vraag.voorvoegsel):
        return False
    if vraag.geslacht and p.geslacht != vraag.geslacht:
        return False
    if vraag.voornamen:
        if not vraag.voornamen_exact:
            return _fold(p.naam.voornamen).startswith(_fold(vraag.voornamen))
        # the asked voornamen are the person's first voornamen (as the BRP API matches them)
        asked, have = _fold(vraag.voornamen).split(), _fold(p.naam.voornamen).split()
        if have[: len(asked)] != asked:
            return False
    return True


def build(name: str, config_dir: Path, options: RegisterOptions) -> PersonenRegister:
    seed = Path(options.seed) if options.seed else TESTSET
    if not seed.is_absolute():
        seed = config_dir / seed
    return PersonenRegister(name, seed, inclusief_overledenen=options.inclusief_overledenen)
