"""genereerZaak-/Document-/BesluitIdentificatie for the ZGW adapter (ZDS 1.2 §4.1.6, §4.1.9, §4.3.7).

Two ways, chosen per kind in routes.yaml:

- a template (the default), filled with a counter per kind and year in the broker's database:
  ``identificaties: {zaak: "{gemeentecode}Z{jaar}{volgnummer:06d}"}``. Placeholders: ``gemeentecode``,
  ``jaar``, ``volgnummer``, ``soort`` (Z, D or B). A zaakidentificatie starts with the gemeentecode
  (RGBZ), and every identificatie is at most 40 characters.
- ``reserve``: the target hands it out. The ZGW standard has no such operation; Open Zaak offers
  ``POST /zaaknummer_reserveren`` (Zaken) and ``POST /documentnummer_reserveren`` (Documenten) as
  experimental extensions, so this works for zaken and documents, not besluiten. Open Zaak's
  zaaknummers (``ZAAK-2026-0000000001``) do not start with the gemeentecode as RGBZ asks; the broker
  hands them out only when ``checks.identificatie_prefix`` is off (otherwise creeerZaak would refuse
  the number genereerZaakIdentificatie gave).

The ZDS service (genereer_identificatie) skips a value that is already in use at the target.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from broker.adapters.zgw.tables import ZgwCounter
from broker.errors import ConfigError, ConfigProblem
from broker.store.db import Database

SOORT = {"zaak": "Z", "document": "D", "besluit": "B"}
#: the value that asks the target for the identificatie instead of a template
RESERVE = "reserve"
#: the kinds a target can reserve (Open Zaak's extensions)
RESERVABLE = ("zaak", "document")
DEFAULT_TEMPLATES = {soort: "{gemeentecode}" + letter + "{jaar}{volgnummer:06d}" for soort, letter in SOORT.items()}


class Identificaties:
    def __init__(self, db: Database, gemeentecode: str, templates: dict[str, str] | None = None,
                 where: str = "routes.yaml") -> None:
        self.db = db
        self.gemeentecode = gemeentecode
        self.templates = {**DEFAULT_TEMPLATES, **(templates or {})}
        problems = []
        for soort, template in self.templates.items():
            if soort not in SOORT:
                problems.append(ConfigProblem(where, None, f"identificaties: unknown kind {soort!r}; kinds: "
                                              + ", ".join(SOORT)))
                continue
            if template == RESERVE:
                if soort not in RESERVABLE:
                    problems.append(ConfigProblem(where, None, f"identificaties.{soort}: a {soort}identificatie "
                                                  "cannot be reserved at a ZGW target (only zaak and document "
                                                  "have an Open Zaak reservation endpoint); give a template"))
                continue
            try:
                sample = self._fill(soort, template, 2026, 999999)
            except (KeyError, ValueError, IndexError) as exc:
                problems.append(ConfigProblem(where, None, f"identificaties.{soort}: template {template!r} "
                                              f"cannot be filled ({exc}); placeholders: gemeentecode, jaar, "
                                              "volgnummer, soort"))
                continue
            if len(sample) > 40:
                problems.append(ConfigProblem(where, None, f"identificaties.{soort}: {sample!r} is longer than "
                                              "40 characters"))
            if soort == "zaak" and not sample.startswith(gemeentecode):
                problems.append(ConfigProblem(where, None, "identificaties.zaak: a zaakidentificatie starts with "
                                              "the gemeentecode (RGBZ); begin the template with {gemeentecode}"))
        if problems:
            raise ConfigError(problems)

    def _fill(self, soort: str, template: str, jaar: int, volgnummer: int) -> str:
        return template.format(gemeentecode=self.gemeentecode, jaar=jaar, volgnummer=volgnummer,
                               soort=SOORT[soort])

    def reserved(self, soort: str) -> bool:
        """Does the target hand out identificaties of this kind?"""
        return self.templates.get(soort) == RESERVE

    def next(self, soort: str) -> str:
        jaar = datetime.now().year
        return self._fill(soort, self.templates[soort], jaar, self._count(f"zgw:{soort}:{jaar}"))

    def _count(self, name: str) -> int:
        """The next value of a counter, incremented in a transaction of its own (the row lock, or
        SQLite's write lock, serialises concurrent requests; two first uses race on the insert)."""
        for _ in range(5):
            try:
                with self.db.write() as s:
                    value = s.execute(update(ZgwCounter).where(ZgwCounter.name == name)
                                      .values(value=ZgwCounter.value + 1).returning(ZgwCounter.value)
                                      ).scalar_one_or_none()
                    if value is None:
                        s.add(ZgwCounter(name=name, value=1))
                        s.flush()
                        return 1
                    return int(value)
            except IntegrityError:  # another process created the counter first: count on it
                continue
        raise RuntimeError(f"counter {name} could not be incremented")
