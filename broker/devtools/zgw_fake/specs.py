"""Locate, load and cache the official ZGW OpenAPI documents.

The documents live outside the repository (``shared/openapi`` next to the
checkout) and are only read here, never copied.  Parsing and checking the
four specs takes roughly two seconds, so the result is kept in a
module-level cache: every ``ZGWFake`` in a test session shares it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.deserializing.media_types.util import json_loads

from broker.config import PROJECT_ROOT

from .formats import EXTRA_FORMATS
from .spec_fixes import apply_fixes

#: Default location: ``<repo>/../shared/openapi`` (beside the checkout, like the schemas' ``../shared/xsd``).
DEFAULT_SPEC_DIR = PROJECT_ROOT.parent / "shared" / "openapi"

#: Environment variable that overrides the default location.
SPEC_DIR_ENV = "ZGW_OPENAPI_DIR"

#: The four APIs served by the fake, in the order they are loaded.
APIS = ("zaken", "catalogi", "documenten", "besluiten")

#: Spec file (relative to the spec dir) per API and version.
SPEC_FILES: dict[str, dict[str, str]] = {
    "zaken": {"1.5.1": "zgw/zaken-1.5.1.yaml"},
    "catalogi": {"1.3.1": "zgw/catalogi-1.3.1.yaml"},
    "documenten": {"1.4.2": "zgw/documenten-1.4.2.yaml", "1.5.0": "zgw/documenten-1.5.0.yaml"},
    "besluiten": {"1.0.2": "zgw/besluiten-1.0.2.yaml"},
}

#: Open Zaak's experimental extensions the fake serves, from Open Zaak's own published spec of the
#: API: path -> file. Only these paths (and the schemas they use) are taken from those files.
EXTENSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "zaken": ("zgw/open-zaak/zaken.yaml", ("/zaaknummer_reserveren",)),
    "documenten": ("zgw/open-zaak/documenten.yaml", ("/documentnummer_reserveren",)),
}

DEFAULT_VERSIONS: dict[str, str] = {
    "zaken": "1.5.1",
    "catalogi": "1.3.1",
    "documenten": "1.4.2",
    "besluiten": "1.0.2",
}

try:  # the C loader is about five times faster on these 500 kB files
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _YamlLoader = yaml.SafeLoader


def base_path(api: str) -> str:
    """Path prefix under which an API is served, as in Open Zaak."""
    return f"/{api}/api/v1"


@dataclass(frozen=True)
class LoadedSpec:
    """One parsed spec: the raw (fixed) document and its openapi-core app."""

    api: str
    version: str
    path: Path
    document: dict[str, Any]
    openapi: OpenAPI
    load_seconds: float

    @property
    def info_version(self) -> str:
        return str(self.document["info"]["version"])

    def schema(self, name: str) -> dict[str, Any]:
        """A component schema of the (fixed) document, e.g. ``schema("Zaak")``."""
        return self.document["components"]["schemas"][name]


@dataclass(frozen=True)
class SpecSet:
    """The specs of the four APIs used by one fake."""

    spec_dir: Path
    specs: dict[str, LoadedSpec]
    load_seconds: float

    def __getitem__(self, api: str) -> LoadedSpec:
        return self.specs[api]


_cache: dict[tuple[Path, str, str], LoadedSpec] = {}
_cache_lock = threading.Lock()


def resolve_spec_dir(spec_dir: str | os.PathLike[str] | None = None) -> Path:
    """The spec directory: argument, else ``$ZGW_OPENAPI_DIR``, else the default."""
    if spec_dir is None:
        spec_dir = os.environ.get(SPEC_DIR_ENV) or DEFAULT_SPEC_DIR
    path = Path(spec_dir).resolve()
    if not (path / "zgw").is_dir():
        raise FileNotFoundError(
            f"no ZGW specs under {path} (expected {path / 'zgw'}); "
            f"pass spec_dir= or set {SPEC_DIR_ENV}"
        )
    return path


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        data = yaml.load(handle, Loader=_YamlLoader)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not an OpenAPI document")
    return data


def _load_one(spec_dir: Path, api: str, version: str) -> LoadedSpec:
    try:
        relative = SPEC_FILES[api][version]
    except KeyError:
        known = ", ".join(sorted(SPEC_FILES.get(api, {})))
        raise ValueError(f"no {api} spec version {version!r} (known: {known})") from None
    path = spec_dir / relative
    started = time.perf_counter()
    document = apply_fixes(api, _read_yaml(path), base_path(api))
    # OpenAPI() also checks the (fixed) document with openapi-spec-validator.
    config = Config(
        extra_format_validators=EXTRA_FORMATS,
        # the error bodies (Fout/ValidatieFout) are application/problem+json
        extra_media_type_deserializers={"application/problem+json": json_loads},
    )
    app = OpenAPI.from_dict(document, config=config, base_uri=path.as_uri())
    return LoadedSpec(
        api=api,
        version=version,
        path=path,
        document=document,
        openapi=app,
        load_seconds=time.perf_counter() - started,
    )


def _local_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            yield ref
        for value in node.values():
            yield from _local_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _local_refs(value)


def _extract(document: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """A document with only ``paths`` and the components they refer to (transitively), verbatim."""
    out: dict[str, Any] = {
        "openapi": document["openapi"],
        "info": {**document["info"], "title": document["info"]["title"] + " (Open Zaak extensions)"},
        "paths": {p: document["paths"][p] for p in paths},
        "components": {"securitySchemes": document["components"].get("securitySchemes", {})},
    }
    if "security" in document:
        out["security"] = document["security"]
    pending = list(_local_refs(out["paths"]))
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        target = document["components"][section][name]
        out["components"].setdefault(section, {})[name] = target
        pending.extend(_local_refs(target))
    return out


def load_extension(spec_dir: str | os.PathLike[str] | None, api: str) -> LoadedSpec | None:
    """Open Zaak's extension endpoints of ``api`` as a spec of their own (None when it has none)."""
    if api not in EXTENSIONS:
        return None
    directory = resolve_spec_dir(spec_dir)
    relative, paths = EXTENSIONS[api]
    key = (directory, api, "open-zaak")
    with _cache_lock:
        if key not in _cache:
            path = directory / relative
            started = time.perf_counter()
            document = apply_fixes(api, _extract(_read_yaml(path), paths), base_path(api))
            app = OpenAPI.from_dict(document, config=Config(
                extra_format_validators=EXTRA_FORMATS,
                extra_media_type_deserializers={"application/problem+json": json_loads}),
                base_uri=path.as_uri())
            _cache[key] = LoadedSpec(api, "open-zaak", path, document, app, time.perf_counter() - started)
        return _cache[key]


