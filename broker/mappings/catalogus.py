"""The zaaktypecatalogus of the embedded zaaksysteem (``<config>/zaaktypecatalogus.yaml``).

Zaaktypen with their statustypen, roltypen and documenttypen. Validated at start-up with file:line
errors; a message that names an unknown zaaktype or status is answered with a fault that says which.
The file is versioned and hot-reloaded by broker.mappings.store: :meth:`Catalogus.take_over` puts a
new version in place in the object every component holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from broker.errors import ConfigError, ConfigProblem, StufError
from broker.yamlfile import compose, line_for, load_model, problems_from

FILENAME = "zaaktypecatalogus.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StatusType(_Strict):
    volgnummer: int = Field(ge=1, le=9999)
    omschrijving: str = Field(min_length=1, max_length=80)
    code: str | None = Field(None, max_length=50)
    eindstatus: bool = False


class RolType(_Strict):
    omschrijving: str = Field(min_length=1, max_length=100)
    #: the roltype's generic kind, one of Adviseur, Behandelaar, Belanghebbende, Beslisser, Gemachtigde,
    #: Initiator, Klantcontacter, Mede-initiator, Overig, Uitvoerder, Verantwoordelijke, Zaakcoördinator
    generiek: Literal["Adviseur", "Behandelaar", "Belanghebbende", "Beslisser", "Gemachtigde", "Initiator",
                      "Klantcontacter", "Mede-initiator", "Overig", "Uitvoerder", "Verantwoordelijke",
                      "Zaakcoördinator"]


class DocumentType(_Strict):
    omschrijving: str = Field(min_length=1, max_length=80)
    code: str | None = None


class ZaakTypeDef(_Strict):
    code: str = Field(min_length=1, max_length=50)
    omschrijving: str = Field(min_length=1, max_length=100)
    ingangsdatum: str | None = Field(None, pattern=r"^[0-9]{8}$")
    statustypen: list[StatusType] = []
    roltypen: list[RolType] = []
    #: empty list: any document type is accepted for this zaaktype
    documenttypen: list[DocumentType] = []

    @model_validator(mode="after")
    def _unique_volgnummers(self) -> ZaakTypeDef:
        seen: set[int] = set()
        for st in self.statustypen:
            if st.volgnummer in seen:
                raise ValueError(f"statustype volgnummer {st.volgnummer} appears twice")
            seen.add(st.volgnummer)
        return self


class CatalogusFile(_Strict):
    zaaktypen: list[ZaakTypeDef] = []


@dataclass
class Catalogus:
    zaaktypen: list[ZaakTypeDef]
    source: str = ""

    def take_over(self, other: Catalogus) -> None:
        """Use the zaaktypen of ``other`` from now on (a new version of the file, hot-reloaded).
        One attribute assignment: a message being handled sees the old list or the new one."""
        self.zaaktypen = other.zaaktypen

    def zaaktype(self, code: str | None, omschrijving: str | None) -> ZaakTypeDef:
        for zt in self.zaaktypen:
            if code and zt.code == code:
                return zt
        for zt in self.zaaktypen:
            if not code and omschrijving and zt.omschrijving == omschrijving:
                return zt
        known = ", ".join(f"{z.code} ({z.omschrijving})" for z in self.zaaktypen[:10]) or "geen"
        raise StufError(
            "StUF058",
            f"Onbekend zaaktype {code or omschrijving!s}",
            f"het zaaktype met code {code!r} / omschrijving {omschrijving!r} staat niet in de "
            f"zaaktypecatalogus; bekende zaaktypen: {known}",
            plek="client",
        )

    def statustype(
        self, zaaktype: ZaakTypeDef, code: str | None, omschrijving: str | None, volgnummer: str | None
    ) -> StatusType:
        for st in zaaktype.statustypen:
            if code and st.code == code:
                return st
        for st in zaaktype.statustypen:
            if omschrijving and st.omschrijving == omschrijving:
                return st
        for st in zaaktype.statustypen:
            if not code and not omschrijving and volgnummer and str(st.volgnummer) == volgnummer.lstrip("0"):
                return st
        known = ", ".join(f"{s.volgnummer} {s.omschrijving}" for s in zaaktype.statustypen) or "geen"
        raise StufError(
            "StUF064",
            f"Onbekend statustype {code or omschrijving or volgnummer!s} voor zaaktype {zaaktype.code}",
            f"statustype code {code!r} / omschrijving {omschrijving!r} bestaat niet bij zaaktype "
            f"{zaaktype.code} ({zaaktype.omschrijving}); bekende statustypen: {known}",
            plek="client",
        )

    def documenttype_allowed(self, zaaktype: ZaakTypeDef, omschrijving: str | None) -> None:
        if not zaaktype.documenttypen or omschrijving is None:
            return
        if any(d.omschrijving == omschrijving for d in zaaktype.documenttypen):
            return
        known = ", ".join(d.omschrijving for d in zaaktype.documenttypen)
        raise StufError(
            "StUF058",
            f"Documenttype {omschrijving!s} hoort niet bij zaaktype {zaaktype.code}",
            f"toegestane documenttypen voor {zaaktype.code}: {known}",
            plek="client",
        )


def load_catalogus(config_dir: Path) -> Catalogus:
    path = config_dir / FILENAME
    model, lines = load_model(path, CatalogusFile, default={"zaaktypen": []})
    return _checked(model, lines, str(path))


def parse_catalogus(text: str, filename: str) -> Catalogus:
    """A catalogus from the text of a version of the file (broker.mappings.store)."""
    from pydantic import ValidationError

    data, lines = compose(text, filename)
    try:
        model = CatalogusFile.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, filename, lines, CatalogusFile)) from None
    return _checked(model, lines, filename)


def _checked(model: CatalogusFile, lines: dict, path: str) -> Catalogus:
    problems: list[ConfigProblem] = []
    seen: dict[str, int] = {}
    for i, zt in enumerate(model.zaaktypen):
        if zt.code in seen:
            problems.append(
                ConfigProblem(path, line_for(lines, ("zaaktypen", i, "code")),
                              f"zaaktype code {zt.code!r} also defined as entry {seen[zt.code] + 1}")
            )
        seen[zt.code] = i
    if problems:
        raise ConfigError(problems)
    return Catalogus(model.zaaktypen, path)
