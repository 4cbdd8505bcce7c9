"""Reading the mapping files together, checking them, and answering the adapter's questions.

Files (``<config>/mappings/*.yaml``, format in broker.mappings.schema) are parsed one by one with
line numbers, then checked together: a zaaktype, zender or gemeente appears in one file only, field
names are those of the ZGW resources, and the ZDS codes a file maps exist in the zaaktypecatalogus
when that lists the zaaktype. Every problem is reported as ``file:line: what (did you mean ...?)``.

:class:`Mappings` is the checked result, immutable; :class:`MappingSet` holds the one in use and is
swapped as a whole when a new version is taken into use (hot reload), so a message is translated with
one consistent set from start to finish.
"""

from __future__ import annotations

import difflib
import re
import threading
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from broker.errors import ConfigError, ConfigProblem
from broker.mappings.catalogus import Catalogus
from broker.mappings.schema import (
    TRANSLATABLE,
    WRITABLE,
    MappingFile,
    Tweaks,
    ZaaktypeMapping,
)
from broker.model.case import ROLLEN
from broker.yamlfile import Loc, compose, line_for, problems_from


@dataclass
class MappingSource:
    """One parsed mapping file."""

    name: str  # as the ConfigStore names it: "mappings/shv.yaml"
    filename: str  # as problems show it
    model: MappingFile
    lines: dict[Loc, int]


def parse(text: str, name: str, filename: str | None = None) -> MappingSource:
    """Parse and validate one file's text; ConfigError with every problem of this file alone."""
    filename = filename or name
    data, lines = compose(text, filename)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(filename, 1, "a mapping file holds a mapping (key: value) at the top")])
    problems = _field_problems(data, filename, lines)
    try:
        model = MappingFile.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc, filename, lines, MappingFile) + problems
        for err, problem in zip(exc.errors(), problems):
            if problem.suggestion is not None:
                continue
            if err["type"] == "literal_error":
                allowed = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
                problem.suggestion = _hint(str(err.get("input")), allowed)
            elif err["type"] == "extra_forbidden":
                problem.suggestion = _hint(str(err["loc"][-1]), _allowed_keys(tuple(err["loc"][:-1])))
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return MappingSource(name, filename, model, lines)


def _allowed_keys(loc: Loc) -> list[str]:
    """The keys a mapping file allows at ``loc``, keys of dictionaries (zaaktype codes, ...) skipped."""
    current: Any = MappingFile
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return []
        annotation = fields[part].annotation
        args = typing.get_args(annotation)
        if typing.get_origin(annotation) is dict and args:
            current = args[1]
            if parts:
                parts.pop(0)  # the dictionary's own key
            else:
                return []
        else:
            current = annotation
    return list(getattr(current, "model_fields", {}))


