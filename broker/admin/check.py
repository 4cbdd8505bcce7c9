"""``stuf-broker check``: every configuration file validated at once, without a database or network.

broker.yaml, the zaaktypecatalogus, applications.yaml, the mapping files and routes.yaml (its targets'
options too) are each read with the loader the broker itself uses, so ``check`` refuses exactly what
``serve`` would refuse; every problem comes back as ``file:line: what (did you mean ...?)``. A YAML file
in the configuration directory that the broker does not read is reported too (a ``route.yaml`` would
otherwise be ignored in silence).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.adapters import registry
from broker.adapters.options import parse
from broker.config import find_config_dir, load_settings
from broker.errors import ConfigError, ConfigProblem
from broker.mappings.applications import FILENAME as APPLICATIONS
from broker.mappings.applications import parse_applications
from broker.mappings.catalogus import FILENAME as CATALOGUS
from broker.mappings.store import MAPPINGS_DIR, build, editable, read_files
from broker.routing.config import FILENAME as ROUTES
from broker.routing.config import RoutesFile, load_routes
from broker.yamlfile import load_model

BROKER_YAML = "broker.yaml"
#: every file the broker reads from its configuration directory (besides mappings/*.yaml)
KNOWN_FILES = (BROKER_YAML, CATALOGUS, APPLICATIONS, ROUTES)


@dataclass
class Report:
    config_dir: Path
    problems: list[ConfigProblem] = field(default_factory=list)
    #: what was checked, in words (only meaningful without problems)
    summary: list[str] = field(default_factory=list)
    routes: RoutesFile | None = None


def check(config_dir: Path | None = None, env: dict[str, str] | None = None) -> Report:
    report = Report(find_config_dir(config_dir, env))
    try:
        load_settings(report.config_dir, env=env)
        report.summary.append(BROKER_YAML)
    except ConfigError as exc:
        report.problems += exc.problems
    if not report.config_dir.is_dir():
        report.problems.append(ConfigProblem(str(report.config_dir), None, "no such configuration directory"))
        return report
    report.problems += _unknown_files(report.config_dir)
    texts = read_files(report.config_dir)
    try:
        catalogus, mappings = build(texts, report.config_dir)
        report.summary.append(f"{CATALOGUS} ({len(catalogus.zaaktypen)} zaaktypen)" if CATALOGUS in texts
                              else f"{CATALOGUS} (absent: no zaaktypen)")
        mapped = ", ".join(sorted(mappings.zaaktypen)) or "none"
        report.summary.append(f"{len(mappings.sources)} mapping file(s) (zaaktypen: {mapped})")
    except ConfigError as exc:
        report.problems += exc.problems
    try:  # on its own: a problem in the catalogue or a mapping does not hide those of applications.yaml
        if APPLICATIONS in texts:
            apps = parse_applications(texts[APPLICATIONS], str(report.config_dir / APPLICATIONS))
            report.summary.append(f"{APPLICATIONS} ({len(apps.applications)} applications)")
        else:
            report.summary.append(f"{APPLICATIONS} (absent: loopback callers only)")
    except ConfigError as exc:
        report.problems += exc.problems
    report.problems += _routes(report)
    return report


def _routes(report: Report) -> list[ConfigProblem]:
    adapters = sorted(registry.available())
    where = str(report.config_dir / ROUTES)
    problems: list[ConfigProblem] = []
    try:
        routes = load_routes(report.config_dir, adapters)
        report.routes = routes
    except ConfigError as exc:  # the targets' options are checked all the same, when the file can be read
        problems += exc.problems
        try:
            routes, lines = load_model(report.config_dir / ROUTES, RoutesFile, default={})
        except ConfigError:
            return problems
        routes._file, routes._lines = where, lines
    for name, target in routes.targets.items():
        if target.adapter in adapters:
            found = _options(name, target.adapter, target.options, where)
            if found:
                problems += routes.locate(ConfigError(found), name).problems
    if report.routes is None:
        return problems
    report.summary.append(f"{ROUTES} ({len(routes.targets)} target(s), {len(routes.routes)} route(s))"
                          if (report.config_dir / ROUTES).exists() else f"{ROUTES} (absent: all to the embedded zaaksysteem)")
    return problems


def _unknown_files(config_dir: Path) -> list[ConfigProblem]:
    problems = []
    for path in sorted(config_dir.glob("*.y*ml")):
        if path.name not in KNOWN_FILES:
            close = difflib.get_close_matches(path.name, KNOWN_FILES, n=1)
            problems.append(ConfigProblem(str(path), None, "not a file the broker reads; it reads "
                                          + ", ".join(KNOWN_FILES) + f" and {MAPPINGS_DIR}/*.yaml",
                                          close[0] if close else None))
    mappings = config_dir / MAPPINGS_DIR
    for path in sorted(mappings.iterdir()) if mappings.is_dir() else []:
        name = path.relative_to(config_dir).as_posix()
        if path.suffix in (".yaml", ".yml") and not editable(name):
            problems.append(ConfigProblem(str(path), None, "a mapping file's name is letters, digits, '.', '_' "
                                          "and '-' (at most 80), ending in .yaml; this one is not read"))
    return problems


def _options(name: str, alias: str, options: dict[str, Any], where: str) -> list[ConfigProblem]:
    """The problems of a target's options, without building it: nothing is connected or opened. A
    third-party factory that is not a :class:`broker.adapters.registry.Adapter` is not checked here."""
    factory = registry.available().get(alias)
    try:
        if isinstance(factory, registry.Adapter):
            parse(factory.options, name, options, where)
        elif alias == "zgw":
            from broker.adapters.zgw import adapter as zgw

            zgw.parse_options(name, options, where)
    except ConfigError as exc:
        return exc.problems
    return []
