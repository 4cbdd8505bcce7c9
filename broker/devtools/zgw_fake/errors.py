"""Error bodies in the ZGW ``Fout`` / ``ValidatieFout`` shape."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .validation import Problem

PROBLEM_JSON = "application/problem+json"

#: Default (code, title) per HTTP status, worded like Open Zaak / vng-api-common.
_DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("invalid", "Invalid input."),
    401: ("not_authenticated", "Authenticatiegegevens zijn niet opgegeven."),
    403: ("permission_denied", "U heeft geen toestemming om deze actie uit te voeren."),
    404: ("not_found", "Niet gevonden."),
    405: ("method_not_allowed", "Methode niet toegestaan."),
    406: ("not_acceptable", "Kan niet voldoen aan de opgegeven Accept header."),
    409: ("conflict", "Conflict."),
    410: ("gone", "Deze resource is verwijderd."),
    412: ("precondition_failed", "Precondition failed"),
    415: ("unsupported_media_type", "Niet-ondersteund mediatype in verzoek."),
    429: ("throttled", "Te veel verzoeken."),
    500: ("error", "Er is een serverfout opgetreden."),
    501: ("not_implemented", "Niet geimplementeerd in de ZGW-fake."),
    502: ("bad_gateway", "Bad gateway."),
    503: ("service_unavailable", "Service tijdelijk niet beschikbaar."),
    504: ("gateway_timeout", "Gateway timeout."),
}


@dataclass
class ApiError(Exception):
    """Raised by handlers; becomes a ``Fout`` (or ``ValidatieFout`` for 400)."""

    status: int
    detail: str
    code: str | None = None
    invalid_params: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code or ''}: {self.detail}"


def invalid(name: str, code: str, reason: str) -> ApiError:
    """A 400 with one invalid parameter, like DRF field validation in Open Zaak."""
    return ApiError(400, reason, "invalid", [Problem(name, code, reason)])


def not_found(detail: str = "Niet gevonden.") -> ApiError:
    return ApiError(404, detail, "not_found")


def fout(status: int, detail: str, code: str | None = None, *, host: str = "",
         invalid_params: Iterable[Problem] | None = None) -> dict[str, Any]:
    """A ``Fout`` body; a ``ValidatieFout`` (with ``invalidParams``) for 400."""
    default_code, title = _DEFAULTS.get(status, ("error", "Fout."))
    code = code or default_code
    body: dict[str, Any] = {
        "type": f"{host}/ref/fouten/{type_name(status)}/",
        "code": code,
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": f"urn:uuid:{uuid.uuid4()}",
    }
    if status == 400 or invalid_params:
        body["invalidParams"] = [
            {"name": p.name or "nonFieldErrors", "code": p.code or "invalid", "reason": p.reason or detail}
            for p in (invalid_params or [])
        ]
    return body


def type_name(status: int) -> str:
    return {
        400: "ValidationError",
        401: "NotAuthenticated",
        403: "PermissionDenied",
        404: "NotFound",
        405: "MethodNotAllowed",
        406: "NotAcceptable",
        412: "PreconditionFailed",
        415: "UnsupportedMediaType",
        500: "APIException",
        503: "ServiceUnavailable",
    }.get(status, "APIException")
