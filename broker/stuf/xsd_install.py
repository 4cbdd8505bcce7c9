"""Installing the official StUF schema set from a directory or ZIP, checked against a manifest.

The schema files are never committed. ``xsd/MANIFEST.sha256`` (committed) lists every file of the
set with its sha256; ``stuf-broker xsd install`` copies them into ``xsd/installed/`` (git-ignored)
after checking each one, and the broker checks the installed copy again at start-up (hashing the
files only when their sizes or times differ from those of the last check: broker.stuf.xsd_cache).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from broker.errors import SchemaError
from broker.stuf import xsd_cache

if TYPE_CHECKING:
    from broker.stuf.schemas import Served

ANCHOR = "0301/stuf0301.xsd"  # a file every official set has; used to find the set inside a ZIP


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    sha256: str


def read_manifest(manifest: Path) -> list[ManifestEntry]:
    entries = []
    for lineno, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, path = line.partition("  ")
        if len(digest) != 64 or not path:
            raise SchemaError(f"{manifest}:{lineno}: not a 'sha256  path' line")
        entries.append(ManifestEntry(path, digest))
    return entries


class _Source:
    """Read-only view over a directory or a ZIP holding the schema set (possibly in a subfolder)."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self._zip: zipfile.ZipFile | None = None
        if not location.exists():
            raise SchemaError(f"schema source {location} does not exist")
        if location.is_dir():
            hits = [p for p in location.rglob("stuf0301.xsd") if p.parent.name == "0301"]
            hits = [h for h in hits if "variants" not in h.relative_to(location).parts]
            if not hits:
                raise SchemaError(f"no StUF schema set found in {location} (looked for {ANCHOR})")
            self._root = min(hits, key=lambda p: len(p.parts)).parent.parent
        elif zipfile.is_zipfile(location):
            self._zip = zipfile.ZipFile(location)
            names = [n for n in self._zip.namelist() if n.endswith(ANCHOR) and "variants/" not in n]
            if not names:
                raise SchemaError(f"no StUF schema set found in {location} (looked for {ANCHOR})")
            self._prefix = min(names, key=len)[: -len(ANCHOR)]
        else:
            raise SchemaError(f"{location} is neither a directory nor a ZIP file")

    def read(self, rel: str) -> bytes | None:
        if self._zip is not None:
            try:
                return self._zip.read(self._prefix + rel)
            except KeyError:
                return None
        p = self._root / PurePosixPath(rel)
        return p.read_bytes() if p.is_file() else None


def check(read: Callable[[str], bytes | None], entries: list[ManifestEntry]) -> tuple[list[str], list[str]]:
    """Return (missing, altered) paths for a reader ``read(rel) -> bytes | None``."""
    missing, altered = [], []
    for e in entries:
        data = read(e.path)
        if data is None:
            missing.append(e.path)
        elif hashlib.sha256(data).hexdigest() != e.sha256:
            altered.append(e.path)
    return missing, altered


def _problem_text(source: object, missing: list[str], altered: list[str]) -> str:
    lines = [f"the schema set at {source} does not match the manifest:"]
    for label, paths in (("missing", missing), ("altered", altered)):
        for p in paths[:20]:
            lines.append(f"  {label}: {p}")
        if len(paths) > 20:
            lines.append(f"  ... and {len(paths) - 20} more {label}")
    return "\n".join(lines)


def install(source: Path, target: Path, manifest: Path, served: Served | None = None) -> int:
    """Copy the manifest's files from ``source`` to ``target``; return how many were installed.
    ``served``: what the broker compiles of them (broker.stuf.schemas.SchemaSet)."""
    entries = read_manifest(manifest)
    src = _Source(source)
    missing, altered = check(src.read, entries)
    if missing or altered:
        raise SchemaError(_problem_text(source, missing, altered))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".xsd-install-", dir=target.parent))
    try:
        for e in entries:
            dest = staging / PurePosixPath(e.path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(src.read(e.path) or b"")
        if target.exists():
            old = target.with_name(target.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    prepare(target, manifest, entries, served)
    return len(entries)


def prepare(target: Path, manifest: Path, entries: list[ManifestEntry], served: Served | None = None) -> None:
    """Derive once what every start-up would otherwise derive from the freshly installed (and checked)
    set, into its cache file (broker.stuf.xsd_cache): the files' sizes and times, the date elements,
    and that the served schemas compile with this lxml."""
    from broker.stuf.schemas import SchemaSet  # compiling needs the schema machinery, installing does not

    seen = xsd_cache.stamp(target, [e.path for e in entries])
    if seen is not None:
        xsd_cache.update(target, manifest, files=seen)
    SchemaSet(target, manifest=manifest, served=served)


def verify_installed(target: Path, manifest: Path) -> None:
    """Raise SchemaError naming what is missing or altered in the installed set."""
    if not target.is_dir():
        raise SchemaError(
            f"the StUF schemas are not installed in {target}; run `stuf-broker xsd install`"
        )
    entries = read_manifest(manifest)
    # unchanged since their hashes were last checked (size and time, see broker.stuf.xsd_cache)
    seen = xsd_cache.stamp(target, [e.path for e in entries])
    if seen is not None and xsd_cache.read(target, manifest).get("files") == seen:
        return

    def read(rel: str) -> bytes | None:
        p = target / PurePosixPath(rel)
        return p.read_bytes() if p.is_file() else None

    missing, altered = check(read, entries)
    if missing or altered:
        raise SchemaError(
            _problem_text(target, missing, altered)
            + "\nreinstall with `stuf-broker xsd install [--from DIR_OR_ZIP]`"
        )
    if seen is not None:
        xsd_cache.update(target, manifest, files=seen)
