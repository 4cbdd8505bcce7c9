"""Compiling the official schemas in memory, and validating with them.

libxml2 honours only the first ``xs:import`` of a namespace, while the StUF koppelvlak schemas import
the same namespace from several files. The :class:`_HubResolver` works around that without touching
the files: every import of namespace N is pointed at one synthetic "hub" schema that includes all
files imported for N, so each namespace is loaded once and completely (see shared/xsd/SOURCE.md).
Nothing is fetched from the network; the resolver refuses any location outside the installed set.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from lxml import etree

from broker.errors import SchemaError, StufError
from broker.stuf import ns, xsd_cache
from broker.stuf.datums import FORMATS, DateChecks
from broker.stuf.schema_pruning import PRUNING_FORMAT, Served, prune

if TYPE_CHECKING:
    from lxml.etree._docloader import _InputDocument  # what a Resolver hands back (stubs only)

_XS_IMPORT = ns.q(ns.XS, "import")
_XS_INCLUDE = ns.q(ns.XS, "include")
_XS_REDEFINE = ns.q(ns.XS, "redefine")
_XS_ANNOTATION = ns.q(ns.XS, "annotation")
_HUB_DIR = "/__stuf_hub__/"


def _xsd_parser(*, lean: bool = False) -> etree.XMLParser:
    """``lean``: without blank text and comments (a cut-down set, whose line numbers say nothing anyway)."""
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, remove_blank_text=lean,
                           remove_comments=lean)


def _hub_url(namespace: str) -> str:
    return _HUB_DIR + hashlib.sha1(namespace.encode()).hexdigest()[:16] + ".xsd"


#: (tag, namespace of an import, the referenced file)
_Reference = tuple[str, str, Path]


class SchemaFiles:
    """Each schema file read once, however many top-level schemas use it: the files it references,
    and its text as the resolver hands it to libxml2 (imports pointed at their namespace's hub,
    includes at absolute paths). Shared by the compiles of one :class:`SchemaSet`."""

    def __init__(self) -> None:
        self._read: dict[str, tuple[list[_Reference], bytes]] = {}

    def get(self, path: Path) -> tuple[list[_Reference], bytes]:
        """``path`` resolved; parsed on first use (two threads may both parse it: same result)."""
        found = self._read.get(str(path))
        if found is None:
            found = self._read[str(path)] = self._parse(path)
        return found

    def known(self, url: str) -> bool:
        return url in self._read

    def combine(self, path: Path, tops: list[tuple[str, Path]]) -> None:
        """A top-level schema at ``path`` (not on disk) that imports each (namespace, top-level schema)."""
        imports = "".join(f'<xs:import namespace="{namespace}" schemaLocation="{_hub_url(namespace)}"/>'
                          for namespace, _ in tops)
        text = f'<xs:schema xmlns:xs="{ns.XS}" targetNamespace="urn:stuf-broker:combined">{imports}</xs:schema>'
        self._read[str(path)] = ([(_XS_IMPORT, namespace, top.resolve()) for namespace, top in tops], text.encode())

    @staticmethod
    def _parse(path: Path) -> tuple[list[_Reference], bytes]:
        root = etree.parse(str(path), _xsd_parser()).getroot()
        # the documentation is for people: libxml2 would keep it in memory with every compiled schema
        # (a fifth of the official files' bytes) and validation never reads it
        etree.strip_elements(root, _XS_ANNOTATION, with_tail=False)
        refs: list[_Reference] = []
        for el in root:
            if el.tag not in (_XS_IMPORT, _XS_INCLUDE, _XS_REDEFINE):
                continue
            loc = el.get("schemaLocation")
            if not loc:
                continue
            if "://" in loc:
                raise SchemaError(f"{path}: refusing remote schemaLocation {loc}")
            target = (path.parent / loc).resolve()
            namespace = el.get("namespace") or ""
            refs.append((str(el.tag), namespace, target))
            el.set("schemaLocation", _hub_url(namespace) if el.tag == _XS_IMPORT else str(target))
        return refs, etree.tostring(root)


def _collect(top: Path, files: SchemaFiles) -> tuple[set[Path], dict[str, list[Path]]]:
    """Walk the include/import graph from ``top``; return all files and the import targets per namespace."""
    seen: set[Path] = set()
    imports: dict[str, list[Path]] = {}
    stack = [top.resolve()]
    while stack:
        path = stack.pop()
        if path in seen:
            continue
        if not files.known(str(path)) and not path.is_file():
            raise SchemaError(f"schema file {path} is referenced but missing")
        seen.add(path)
        refs, _ = files.get(path)
        for tag, namespace, target in refs:
            if tag == _XS_IMPORT:
                bucket = imports.setdefault(namespace, [])
                if target not in bucket:
                    bucket.append(target)
            stack.append(target)
    return seen, imports


@dataclass
class PreparedSet:
    """One top-level schema's files as they are handed to libxml2: each file's text (imports pointed
    at their namespace's hub, includes at absolute paths; cut down to what is served, if asked) and
    the files imported per namespace, which the hubs include."""

    texts: dict[Path, bytes]
    imports: dict[str, list[Path]]

    def to_cache(self, root_dir: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
        rel = {path: path.relative_to(root_dir).as_posix() for path in self.texts}
        imports = {namespace: [rel[path] for path in paths] for namespace, paths in self.imports.items()}
        return {"imports": imports}, {rel[path]: text for path, text in self.texts.items()}

    @classmethod
    def from_cache(cls, root_dir: Path, meta: dict[str, Any], texts: dict[str, bytes]) -> PreparedSet:
        return cls({root_dir / rel: text for rel, text in texts.items()},
                   {namespace: [root_dir / rel for rel in paths] for namespace, paths in meta["imports"].items()})


def pruned_texts(texts: dict[Path, bytes], served: Served) -> dict[Path, bytes]:
    """The schema files of one set (path -> text), with what ``served`` cannot reach left out."""
    documents = {path: etree.fromstring(text, _xsd_parser(lean=True)) for path, text in texts.items()}
    prune(documents.values(), served)
    return {path: etree.tostring(doc) for path, doc in documents.items()}


def prepare_set(top: Path, root_dir: Path, files: SchemaFiles | None = None,
                served: Served | None = None) -> PreparedSet:
    """The files of ``top``'s schema set (all inside ``root_dir``), read; with ``served``, without the
    components those messages cannot reach (broker.stuf.schema_pruning)."""
    files = files or SchemaFiles()
    seen, imports = _collect(top.resolve(), files)
    root_dir = root_dir.resolve()
    outside = sorted(str(path) for path in seen if path.suffix != ".xsd" or not path.is_relative_to(root_dir))
    if outside:
        raise SchemaError(f"refusing to load schema from {outside[0]}: not a schema of {root_dir}")
    texts = {path: files.get(path)[1] for path in seen}
    return PreparedSet(pruned_texts(texts, served) if served is not None else texts, imports)


class _HubResolver(etree.Resolver):
    def __init__(self, prepared: PreparedSet) -> None:
        super().__init__()
        self.texts = prepared.texts
        self.hubs: dict[str, tuple[str, list[Path]]] = {_hub_url(namespace): (namespace, targets)
                                                          for namespace, targets in prepared.imports.items()}

    def resolve(self, url: str | None, pubid: str | None, context: object) -> _InputDocument | None:
        if url is None:
            raise SchemaError("refusing to load a schema without a location")
        if url in self.hubs:
            namespace, targets = self.hubs[url]
            includes = "".join(f'<xs:include schemaLocation="{f}"/>' for f in targets)
            hub = (
                f'<xs:schema xmlns:xs="{ns.XS}" targetNamespace="{namespace}" '
                f'elementFormDefault="qualified">{includes}</xs:schema>'
            )
            return self.resolve_string(hub, context, base_url=url)
        # only the files of the set, as read when it was prepared
        text = self.texts.get(Path(url))
        if text is not None:
            return self.resolve_string(text, context, base_url=url)
        raise SchemaError(f"refusing to load schema from {url}")


def compile_prepared(top: Path, prepared: PreparedSet) -> etree.XMLSchema:
    """Compile one prepared top-level schema, in memory."""
    top = top.resolve()
    parser = _xsd_parser()
    parser.resolvers.add(_HubResolver(prepared))
    try:
        doc = etree.fromstring(prepared.texts[top], parser, base_url=str(top))
        return etree.XMLSchema(etree.ElementTree(doc))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        # name the file that is wrong, which is seldom ``top`` itself
        errors = [e for e in exc.error_log if e.level >= etree.ErrorLevels.ERROR and e.filename]
        where = f"{errors[-1].filename}:{errors[-1].line}: " if errors else ""
        raise SchemaError(f"{top} does not compile: {where}{exc}") from None


def compile_schema(top: Path, root_dir: Path, files: SchemaFiles | None = None) -> etree.XMLSchema:
    """Compile one top-level schema file of the installed set (``root_dir``), whole, in memory."""
    return compile_prepared(top, prepare_set(top, root_dir, files))


#: namespace of a body's root element -> top-level schema (relative to the installed set)
SERVED_SCHEMAS: dict[str, str] = {
    ns.ZDS: "zds0120/zds0120_msg_totaal.xsd",
    ns.ZKN: "variants/stuf-zkn-0310-patch28/zkn0310/zkn0310_msg_totaal.xsd",
    ns.BG: "variants/stuf-zkn-0310-patch28/bg0310/bg0310_msg_totaal.xsd",
    ns.STUF: "0301/stuf0301.xsd",
}
#: namespaces compiled into one schema with another's: StUF-BG's messages come from the same variant
#: (patch 28) as StUF-ZKN's, so one compile holds both, with one copy of the StUF, GML and BG basics
#: they share (6 MB less per process than two compiles)
COMPILED_WITH: dict[str, str] = {ns.BG: ns.ZKN}


def _group(namespace: str) -> list[str]:
    """The served namespaces compiled together with ``namespace`` (itself included), in order."""
    leader = COMPILED_WITH.get(namespace, namespace)
    return [n for n in SERVED_SCHEMAS if COMPILED_WITH.get(n, n) == leader]


def _compile_record(served: Served | None) -> list[str]:
    """What a successful compile is recorded as: with which lxml and libxml2, which top-level schemas,
    cut down to which served elements."""
    cut = [] if served is None else [f"{namespace}: {'*' if names is None else ' '.join(sorted(names))}"
                                     for namespace, names in sorted(served.items())]
    together = [" + ".join(_group(n)) for n in COMPILED_WITH]
    return [*xsd_cache.lxml_versions(), *SERVED_SCHEMAS.values(), *together, *cut]


@dataclass
class ValidationIssue:
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"regel {self.line}, {self.path}: {self.message}"


class SchemaSet:
    """The compiled schemas the broker serves, keyed by the namespace of the message element.

    ``manifest``: the manifest of the installed set, which binds its cache file (broker.stuf.xsd_cache):
    the date elements are read from there, and a successful compile is recorded there. ``eager=False``
    leaves each schema to be compiled when a message of its namespace first comes (the check ``serve``
    makes before it starts its workers); by default all are compiled here. ``served``: compile only what
    these message elements reach (broker.stuf.schema_pruning); by default the whole official set, as a
    tool that checks any StUF message needs it.
    """

    def __init__(self, root_dir: Path, *, manifest: Path | None = None, eager: bool = True,
                 served: Served | None = None) -> None:
        self.root_dir = root_dir
        self.manifest = manifest
        self.served = served
        self.schemas: dict[str, etree.XMLSchema] = {}
        self.compile_seconds: dict[str, float] = {}
        # a compiled schema validates in any thread, but keeps the errors of its last run in one
        # shared log: a validation and the reading of its errors happen under this lock
        self._lock = threading.Lock()
        self._compiling = threading.Lock()
        self._files = SchemaFiles()
        if eager:
            self._compile_all()
            if manifest is not None and not self.compiled_before(root_dir, manifest, served):
                xsd_cache.update(root_dir, manifest, compiled=_compile_record(served))
        self.dates = DateChecks(root_dir, manifest)

    @staticmethod
    def compiled_before(root_dir: Path, manifest: Path, served: Served | None = None) -> bool:
        """Whether the served schemas of this installed set (cut down to ``served``) compiled before
        with the lxml and libxml2 of this process."""
        return xsd_cache.read(root_dir, manifest).get("compiled") == _compile_record(served)

    def _compile(self, namespace: str) -> None:
        """Compile the schema of ``namespace``, and of the namespaces compiled with it."""
        group = _group(namespace)
        root = self.root_dir.resolve()
        tops = [root / SERVED_SCHEMAS[n] for n in group]
        name = "+".join(top.stem for top in tops)
        if len(tops) == 1:
            top = tops[0]
        else:  # a top-level schema of our own (in memory) that imports theirs
            top = tops[0].parent / f"__{name}__.xsd"
            self._files.combine(top, list(zip(group, tops, strict=True)))
        start = time.perf_counter()
        schema = compile_prepared(top, self._prepared(top, name))
        self.compile_seconds[name] = time.perf_counter() - start
        for n in group:
            self.schemas[n] = schema

    def _prepared(self, top: Path, name: str) -> PreparedSet:
        """The set of ``top`` as it is compiled: kept beside the installed set (broker.stuf.xsd_cache),
        because cutting it down to what is served costs more than compiling it."""
        root = self.root_dir.resolve()
        if self.manifest is None:
            return prepare_set(top, root, self._files, self.served)
        rel = top.relative_to(root).as_posix()
        key = json.dumps([PRUNING_FORMAT, str(root), rel, _compile_record(self.served)])
        cached = xsd_cache.read_set(root, self.manifest, name, key)
        if cached is not None:
            return PreparedSet.from_cache(root, *cached)
        prepared = prepare_set(top, root, self._files, self.served)
        xsd_cache.write_set(root, self.manifest, name, key, *prepared.to_cache(root))
        return prepared

    def _compile_all(self) -> None:
        # one after the other: compiling in parallel threads sometimes fails to resolve a type
        # (lxml hooks its document loader for a compile globally, not per thread)
        for namespace in SERVED_SCHEMAS:
            if namespace not in self.schemas:
                self._compile(namespace)
        self._files = SchemaFiles()  # the files' text is not needed once compiled (13 MB)

    def schema_for(self, namespace: str) -> etree.XMLSchema | None:
        """The compiled schema of a served namespace (compiled now when it was left for later)."""
        schema = self.schemas.get(namespace)
        if schema is None and namespace in SERVED_SCHEMAS:
            with self._compiling:
                if namespace not in self.schemas:
                    self._compile(namespace)
                if len(self.schemas) == len(SERVED_SCHEMAS):
                    self._files = SchemaFiles()
            schema = self.schemas[namespace]
        return schema

    def issues(self, element: etree._Element) -> list[ValidationIssue]:
        """Validate one message element; return its problems (empty when valid)."""
        schema = self.schema_for(ns.namespace(element.tag))
        if schema is None:
            return [
                ValidationIssue(
                    element.sourceline or 0,
                    _path(element),
                    f"geen StUF-bericht: namespace {ns.namespace(element.tag) or '(geen)'} wordt niet ondersteund",
                )
            ]
        with self._lock:
            if not schema.validate(element):
                return [_issue(e, self.dates.kinds) for e in schema.error_log]
        # what the schema's patterns let through: dates and moments that do not exist
        return [ValidationIssue(p.element.sourceline or 0, _path(p.element), p.message)
                for p in self.dates.problems(element)]

    def assert_valid(self, element: etree._Element) -> None:
        problems = self.issues(element)
        if problems:
            raise StufError(
                "StUF055",
                "Het bericht is niet conform het schema: " + problems[0].message,
                "; ".join(str(p) for p in problems[:10]),
            )


    def assert_answer_valid(self, element: etree._Element) -> None:
        """The broker's own answers must conform too; a violation is the broker's fault (StUF058)."""
        problems = self.issues(element)
        if problems:
            log_invalid_answer(problems)
            raise StufError(
                "StUF058",
                "Het antwoord van de broker is niet conform het schema",
                "; ".join(str(p) for p in problems[:5]),
            )


_QUOTED_VALUE = re.compile(r"(: |in )'[^']*'|'[^']*'( in )")


def without_values(message: str) -> str:
    """A schema message without the values it quotes (they may be personal data): element names stay."""
    return _QUOTED_VALUE.sub(lambda m: f"{m.group(1) or ''}'…'{m.group(2) or ''}", message)


def log_invalid_answer(problems: list[ValidationIssue]) -> None:
    """One log line for an answer of the broker's that does not conform: where, never the values."""
    structlog.get_logger("broker.schemas").error(
        "answer does not conform to the schema", problems=len(problems),
        first=f"{problems[0].path}: {without_values(problems[0].message)}")


_CLARK = re.compile(r"\{([^}]*)\}([A-Za-z_][\w.\-]*)")
_PREFIX = {uri: prefix for prefix, uri in ns.NSMAP.items()}


def readable(message: str) -> str:
    """libxml2 names elements in Clark notation; use the usual StUF prefixes instead."""
    return _CLARK.sub(lambda m: f"{_PREFIX.get(m.group(1), m.group(1))}:{m.group(2)}", message)


_ELEMENT = re.compile(r"^Element '(?:[\w.\-]+:)?([\w.\-]+)'")


def _issue(entry: etree._LogEntry, dates: dict[str, str]) -> ValidationIssue:
    """One schema error, readable: StUF prefixes instead of Clark notation, and for a date or moment
    that is not written as StUF writes them, the format it must have."""
    msg = readable(entry.message)
    named = _ELEMENT.match(msg)
    kind = dates.get(named.group(1)) if named else None
    if kind and "not a valid value" in msg:
        msg = f"{msg} Verwacht {FORMATS[kind]}."
    return ValidationIssue(entry.line, entry.path or "", msg)


def _path(el: etree._Element) -> str:
    return el.getroottree().getpath(el) if el.getroottree() is not None else ns.local(el.tag)
