"""Check requests and responses against a spec with openapi-core.

This module only adapts the fake's own request/response data to the
protocols openapi-core expects and turns its exceptions into readable
strings and ``invalidParams`` entries.  All the actual checking is done
by openapi-core (and, below it, openapi-schema-validator / jsonschema).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.validation.schemas import oas30_read_schema_validators_factory
from werkzeug.datastructures import Headers, ImmutableMultiDict

from .formats import EXTRA_FORMATS
from .spec_fixes import GUARD
from .specs import LoadedSpec

_REQUIRED_MESSAGE = re.compile(r"^'(.+)' is a required property$")


@dataclass
class SpecRequest:
    """A request in the shape of openapi-core's ``Request`` protocol."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes | None
    content_type: str
    host_url: str = "http://127.0.0.1"
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.method = self.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(self.query),
            header=Headers(self.headers),
            cookie=ImmutableMultiDict(),
        )


@dataclass
class SpecResponse:
    """A response in the shape of openapi-core's ``Response`` protocol."""

    status_code: int
    data: bytes | None
    content_type: str
    headers: Headers


@dataclass(frozen=True)
class Operation:
    """The spec operation a request maps to."""

    operation_id: str
    path_template: str
    path_params: dict[str, str]
    spec: dict[str, Any]

    def header_param(self, name: str) -> dict[str, Any] | None:
        for param in self.spec.get("parameters", []):
            if param.get("in") == "header" and param.get("name", "").lower() == name.lower():
                return param
        return None

    def response(self, status: int) -> dict[str, Any] | None:
        responses = self.spec.get("responses", {})
        return responses.get(str(status)) or responses.get("default")


@dataclass(frozen=True)
class Problem:
    """One validation problem: where, a code like Open Zaak's, and why."""

    name: str
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}" if self.name else self.reason


def find_operation(spec: LoadedSpec, method: str, path: str) -> Operation | None:
    """The operation for ``method path`` (path includes the base path), or None."""
    finder = APICallPathFinder(spec.openapi.spec)
    try:
        found = finder.find(method.lower(), "http://127.0.0.1" + path)
    except PathError:
        return None
    template = str(found.path_result.pattern)
    op_spec = _resolve_operation(spec.document, template, method.lower())
    return Operation(
        operation_id=str(op_spec.get("operationId", "")),
        path_template=template,
        path_params={k: str(v) for k, v in (found.path_result.variables or {}).items()},
        spec=op_spec,
    )


def _resolve_operation(document: dict[str, Any], template: str, method: str) -> dict[str, Any]:
    path_item = document["paths"][template]
    operation = dict(path_item[method])
    # path-level parameters apply too (operation-level ones win)
    params = list(operation.get("parameters", []))
    seen = {(p.get("in"), p.get("name")) for p in params}
    params += [p for p in path_item.get("parameters", []) if (p.get("in"), p.get("name")) not in seen]
    operation["parameters"] = params
    return operation


def _schema_errors(exc: BaseException) -> list[SchemaError]:
    cause = exc.__cause__
    errors = list(getattr(cause, "schema_errors", None) or [])
    return [e for e in errors if isinstance(e, SchemaError)]


def _is_guard(error: SchemaError) -> bool:
    return isinstance(error.schema, dict) and bool(error.schema.get(GUARD))


def _flatten(error: SchemaError) -> Iterable[SchemaError]:
    """The most specific sub-errors of a oneOf/anyOf/allOf failure.

    Branches of a generated polymorphic schema whose discriminator guard
    failed are not the variant the value claims to be: they are skipped.
    """
    if error.context:
        branches: dict[Any, list[SchemaError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None,
                                []).append(sub)
        relevant = [
            subs for subs in branches.values()
            if not any(_is_guard(leaf) for sub in subs for leaf in _walk(sub))
        ] or list(branches.values())
        best: list[SchemaError] = []
        for subs in relevant:
            for sub in subs:
                best.extend(leaf for leaf in _flatten(sub) if not _is_guard(leaf))
        if best:
            yield from best
            return
    yield error


def _walk(error: SchemaError) -> Iterable[SchemaError]:
    yield error
    for sub in error.context or ():
        yield from _walk(sub)


def _field_name(parts: Iterable[Any]) -> str:
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f".{part}"
        else:
            name = f"{name}.{part}" if name else str(part)
    return name


def _problems_from_schema_error(error: SchemaError, prefix: str = "") -> list[Problem]:
    problems = []
    for leaf in _flatten(error):
        parts = list(leaf.absolute_path)
        code = str(leaf.validator or "invalid")
        if leaf.validator == "required":
            # jsonschema reports one error per missing property
            match = _REQUIRED_MESSAGE.match(leaf.message)
            prop = [match.group(1)] if match else []
            problems.append(Problem(prefix + _field_name(parts + prop), "required", leaf.message))
            continue
        name = _field_name(parts)
        problems.append(Problem(prefix + name if name else prefix.rstrip(".") or "nonFieldErrors",
                                code, leaf.message))
    return problems


def problems_from_exception(exc: BaseException, location: str) -> list[Problem]:
    """Turn one openapi-core validation exception into problems."""
    name = getattr(exc, "name", None)
    if name is not None:  # a parameter or header
        where = getattr(exc, "location", location)
        schema_errors = _schema_errors(exc)
        if schema_errors:
            out = []
            for err in schema_errors:
                for problem in _problems_from_schema_error(err):
                    out.append(Problem(name, problem.code, f"{where} {name}: {problem.reason}"))
            return out
        code = "required" if "Missing" in type(exc).__name__ else "invalid"
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        return [Problem(name, code, f"{exc}{cause}")]
    schema_errors = _schema_errors(exc)
    if schema_errors:
        out = []
        for err in schema_errors:
            out.extend(_problems_from_schema_error(err))
        return out
    cause = f" ({exc.__cause__})" if exc.__cause__ else ""
    return [Problem("nonFieldErrors", "invalid", f"{exc}{cause}")]


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def request_problems(spec: LoadedSpec, request: SpecRequest) -> list[Problem]:
    """Every way ``request`` breaks the spec (empty when it conforms)."""
    problems: list[Problem] = []
    for exc in spec.openapi.iter_request_errors(request):
        problems.extend(problems_from_exception(exc, "request"))
    return _unique(problems)


def response_problems(spec: LoadedSpec, request: SpecRequest, response: SpecResponse) -> list[Problem]:
    """Every way ``response`` (to ``request``) breaks the spec."""
    problems: list[Problem] = []
    for exc in spec.openapi.iter_response_errors(request, response):
        problems.extend(problems_from_exception(exc, "response"))
    return _unique(problems)


def schema_problems(spec: LoadedSpec, schema_name: str, value: Mapping[str, Any]) -> list[Problem]:
    """Check a stored object against a component schema (read side)."""
    schema = spec.openapi.spec / "components" / "schemas" / schema_name
    validator = oas30_read_schema_validators_factory.create(
        spec.openapi.spec, schema, extra_format_validators=EXTRA_FORMATS
    )
    problems: list[Problem] = []
    for err in validator.validator.iter_errors(value):
        problems.extend(_problems_from_schema_error(err))
    return problems
