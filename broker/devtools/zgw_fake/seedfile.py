"""Seeding the fake's Catalogi API from a YAML file (``stuf-broker dev zgw-fake --seed FILE``).

The format is described in the default file, ``seed.yaml`` beside this module. Statustypen are given in
order; each gets its position as volgnummer unless it says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .seed import SeededZaaktype
from .server import ZGWFake

DEFAULT_SEED = Path(__file__).with_name("seed.yaml")
_TYPES = ("statustypen", "roltypen", "informatieobjecttypen", "resultaattypen", "besluittypen", "eigenschappen")
_ZAAKTYPE_KEYS = {"identificatie", "omschrijving", "vertrouwelijkheidaanduiding", *_TYPES}


class SeedError(ValueError):
    """The seed file cannot be used; the message names the file and the place."""


def load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"{path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: not YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("zaaktypen"), list):
        raise SeedError(f"{path}: expected a mapping with a list 'zaaktypen'")
    unknown = set(data) - {"catalogus", "zaaktypen"}
    if unknown:
        raise SeedError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} (expected catalogus, zaaktypen)")
    for n, zt in enumerate(data["zaaktypen"], 1):
        if not isinstance(zt, dict) or not zt.get("identificatie"):
            raise SeedError(f"{path}: zaaktype {n} has no identificatie")
        unknown = set(zt) - _ZAAKTYPE_KEYS
        if unknown:
            raise SeedError(f"{path}: zaaktype {zt['identificatie']}: unknown key(s) {', '.join(sorted(unknown))} "
                            f"(expected {', '.join(sorted(_ZAAKTYPE_KEYS))})")
        for key in _TYPES:
            if not isinstance(zt.get(key, []), list):
                raise SeedError(f"{path}: zaaktype {zt['identificatie']}: {key} must be a list")
    return data


def apply(fake: ZGWFake, data: dict[str, Any]) -> list[SeededZaaktype]:
    """Create the catalogus and every zaaktype of ``data`` (from :func:`load`) in ``fake``."""
    catalogus = None
    try:
        if isinstance(data.get("catalogus"), dict):
            catalogus = fake.seed_catalogus(**data["catalogus"])
        return [_zaaktype(fake, zt, catalogus) for zt in data["zaaktypen"]]
    except (TypeError, ValueError) as exc:
        raise SeedError(f"the seed does not fit the Catalogi API: {exc}") from exc


def _zaaktype(fake: ZGWFake, zt: dict[str, Any], catalogus: str | None) -> SeededZaaktype:
    options = {k: v for k, v in zt.items() if k not in ("identificatie", "omschrijving")}
    statustypen = options.pop("statustypen", [])
    options["statustypen"] = [
        {"volgnummer": n, "omschrijving": st} if isinstance(st, str) else st
        for n, st in enumerate(statustypen, 1)
    ]
    if catalogus is not None:
        options["catalogus"] = catalogus
    return fake.add_zaaktype(zt["identificatie"], zt.get("omschrijving", ""), **options)
