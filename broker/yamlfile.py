"""YAML configuration files with line numbers in every error.

Functional administrators edit these files; a mistake must be reported as ``file:line: what is
wrong (did you mean ...?)``, all problems at once. The YAML is composed into nodes first so that each
value keeps its line, then validated with a pydantic model.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from broker.errors import ConfigError, ConfigProblem

M = TypeVar("M", bound=BaseModel)
Loc = tuple[Any, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader: no arbitrary objects; plain scalars keep YAML 1.1 typing."""


class Lines(dict[Loc, int]):
    """{location: line}; ``numbers`` keeps the text of each unquoted number as written (``0123``), so
    a problem can show the value the user typed, not the number YAML made of it."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: dict[Loc, str] = {}


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def syntax_problem(exc: yaml.YAMLError, filename: str, text: str) -> ConfigProblem:
    """A YAML syntax error at the line where the mistake is, in words an administrator knows.

    PyYAML notices an unclosed quote or bracket, or a key without its colon, only lines later; its
    ``context_mark`` says where the construct started, which is where the mistake is."""
    problem = str(getattr(exc, "problem", None) or exc)
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context", None) or ""
    start = getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else None
    source = text.splitlines()
    if start is not None and context.startswith("while scanning a quoted scalar"):
        return ConfigProblem(filename, start.line + 1, "not valid YAML: a quoted value starts here and is not "
                             "closed (its closing quote is missing)")
    if start is not None and context.startswith("while parsing a flow"):
        return ConfigProblem(filename, start.line + 1, "not valid YAML: a '[' or '{' opens here and is not "
                             f"closed where the next line starts ({problem})")
    if start is not None and context.startswith("while scanning a simple key"):
        key = source[start.line].strip() if start.line < len(source) else ""
        return ConfigProblem(filename, start.line + 1, f"not valid YAML: {key!r} has no ':' after it "
                             "(write 'key: value')")
    if problem.startswith("mapping values are not allowed") and line and line >= 2:
        before = [i for i in range(line - 2, -1, -1) if source[i].strip() and not source[i].lstrip().startswith("#")]
        if before and ":" not in source[before[0]]:
            return ConfigProblem(filename, before[0] + 1, f"not valid YAML: {source[before[0]].strip()!r} has no ':' "
                                 "after its key (write 'key: value')")
    if "'\\t'" in problem or "\t" in problem:
        return ConfigProblem(filename, line, "not valid YAML: a tab character; indent with spaces")
    return ConfigProblem(filename, line, f"not valid YAML: {problem}")


def compose(text: str, filename: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML text; return (data, {location: line}) (the second a :class:`Lines`)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError([syntax_problem(exc, filename, text)]) from None
    lines = Lines()
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
        if isinstance(n, yaml.ScalarNode) and n.tag in _NUMBER_TAGS:
            lines.numbers[loc] = n.value
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
            msg, suggestion = _explain(err, where, getattr(lines, "numbers", {}).get(loc), model, loc)
        problems.append(ConfigProblem(filename, line, msg, suggestion))
    return problems


_YAML_KIND = {dict: "a mapping (key: value)", list: "a list", str: "a text", int: "a number", float: "a number",
              bool: "true/false", type(None): "nothing"}


def _explain(err: Any, where: str, typed: str | None, model: type[BaseModel], loc: Loc) -> tuple[str, str | None]:
    """The message of one validation error in the terms of the file (never a class of the broker's)."""
    kind, value = err["type"], err.get("input")
    found = _YAML_KIND.get(type(value), "something else")
    if kind == "string_type" and typed is not None:
        zero = " and drops its leading zero" if typed.lstrip("+-").startswith("0") and typed not in ("0", "0.0") else ""
        return (f"{where}: {typed} without quotes is a number to YAML (it reads {value!r}{zero}); "
                f'write it in quotes: "{typed}"'), None
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        keys = _allowed_keys(model, loc)
        return (f"{where}: expected a mapping (key: value)"
                + (f" with the keys {', '.join(keys)}" if keys else "") + f", found {found}"), None
    if kind == "list_type":
        return f"{where}: expected a list (lines starting with '- ', or [a, b]), found {found}", None
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
        return (f"{where}: {value!r} is not allowed; allowed: {', '.join(allowed)}",
                suggest(str(value), allowed))
    msg = re.sub(r" or instance of \w+", "", err["msg"]).removeprefix("Value error, ")  # pydantic names the model class: not the user's term
    return f"{where}: {msg}", None


def suggest(value: str, options: list[str] | tuple[str, ...]) -> str | None:
    """The option ``value`` most likely meant, ignoring case (``Behandelaars`` -> ``Behandelaar``)."""
    lowered = {o.lower(): o for o in options}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


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