#: the Notificaties API (what Open Notificaties implements), served beside the four
NOTIFICATIES_FILE = "zgw/notificaties-1.0.0.yaml"


def load_notificaties(spec_dir: str | os.PathLike[str] | None = None) -> LoadedSpec:
    """The Notificaties API 1.0.0 spec (parsed once per process)."""
    directory = resolve_spec_dir(spec_dir)
    key = (directory, "notificaties", "1.0.0")
    with _cache_lock:
        if key not in _cache:
            path = directory / NOTIFICATIES_FILE
            started = time.perf_counter()
            document = apply_fixes("notificaties", _read_yaml(path), base_path("notificaties"))
            app = OpenAPI.from_dict(document, config=Config(
                extra_format_validators=EXTRA_FORMATS,
                extra_media_type_deserializers={"application/problem+json": json_loads}),
                base_uri=path.as_uri())
            _cache[key] = LoadedSpec("notificaties", "1.0.0", path, document, app, time.perf_counter() - started)
        return _cache[key]


def load_specs(
    spec_dir: str | os.PathLike[str] | None = None,
    versions: dict[str, str] | None = None,
) -> SpecSet:
    """The specs of the four APIs; each file is parsed once per process.

    ``versions`` overrides :data:`DEFAULT_VERSIONS` per API, e.g.
    ``{"documenten": "1.5.0"}``.  ``SpecSet.load_seconds`` is the time this
    call spent parsing (0 when everything came from the cache).
    """
    directory = resolve_spec_dir(spec_dir)
    chosen = dict(DEFAULT_VERSIONS)
    chosen.update(versions or {})
    started = time.perf_counter()
    specs: dict[str, LoadedSpec] = {}
    with _cache_lock:
        for api in APIS:
            key = (directory, api, chosen[api])
            if key not in _cache:
                _cache[key] = _load_one(directory, api, chosen[api])
            specs[api] = _cache[key]
    return SpecSet(directory, specs, time.perf_counter() - started)


def clear_cache() -> None:
    """Forget all parsed specs (only useful to measure loading time)."""
    with _cache_lock:
        _cache.clear()
