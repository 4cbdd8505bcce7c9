"""Versions of the editable configuration, their history, and taking a new version into use.

Editable files: ``zaaktypecatalogus.yaml``, ``mappings/*.yaml`` and ``applications.yaml`` (the registry
of applications, broker.mappings.applications) in the configuration directory.
Once the database holds a file it is the source of truth:

- at start-up every file in the configuration directory that the database does not hold yet is
  imported as version 1 (author ``file``); a file edited while the broker was down is imported as a
  new version; a file older than the database's version (another host saved since) is rewritten. An
  invalid file refuses the start with ``file:line`` problems, like every other configuration file;
- :meth:`ConfigStore.save` (API, CLI, dashboard) validates the text together with the other files,
  refuses it with every problem (:class:`broker.errors.ConfigError`; the previous version stays in
  use), stores a new version with its author and comment, takes it into use in this process and
  writes the file back atomically so the configuration directory stays in step;
- :meth:`ConfigStore.refresh`, run every few seconds by each broker process (:class:`Refresher`),
  takes into use the versions other processes or hosts saved, and imports a file changed on disk as a
  new version when it is valid (when not, it is refused, logged, and the previous version stays);
- the catalogus and the mappings are rebuilt from all active texts at once and swapped in whole
  (:meth:`broker.mappings.catalogus.Catalogus.take_over`, :class:`MappingSet`), without a restart.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from broker.errors import ConfigError, ConfigProblem
from broker.mappings import mapping
from broker.mappings.applications import FILENAME as APPLICATIONS
from broker.mappings.applications import Applications, parse_applications
from broker.mappings.catalogus import FILENAME as CATALOGUS
from broker.mappings.catalogus import Catalogus, parse_catalogus
from broker.mappings.mapping import Mappings, MappingSet, MappingSource
from broker.mappings.tables import ConfigVersionRow
from broker.store.db import Database

log = structlog.get_logger("broker.config")

MAPPINGS_DIR = "mappings"
_MAPPING_NAME = re.compile(r"^mappings/[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.ya?ml$")
FILE_AUTHOR = "file"


@dataclass(frozen=True)
class ConfigVersion:
    name: str
    version: int
    text: str
    author: str
    created_at: datetime
    comment: str = ""
    sha256: str = ""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def editable(name: str) -> bool:
    return name in (CATALOGUS, APPLICATIONS) or bool(_MAPPING_NAME.match(name))


def _version(row: ConfigVersionRow) -> ConfigVersion:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return ConfigVersion(row.name, row.version, row.text, row.author, created, row.comment or "", row.sha256)


def read_files(config_dir: Path) -> dict[str, str]:
    """The editable files in a configuration directory: name -> text."""
    out = {}
    candidates = ([config_dir / CATALOGUS, config_dir / APPLICATIONS]
                  + sorted((config_dir / MAPPINGS_DIR).glob("*.y*ml")))
    for path in candidates:
        name = path.relative_to(config_dir).as_posix()
        if path.is_file() and editable(name):
            out[name] = path.read_text(encoding="utf-8")
    return out


def build(texts: dict[str, str], config_dir: Path) -> tuple[Catalogus, Mappings]:
    """The catalogus and the mappings from these texts (name -> text); ConfigError with every
    problem, each named ``<config_dir>/<name>:line``."""
    problems: list[ConfigProblem] = []
    catalogus = Catalogus([], str(config_dir / CATALOGUS))
    if CATALOGUS in texts:
        try:
            catalogus = parse_catalogus(texts[CATALOGUS], str(config_dir / CATALOGUS))
        except ConfigError as exc:
            problems += exc.problems
    if APPLICATIONS in texts:
        try:
            parse_applications(texts[APPLICATIONS], str(config_dir / APPLICATIONS))
        except ConfigError as exc:
            problems += exc.problems
    sources: list[MappingSource] = []
    for name in sorted(n for n in texts if n not in (CATALOGUS, APPLICATIONS)):
        try:
            sources.append(mapping.parse(texts[name], name, str(config_dir / name)))
        except ConfigError as exc:
            problems += exc.problems
    problems += mapping.check(sources, catalogus)
    if problems:
        raise ConfigError(problems)
    return catalogus, Mappings(sources)


class Previewing(Protocol):
    def run(self, message: bytes, mappings: Mappings, catalogus: Catalogus) -> dict: ...


class ConfigStore:
    """Versions of editable config files: ``mappings/*.yaml`` and ``zaaktypecatalogus.yaml``."""

    def __init__(self, db: Database, config_dir: Path) -> None:
        self.db = db
        self.config_dir = Path(config_dir)
        #: the live objects the broker's components hold; new versions are put in place in them
        self.catalogus = Catalogus([], str(self.config_dir / CATALOGUS))
        self.mappings = MappingSet()
        self.applications = Applications()
        #: name -> (version, text) in use in this process
        self._active: dict[str, tuple[int, str]] = {}
        #: name -> sha256 of the file as this process last read or wrote it
        self._file_seen: dict[str, str] = {}
        #: (name, version) saved elsewhere that do not validate in this process
        self._refused: set[tuple[str, int]] = set()
        #: file name -> every problem of the change that was refused (on disk or saved elsewhere), until a
        #: valid version of it is taken into use: the dashboard and ``stuf-broker check`` show them all
        self.refused: dict[str, list[ConfigProblem]] = {}
        self._lock = threading.RLock()
        #: set by the runtime so previews use the broker's own settings (broker.admin.preview)
        #: the administration's preview (broker.admin.preview.Previewer), set by the composition root
        self.previewer: Previewing | None = None
        self._start()

    # -- reading -------------------------------------------------------------------------------
    def names(self) -> list[str]:
        with self.db.read() as s:
            found = set(s.execute(select(ConfigVersionRow.name).distinct()).scalars())
        return sorted(found, key=lambda n: (n != CATALOGUS, n))

    def active(self, name: str) -> ConfigVersion:
        with self.db.read() as s:
            row = s.execute(select(ConfigVersionRow).where(ConfigVersionRow.name == name)
                            .order_by(ConfigVersionRow.version.desc()).limit(1)).scalar_one_or_none()
        if row is None:
            raise KeyError(name)
        return _version(row)

    def history(self, name: str) -> list[ConfigVersion]:
        with self.db.read() as s:
            rows = s.execute(select(ConfigVersionRow).where(ConfigVersionRow.name == name)
                             .order_by(ConfigVersionRow.version.desc())).scalars().all()
        return [_version(r) for r in rows]

    def get(self, name: str, version: int) -> ConfigVersion:
        with self.db.read() as s:
            row = s.execute(select(ConfigVersionRow).where(
                ConfigVersionRow.name == name, ConfigVersionRow.version == version)).scalar_one_or_none()
        if row is None:
            raise KeyError(f"{name} version {version}")
        return _version(row)

    def diff(self, name: str, old: int, new: int) -> str:
        a, b = self.get(name, old), self.get(name, new)
        return "".join(difflib.unified_diff(a.text.splitlines(keepends=True), b.text.splitlines(keepends=True),
                                            fromfile=f"{name} (version {old})", tofile=f"{name} (version {new})"))

    # -- validating ----------------------------------------------------------------------------
    def display(self, name: str) -> str:
        return str(self.config_dir / name)

    def validate(self, name: str, text: str) -> list[ConfigProblem]:
        """Every problem of ``text`` as the new version of ``name``, checked with the other files."""
        if not editable(name):
            return [ConfigProblem(name, None, "not an editable configuration file; editable are "
                                  f"{CATALOGUS}, {APPLICATIONS} and {MAPPINGS_DIR}/<name>.yaml")]
        with self._lock:
            texts = {n: t for n, (_, t) in self._active.items()}
        texts[name] = text
        try:
            self._build(texts)
        except ConfigError as exc:
            return exc.problems
        return []

    def _build(self, texts: dict[str, str]) -> tuple[Catalogus, Mappings]:
        return build(texts, self.config_dir)

    # -- changing ------------------------------------------------------------------------------
    def save(self, name: str, text: str, author: str, comment: str = "") -> ConfigVersion:
        """Store ``text`` as the new version of ``name`` and take it into use; ConfigError when it is
        invalid (nothing changes). Saving the text that is in use already changes nothing."""
        with self._lock:
            problems = self.validate(name, text)
            if problems:
                raise ConfigError(problems)
            version = self._insert(name, text, author, comment)
            self._take_into_use({name: (version.version, text)})
            self._write_file(name, text)
        log.info("configuration version saved", file=name, version=version.version, author=author)
        return version

    def rollback(self, name: str, version: int, author: str) -> ConfigVersion:
        """A new version of ``name`` holding the text of ``version``."""
        old = self.get(name, version)
        return self.save(name, old.text, author, comment=f"rollback to version {version}")

    def _insert(self, name: str, text: str, author: str, comment: str) -> ConfigVersion:
        sha = _sha(text)
        for _ in range(5):
            try:
                with self.db.write() as s:
                    latest = s.execute(select(ConfigVersionRow).where(ConfigVersionRow.name == name)
                                       .order_by(ConfigVersionRow.version.desc()).limit(1)).scalar_one_or_none()
                    if latest is not None and latest.sha256 == sha:
                        return _version(latest)
                    row = ConfigVersionRow(name=name, version=(latest.version if latest else 0) + 1, text=text,
                                           sha256=sha, author=author[:100], comment=(comment or "")[:500],
                                           created_at=_now())
                    s.add(row)
                    s.flush()
                    return _version(row)
            except IntegrityError:  # another process stored a version of this file at the same moment
                continue
        raise RuntimeError(f"could not store a new version of {name}")

    def _take_into_use(self, changed: dict[str, tuple[int, str]]) -> None:
        """Rebuild from the active texts with ``changed`` in place and swap the live objects."""
        texts = {n: t for n, (_, t) in self._active.items()}
        texts.update({n: t for n, (_, t) in changed.items()})
        catalogus, mappings = self._build(texts)
        self.catalogus.take_over(catalogus)
        self.mappings.replace(mappings)
        if APPLICATIONS in texts:
            self.applications.take_over(parse_applications(texts[APPLICATIONS], str(self.config_dir / APPLICATIONS)))
        self._active.update(changed)
        for name in changed:
            self.refused.pop(name, None)

    def refuse_file(self, name: str, problems: list[ConfigProblem]) -> None:
        """A refused change of a file this store does not version (routes.yaml), shown with the others."""
        self.refused[name] = list(problems)

    def refuse(self, name: str, problems: list[ConfigProblem], why: str) -> None:
        """Keep and log every problem of a refused change of ``name`` (the previous version stays in use)."""
        self.refused[name] = list(problems)
        log.error(why, file=name, problems=[str(p) for p in problems])

    def _write_file(self, name: str, text: str) -> None:
        """Write the file atomically (a temporary file in the same directory, then rename)."""
        path = self.config_dir / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:  # a read-only configuration directory: the database still holds it
            log.warning("configuration file could not be written", file=name, error=str(exc))
            return
        self._file_seen[name] = _sha(text)

    # -- start-up and refresh ------------------------------------------------------------------
    def _files(self) -> dict[str, str]:
        return read_files(self.config_dir)

    def _latest(self) -> dict[str, ConfigVersion]:
        with self.db.read() as s:
            newest = (select(ConfigVersionRow.name, func.max(ConfigVersionRow.version).label("v"))
                      .group_by(ConfigVersionRow.name).subquery())
            rows = s.execute(select(ConfigVersionRow).join(
                newest, (ConfigVersionRow.name == newest.c.name) & (ConfigVersionRow.version == newest.c.v)
            )).scalars().all()
        return {r.name: _version(r) for r in rows}

    def _known_shas(self, name: str) -> set[str]:
        with self.db.read() as s:
            return set(s.execute(select(ConfigVersionRow.sha256).where(ConfigVersionRow.name == name)).scalars())

    def _start(self) -> None:
        files = self._files()
        latest = self._latest()
        texts = {n: v.text for n, v in latest.items()}
        imports: dict[str, str] = {}
        stale: list[str] = []
        for name, text in files.items():
            known = latest.get(name)
            if known is None or (known.sha256 != _sha(text) and _sha(text) not in self._known_shas(name)):
                imports[name] = text  # new, or edited on disk while the broker was down
                texts[name] = text
            elif known.sha256 != _sha(text):
                stale.append(name)  # an older version: another host saved since
        self._build(texts)  # refuses the start with every problem, file:line
        with self._lock:
            active = {n: (v.version, v.text) for n, v in latest.items()}
            for name, text in imports.items():
                first = name not in latest
                version = self._insert(name, text, FILE_AUTHOR,
                                       "imported from the configuration directory" if first else "changed on disk")
                active[name] = (version.version, version.text)
            self._active = {}
            self._take_into_use(active)
            for name, text in files.items():
                self._file_seen[name] = _sha(text)
            for name in stale + [n for n in latest if n not in files]:
                self._write_file(name, self._active[name][1])

    def refresh(self) -> bool:
        """Take into use what changed since the last look: versions saved by other processes or hosts,
        and files changed on disk (imported when valid). True when something changed."""
        with self._lock:
            changed = False
            latest = self._latest()
            newer = {n: (v.version, v.text) for n, v in latest.items()
                     if (n not in self._active or self._active[n][0] < v.version) and (n, v.version) not in self._refused}
            if newer:
                try:
                    self._take_into_use(newer)
                    changed = True
                    log.info("configuration versions taken into use", files=sorted(newer))
                except ConfigError as exc:  # said once per version, not at every refresh
                    self._refused.update((n, v) for n, (v, _) in newer.items())
                    for name in sorted(newer):
                        self.refuse(name, exc.problems,
                                    "a stored configuration version is invalid here; the previous one stays in use")
                    return False
                files = self._files()
                for name, (_, text) in newer.items():
                    seen = self._file_seen.get(name)
                    on_disk = files.get(name)
                    if on_disk is None or _sha(on_disk) == seen:  # not edited here since: follow the database
                        self._write_file(name, text)
            for name, text in self._files().items():
                sha = _sha(text)
                if sha == self._file_seen.get(name):
                    continue
                self._file_seen[name] = sha
                if name in self._active and sha == _sha(self._active[name][1]):
                    self.refused.pop(name, None)  # put back as it was
                    continue
                problems = self.validate(name, text)
                if problems:
                    self.refuse(name, problems, "changed configuration file refused; the previous version stays in use")
                    continue
                version = self._insert(name, text, FILE_AUTHOR, "changed on disk")
                self._take_into_use({name: (version.version, text)})
                log.info("changed configuration file taken into use", file=name, version=version.version)
                changed = True
            return changed

    # -- preview -------------------------------------------------------------------------------
    def preview(self, message: bytes, name: str | None = None, text: str | None = None) -> dict:
        """The case model of ``message`` and the ZGW API requests it would cause, without sending them;
        with ``name``/``text``: as if that unsaved text were the version of ``name`` in use."""
        if self.previewer is None:
            raise RuntimeError("no previewer: the composition root sets ConfigStore.previewer")
        with self._lock:
            texts = {n: t for n, (_, t) in self._active.items()}
        if name is not None and text is not None:
            problems = self.validate(name, text)
            if problems:
                raise ConfigError(problems)
            texts[name] = text
        catalogus, mappings = self._build(texts)
        return self.previewer.run(message, mappings, catalogus)


class Refresher:
    """Calls :meth:`ConfigStore.refresh` every ``interval`` seconds in a daemon thread."""

    def __init__(self, store: ConfigStore, interval: float = 5.0,
                 also: list[Callable[[], object]] | None = None) -> None:
        self.store = store
        self.interval = interval
        #: further configuration to look at on every tick (routes.yaml: broker.routing.reload)
        self.also = list(also or [])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="config-refresh", daemon=True)

    def start(self) -> Refresher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for refresh in (self.store.refresh, *self.also):
                try:
                    refresh()
                except Exception:  # a failed refresh is retried at the next tick
                    log.exception("configuration refresh failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
