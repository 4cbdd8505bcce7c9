"""YAML configuration files with line numbers in every error.

Functional administrators edit these files; a mistake must be reported as ``file:line: what is
wrong (did you mean ...?)``, all problems at once. The YAML is composed into nodes first so that each
value keeps its line, then validated with a pydantic model.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from broker.errors import ConfigError, ConfigProblem

M = TypeVar("M", bound=BaseModel)
Loc = tuple[Any, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader: no arbitrary objects; plain scalars keep YAML 1.1 typing."""


def compose(text: str, filename: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML text; return (data, {location: line})."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ConfigError([ConfigProblem(filename, line, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    lines: dict[Loc, int] = {}
    if node is None:
        return {}, lines

    def walk(n: yaml.Node, loc: Loc) -> Any:
        lines[loc] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            out = {}
            for k, v in n.value:
                key = _Loader.construct_scalar(_LOADER_FOR_SCALARS, k) if isinstance(k, yaml.ScalarNode) else str(k)
                lines[loc + (key, "__key__")] = k.start_mark.line + 1
                out[key] = walk(v, loc + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [walk(v, loc + (i,)) for i, v in enumerate(n.value)]
        return _LOADER_FOR_SCALARS.construct_object(n)

    return walk(node, ()), lines


_LOADER_FOR_SCALARS = _Loader("")


def line_for(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of ``loc`` or of its nearest ancestor."""
    loc = tuple(loc)
    while True:
        if loc in lines:
            return lines[loc]
        if not loc:
            return None
        loc = loc[:-1]


def problems_from(
    exc: ValidationError, filename: str, lines: dict[Loc, int], model: type[BaseModel]
) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top)"
        suggestion = None
        if err["type"] == "extra_forbidden":
            line = lines.get(loc[:-1] + (loc[-1], "__key__")) or line_for(lines, loc)
            allowed = _allowed_keys(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            suggestion = close[0] if close else None
            msg = f"unknown setting {where!r}"
            if allowed and not suggestion:
                msg += f"; allowed here: {', '.join(sorted(allowed))}"
        else:
            line = line_for(lines, loc)
            msg = f"{where}: {err['msg']}"
        problems.append(ConfigProblem(filename, line, msg, suggestion))
    return problems


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _inner_model(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def _inner_model(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def load_model(path: Path, model: type[M], *, default: Any = None) -> tuple[M, dict[Loc, int]]:
    """Load and validate one YAML file; raise ConfigError with file:line problems."""
    filename = str(path)
    if not path.exists():
        if default is not None:
            return model.model_validate(default), {}
        raise ConfigError([ConfigProblem(filename, None, "file not found")])
    data, lines = compose(path.read_text(encoding="utf-8"), filename)
    if data is None:
        data = {}
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, filename, lines, model)) from None