def _hint(value: str, options: list[str] | tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(value, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


def _tweak_parts(data: dict[str, Any]) -> list[tuple[Loc, dict[str, Any]]]:
    """The parts of a file (as read) that hold tweaks: the file itself, each zaaktype, each zender."""
    parts: list[tuple[Loc, dict[str, Any]]] = [((), data)]
    for section in ("zaaktypen", "zenders"):
        entries = data.get(section)
        if isinstance(entries, dict):
            parts += [((section, key), value) for key, value in entries.items() if isinstance(value, dict)]
    return parts


def _field_problems(data: dict[str, Any], filename: str, lines: dict[Loc, int]) -> list[ConfigProblem]:
    """Field names in defaults/overrides/waarden are those of the ZGW resources; rol names are
    StUF-ZKN's. Checked on the file as read, so they are reported together with the schema's problems."""
    problems = []

    def where(loc: Loc) -> int | None:
        return lines.get(loc + ("__key__",)) or line_for(lines, loc)

    for loc, part in _tweak_parts(data):
        for kind in ("defaults", "overrides"):
            values = part.get(kind)
            for resource, fields in (values.items() if isinstance(values, dict) else []):
                if resource not in WRITABLE or not isinstance(fields, dict):
                    continue  # the schema check names these
                allowed = WRITABLE[resource]
                for name in fields:
                    if name not in allowed:
                        problems.append(ConfigProblem(
                            filename, where(loc + (kind, resource, name)),
                            f"{'.'.join(map(str, loc + (kind, resource)))}: {name!r} is not a field the broker "
                            f"can set on a {resource}", _hint(str(name), allowed)))
        waarden = part.get("waarden")
        for name in (waarden if isinstance(waarden, dict) else []):
            if name not in TRANSLATABLE:
                problems.append(ConfigProblem(
                    filename, where(loc + ("waarden", name)),
                    f"waarden: {name!r} is not a field with translatable values; fields: {', '.join(TRANSLATABLE)}",
                    _hint(str(name), TRANSLATABLE)))
        roltypen = part.get("roltypen") if loc[:1] == ("zaaktypen",) else None
        for rol in (roltypen if isinstance(roltypen, dict) else []):
            if str(rol).startswith("heeftAls") and rol not in ROLLEN:
                problems.append(ConfigProblem(filename, where(loc + ("roltypen", rol)),
                                              f"zaaktype {loc[1]}: {rol!r} is not a StUF-ZKN rol",
                                              _hint(str(rol), list(ROLLEN))))
    return problems


def check(sources: list[MappingSource], catalogus: Catalogus | None = None) -> list[ConfigProblem]:
    """Problems between files, and with the zaaktypecatalogus (ZDS codes that do not exist)."""
    problems: list[ConfigProblem] = []
    seen: dict[tuple[str, str], MappingSource] = {}

    def once(kind: str, key: str, source: MappingSource, loc: Loc, what: str) -> None:
        other = seen.get((kind, key))
        if other is None:
            seen[(kind, key)] = source
            return
        line = other.lines.get(loc + ("__key__",)) or line_for(other.lines, loc)
        problems.append(ConfigProblem(
            source.filename, source.lines.get(loc + ("__key__",)) or line_for(source.lines, loc),
            f"{what} is mapped in {other.filename}{f':{line}' if line else ''} already; a {kind} belongs "
            "in one mapping file"))

    for source in sources:
        model = source.model
        for code in model.gemeenten:
            once("gemeente", code, source, ("gemeenten", code), f"gemeente {code}")
        for code in model.zaaktypen:
            once("zaaktype", code, source, ("zaaktypen", code), f"zaaktype {code}")
        for app in model.zenders:
            once("zender", app, source, ("zenders", app), f"zender {app}")
        for loc in _general_settings(model):
            once("general setting", ".".join(loc), source, loc, f"the general setting {'.'.join(loc)!r}")
    if catalogus is not None:
        for source in sources:
            problems += _catalogus_problems(source, catalogus)
    return problems


def _general_settings(model: MappingFile) -> list[tuple[str, ...]]:
    """Each general (file-level) setting a file makes, by its location."""
    out: list[tuple[str, ...]] = []
    if model.vertrouwelijkheidaanduiding:
        out.append(("vertrouwelijkheidaanduiding",))
    for kind in ("defaults", "overrides"):
        for resource in WRITABLE:
            out += [(kind, resource, name) for name in getattr(getattr(model, kind), resource)]
    for name, table in model.waarden.items():
        out += [("waarden", name, value) for value in table]
    return out


def _catalogus_problems(source: MappingSource, catalogus: Catalogus) -> list[ConfigProblem]:
    """A mapped status code or document type must exist for the zaaktype in the zaaktypecatalogus
    (when the catalogus lists that zaaktype: a ZGW-only zaaktype need not be there)."""
    problems = []
    known = {zt.code: zt for zt in catalogus.zaaktypen}
    for code, zt in source.model.zaaktypen.items():
        definition = known.get(code)
        if definition is None:
            continue
        statussen = [s.code for s in definition.statustypen if s.code] + [s.omschrijving for s in definition.statustypen]
        for status in zt.statustypen:
            if status not in statussen:
                where = ("zaaktypen", code, "statustypen", status, "__key__")
                problems.append(ConfigProblem(
                    source.filename, source.lines.get(where),
                    f"zaaktype {code}: status {status!r} is not in the zaaktypecatalogus; known: "
                    + ", ".join(s.code or s.omschrijving for s in definition.statustypen),
                    _hint(status, statussen)))
        rollen = list(ROLLEN) + [r.omschrijving for r in definition.roltypen]
        for rol in zt.roltypen:
            if rol not in rollen:
                where = ("zaaktypen", code, "roltypen", rol, "__key__")
                problems.append(ConfigProblem(
                    source.filename, source.lines.get(where),
                    f"zaaktype {code}: rol {rol!r} is neither a StUF-ZKN rol nor a roltype of the zaaktypecatalogus",
                    _hint(rol, rollen)))
        documenttypen = [d.omschrijving for d in definition.documenttypen]
        for dt in zt.informatieobjecttypen if documenttypen else ():
            if dt not in documenttypen:
                where = ("zaaktypen", code, "informatieobjecttypen", dt, "__key__")
                problems.append(ConfigProblem(
                    source.filename, source.lines.get(where),
                    f"zaaktype {code}: document type {dt!r} is not in the zaaktypecatalogus",
                    _hint(dt, documenttypen)))
    return problems


# -- the checked set -------------------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    """What applies to one message: the general tweaks, then its zaaktype's, then its zender's."""

    vertrouwelijkheidaanduiding: str | None = None
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    waarden: dict[str, dict[str, str]] = field(default_factory=dict)

    def apply(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with the defaults filled in where it has no value, and the overrides set."""
        for name, value in self.defaults.get(resource, {}).items():
            if body.get(name) in (None, "", []):
                body[name] = value
        body.update(self.overrides.get(resource, {}))
        return body

    def to_zgw(self, field_name: str, value: str | None) -> str | None:
        if value is None:
            return None
        return self.waarden.get(field_name, {}).get(value, value)

    def from_zgw(self, field_name: str, value: str | None) -> str | None:
        if value is None:
            return None
        for zds, zgw in self.waarden.get(field_name, {}).items():
            if zgw == value:
                return zds
        return value


def _merge(profile: Profile, tweaks: Tweaks) -> Profile:
    defaults = {k: dict(v) for k, v in profile.defaults.items()}
    overrides = {k: dict(v) for k, v in profile.overrides.items()}
    for resource in WRITABLE:
        defaults.setdefault(resource, {}).update(getattr(tweaks.defaults, resource))
        overrides.setdefault(resource, {}).update(getattr(tweaks.overrides, resource))
    waarden = {k: dict(v) for k, v in profile.waarden.items()}
    for name, table in tweaks.waarden.items():
        waarden.setdefault(name, {}).update(table)
    return Profile(tweaks.vertrouwelijkheidaanduiding or profile.vertrouwelijkheidaanduiding,
                   defaults, overrides, waarden)


class Mappings:
    """Every mapping file together, checked; what the ZGW adapter asks of them."""

    def __init__(self, sources: list[MappingSource]) -> None:
        self.sources = sorted(sources, key=lambda s: s.name)
        self.gemeenten: dict[str, str] = {}
        self.zaaktypen: dict[str, ZaaktypeMapping] = {}
        self.zenders: dict[str, Tweaks] = {}
        general = Profile()
        for s in self.sources:
            self.gemeenten.update(s.model.gemeenten)
            self.zaaktypen.update(s.model.zaaktypen)
            self.zenders.update(s.model.zenders)
            general = _merge(general, s.model)
        self.general = general

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sources]

    def zaaktype(self, code: str | None) -> ZaaktypeMapping:
        """The mapping of a ZDS zaaktype code (an empty one when the code is not mapped)."""
        return self.zaaktypen.get(code or "") or ZaaktypeMapping()

    def catalogi_zaaktype(self, code: str) -> str:
        """identificatie (or URL) of the Catalogi zaaktype for a ZDS code."""
        return self.zaaktype(code).zaaktype or code

    def zds_zaaktype(self, identificatie: str, url: str | None = None) -> str:
        """The ZDS code of a Catalogi zaaktype (reverse of :meth:`catalogi_zaaktype`)."""
        for code, zt in self.zaaktypen.items():
            if zt.zaaktype in (identificatie, url):
                return code
        return identificatie

    def rsin(self, gemeentecode: str | None) -> str | None:
        return self.gemeenten.get(gemeentecode or "")

    def profile(self, zaaktype: str | None, zender: str | None) -> Profile:
        profile = self.general
        if zaaktype in self.zaaktypen:
            profile = _merge(profile, self.zaaktypen[zaaktype])
        if zender in self.zenders:
            profile = _merge(profile, self.zenders[zender])
        return profile


class MappingSet:
    """The mappings in use; replaced as a whole on a hot reload."""

    def __init__(self, mappings: Mappings | None = None) -> None:
        self._current = mappings or Mappings([])
        self._lock = threading.Lock()

    @property
    def current(self) -> Mappings:
        return self._current

    def replace(self, mappings: Mappings) -> None:
        with self._lock:
            self._current = mappings

    def only(self, names: list[str]) -> MappingView:
        """The mappings of these files alone (a target that uses part of config/mappings/)."""
        return MappingView(self, names)


class MappingView:
    """A selection of the files of a :class:`MappingSet`, following its hot reloads."""

    def __init__(self, base: MappingSet, names: list[str]) -> None:
        self.base = base
        self.names = set(names)
        self._seen: Mappings | None = None
        self._view = Mappings([])

    @property
    def current(self) -> Mappings:
        current = self.base.current
        if current is not self._seen:
            self._view = Mappings([s for s in current.sources if s.name in self.names])
            self._seen = current
        return self._view
