"""What start-up derives from the installed schemas, kept in a small file beside them.

Every process of the broker used to hash all schema files, scan every XSD for date elements and
compile the served schemas before it could answer. ``xsd/installed/.broker-cache.json`` (written by
``stuf-broker xsd install``, and at start-up when it is missing or stale; never committed, as the
folder it lives in) keeps what does not change while the installed set and lxml stay the same:

- ``files``: size and modification time of every file the manifest lists, as seen right after the
  files were last checked against their sha256. When all still match, ``verify_installed`` does not
  hash them again (a file rewritten with the same size and time is not noticed; reinstalling or
  touching a file makes the next start-up hash everything again);
- ``dates``: the date and moment elements of the schemas (broker.stuf.datums);
- ``compiled``: the lxml and libxml2 versions with which the served schemas (named) compiled. ``serve``
  checks the configuration in its supervising process; with this entry it leaves the compiling to
  the worker processes, which compile anyway.

Beside it, ``.broker-cache-<schema>.zip`` keeps each served schema set as the broker compiles it (its
files' texts with what the broker does not serve left out, see broker.stuf.schema_pruning), so that a
worker reads them instead of deriving them again.

The files are bound to the manifest they were made for (its sha256): another manifest makes it stale,
and everything is derived again. Writing it is best effort: a read-only installation works, only
without the shortcut.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

CACHE_NAME = ".broker-cache.json"
FORMAT = 1


def manifest_digest(manifest: Path) -> str:
    return hashlib.sha256(manifest.read_bytes()).hexdigest()


def lxml_versions() -> list[str]:
    """The lxml and libxml2 this process compiles with (a compile attested by others may not hold)."""
    return [".".join(map(str, etree.LXML_VERSION)), ".".join(map(str, etree.LIBXML_VERSION))]


def read(xsd_dir: Path, manifest: Path) -> dict[str, Any]:
    """The cache's entries for this manifest, or an empty dict when absent, unreadable or stale."""
    try:
        data = json.loads((xsd_dir / CACHE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("manifest") != manifest_digest(manifest):
        return {}
    return data


def update(xsd_dir: Path, manifest: Path, **entries: Any) -> bool:
    """Merge ``entries`` into the cache (replaced atomically); False when it could not be written."""
    data = read(xsd_dir, manifest)
    data.update(entries, format=FORMAT, manifest=manifest_digest(manifest))
    return _replace(xsd_dir / CACHE_NAME, lambda f: f.write(json.dumps(data, sort_keys=True).encode()))


def _replace(target: Path, write: Callable[[BinaryIO], object]) -> bool:
    """Write ``target`` anew through ``write`` and put it in place atomically; False when it could not be
    written (a read-only installation)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".broker-cache-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.chmod(tmp, 0o644)  # readable like the schemas themselves (mkstemp makes it private)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True


def stamp(xsd_dir: Path, paths: list[str]) -> dict[str, list[int]] | None:
    """Size and modification time (ns) of each file, or None when one is missing."""
    found: dict[str, list[int]] = {}
    for rel in paths:
        try:
            st = (xsd_dir / rel).stat()
        except OSError:
            return None
        found[rel] = [st.st_size, st.st_mtime_ns]
    return found


def _set_path(xsd_dir: Path, name: str) -> Path:
    return xsd_dir / f".broker-cache-{name}.zip"


def read_set(xsd_dir: Path, manifest: Path, name: str, key: str) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    """A prepared schema set kept under ``name`` (its description and its files' texts by path), or
    None when absent, unreadable, or made for another manifest or ``key``."""
    try:
        with zipfile.ZipFile(_set_path(xsd_dir, name)) as z:
            meta = json.loads(z.read("set.json"))
            if meta.get("manifest") != manifest_digest(manifest) or meta.get("key") != key:
                return None
            return meta, {rel: z.read(rel) for rel in meta["files"]}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def write_set(xsd_dir: Path, manifest: Path, name: str, key: str, meta: dict[str, Any],
              texts: dict[str, bytes]) -> bool:
    """Keep a prepared schema set under ``name`` (replaced atomically); False when it could not be written."""
    meta = dict(meta, manifest=manifest_digest(manifest), key=key, files=sorted(texts))

    def write(f: BinaryIO) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
            z.writestr("set.json", json.dumps(meta, sort_keys=True))
            for rel, text in texts.items():
                z.writestr(rel, text)

    return _replace(_set_path(xsd_dir, name), write)
