"""An adapter's options in routes.yaml: a pydantic model that refuses unknown keys.

:func:`parse` raises :class:`~broker.errors.ConfigError` with one problem per mistake, each naming the
option (``target 'archief': unknown option 'urll'``); the broker then adds the line of routes.yaml
that option is on (:meth:`broker.routing.config.RoutesFile.locate`).
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from broker.errors import ConfigError, ConfigProblem

FILENAME = "routes.yaml"


class Options(BaseModel):
    """Base of every adapter's options."""

    model_config = ConfigDict(extra="forbid")


OptionsT = TypeVar("OptionsT", bound=BaseModel)


def parse(model: type[OptionsT], target: str, options: dict[str, Any], where: str = FILENAME) -> OptionsT:
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        raise ConfigError([_problem(model, target, e, where) for e in exc.errors()]) from None


def _problem(model: type[BaseModel], target: str, error: Any, where: str) -> ConfigProblem:
    loc = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
        allowed = sorted(model.model_fields)
        close = difflib.get_close_matches(loc, allowed, n=1)
        message = f"target {target!r}: unknown option {loc!r}"
        if not close:
            message += "; allowed: " + (", ".join(allowed) or "none")
        return ConfigProblem(where, None, message, close[0] if close else None)
    if error["type"] == "missing":
        return ConfigProblem(where, None, f"target {target!r}: option {loc!r} is required")
    return ConfigProblem(where, None, f"target {target!r}: {loc}: {error['msg']}" if loc
                         else f"target {target!r}: {error['msg']}")


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("give an http:// or https:// URL")
    return value


#: an option that is the URL of an HTTP target
HttpUrl = Annotated[str, AfterValidator(_http_url)]
#: a timeout in seconds
Timeout = Annotated[float, Field(gt=0, le=3600)]
