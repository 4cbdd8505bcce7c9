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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.adapters.options import Options, parse
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


@dataclass(frozen=True)
class _Seed:
    """A seed file's persons and their indexes, as loaded once per process (never changed after)."""

    by_bsn: dict[str, Persoon]
    by_adres: dict[tuple[str, int], list[Persoon]]
    by_naam: dict[tuple[str, str], list[Persoon]]
    by_geboortedatum: dict[str, list[Persoon]]


#: loaded seeds by (path, size, mtime): ``serve`` loads them before it forks its workers (:func:`preload`),
#: which then start with them instead of each parsing the file again
_LOADED: dict[tuple[str, int, int], _Seed] = {}


def _seed_key(seed: Path) -> tuple[str, int, int] | None:
    try:
        st = seed.stat()
    except OSError:
        return None
    return (str(seed.resolve()), st.st_size, st.st_mtime_ns)


def _load(name: str, seed: Path) -> _Seed:
    key = _seed_key(seed)
    if key is None or not seed.is_file():
        raise ConfigError([ConfigProblem("routes.yaml", None, f"target {name!r}: seed {seed} does not exist")])
    if key in _LOADED:
        return _LOADED[key]
    by_bsn: dict[str, Persoon] = {}
    by_adres: dict[tuple[str, int], list[Persoon]] = defaultdict(list)
    by_naam: dict[tuple[str, str], list[Persoon]] = defaultdict(list)
    by_geboortedatum: dict[str, list[Persoon]] = defaultdict(list)
    opener = gzip.open if seed.suffix == ".gz" else open
    with opener(seed, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                p = Persoon.from_dict(json.loads(line))
            except (ValueError, TypeError, KeyError) as exc:  # no values in the message: personal data
                raise ConfigError([ConfigProblem(str(seed), lineno,
                                                 f"not a person ({type(exc).__name__})")]) from None
            by_bsn[p.bsn] = p
            for adres in (p.verblijfadres, p.correspondentieadres):
                if adres is not None and adres.postcode and adres.huisnummer:
                    by_adres[(adres.postcode, adres.huisnummer)].append(p)
            if p.naam.geslachtsnaam and p.geboortedatum:
                by_naam[(_fold(p.naam.geslachtsnaam), p.geboortedatum.waarde)].append(p)
                by_geboortedatum[p.geboortedatum.waarde].append(p)
    # plain dicts: a lookup of an unknown key must not add it to the shared indexes
    loaded = _Seed(by_bsn, dict(by_adres), dict(by_naam), dict(by_geboortedatum))
    _LOADED[key] = loaded
    return loaded


def preload(config_dir: Path, options: dict[str, Any]) -> None:
    """Load the seed of a register with these options (as routes.yaml gives them) into this process
    (``_LOADED``); options or a seed that are wrong are left to the check, which reports them."""
    try:
        _load("preload", _seed_path(config_dir, parse(RegisterOptions, "preload", options)))
    except ConfigError:
        pass


class PersonenRegister:
    def __init__(self, name: str, seed: Path, *, inclusief_overledenen: bool = True) -> None:
        self.name = name
        self.seed = seed
        self.inclusief_overledenen = inclusief_overledenen
        loaded = _load(name, seed)
        self.by_bsn = loaded.by_bsn
        self.by_adres = loaded.by_adres
        self.by_naam = loaded.by_naam
        self.by_geboortedatum = loaded.by_geboortedatum

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


def _seed_path(config_dir: Path, options: RegisterOptions) -> Path:
    seed = Path(options.seed) if options.seed else TESTSET
    return seed if seed.is_absolute() else config_dir / seed


def build(name: str, config_dir: Path, options: RegisterOptions) -> PersonenRegister:
    return PersonenRegister(name, _seed_path(config_dir, options), inclusief_overledenen=options.inclusief_overledenen)
