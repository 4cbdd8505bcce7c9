"""HTTP access to the ZGW APIs: authentication, headers, paging, and errors in StUF terms.

- Authentication (ZGW "Autorisatie"; Open Zaak): every request carries ``Authorization: Bearer <JWT>``,
  an HS256 JWT signed with the client's secret, with claims ``iss`` and ``client_id`` (the client id),
  ``iat`` and ``user_id``/``user_representation`` (the StUF zender, for the audit trail). A token is
  minted per request: Open Zaak refuses tokens older than its ``JWT_EXPIRY`` and has no leeway.
- Zaken API 1.5.1 requires ``Accept-Crs`` and ``Content-Crs`` on every ``/zaken`` operation (412
  without): the client sends ``EPSG:4326`` on every request to that path.
- Lists: the paginated shape (``count``, ``next``, ``results``) is followed to the last page; plain
  lists (zaakinformatieobjecten, besluitinformatieobjecten) come in one response.
- Errors: :class:`ZgwError` (an :class:`~broker.errors.AdapterError`) with the StUF fault the sender
  gets. 400 ``ValidatieFout``: StUF058 at the client's side with the API's message (and the invalid
  parameters) in ``details``; 404: StUF064; 5xx, 429, 401/403, timeouts and connection errors: StUF058
  at the server's side, worth a retry. Values quoted in API messages (they may hold a BSN or a name)
  are left out of ``details``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt.algorithms import HMACAlgorithm

from broker.adapters.http import HttpErrors, calling, correlation_headers
from broker.adapters.zgw.own_writes import OwnWrites
from broker.errors import AdapterError, StufError

CRS = "EPSG:4326"
APIS = ("zaken", "catalogi", "documenten", "besluiten")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_LONG_NUMBER = re.compile(r"\d{8,}")
_MAX_DETAILS = 900


class _HS256(HMACAlgorithm):
    """HS256 that accepts the short secrets ZGW set-ups use (PyJWT would warn about each token)."""

    def check_key_length(self, key: bytes) -> str | None:
        return None


def _signer() -> jwt.PyJWS:
    jws = jwt.PyJWS(algorithms=["HS256"])
    jws.unregister_algorithm("HS256")
    jws.register_algorithm("HS256", _HS256(HMACAlgorithm.SHA256))
    return jws


_JWS = _signer()


def token(client_id: str, secret: str, user: str = "stuf-broker") -> str:
    """A ZGW client JWT (HS256) with the claims Open Zaak reads."""
    claims = {"iss": client_id, "iat": int(time.time()), "client_id": client_id,
              "user_id": user, "user_representation": user}
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return _JWS.encode(payload, secret, algorithm="HS256", headers={"typ": "JWT"})


def scrub(text: str) -> str:
    """An API message without the values it quotes (they may be personal data)."""
    return _LONG_NUMBER.sub("…", _QUOTED.sub("'…'", text))


class ZgwError(AdapterError):
    """An API call failed; ``fault`` is what the sender hears, ``status`` the HTTP status (0: no answer)."""

    def __init__(self, message: str, *, status: int, retryable: bool, fault: StufError,
                 code: str | None = None, invalid_params: list[dict[str, Any]] | None = None,
                 target_answer: str | None = None) -> None:
        super().__init__(message, retryable=retryable, fault=fault, target_answer=target_answer)
        self.status = status
        self.code = code
        self.invalid_params = invalid_params or []

    def has_param_code(self, code: str) -> bool:
        return any(p.get("code") == code for p in self.invalid_params)


@dataclass
class Recorded:
    """One request as it went out (for ``mappings preview`` and operators)."""

    method: str
    url: str
    headers: dict[str, str]
    json: Any = None
    form: dict[str, Any] | None = None


@dataclass
class ZgwSettings:
    """Target options of routes.yaml for the ``zgw`` adapter."""

    urls: dict[str, str]
    client_id: str
    secret: str
    timeout: float = 10.0
    user: str = "stuf-broker"
    extra_headers: dict[str, str] = field(default_factory=dict)


class ZgwClient(HttpErrors):
    """One HTTP connection pool for the four APIs; ``transport`` replaces the network (preview)."""

    #: besides 5xx, 408 and 429: an expired token or autorisaties an administrator is still setting up
    retry_statuses = frozenset({401, 403})

    def __init__(self, settings: ZgwSettings, *, transport: httpx.BaseTransport | None = None,
                 record: Callable[[Recorded], None] | None = None) -> None:
        self.settings = settings
        self.urls = {api: url.rstrip("/") for api, url in settings.urls.items()}
        self.http = httpx.Client(timeout=settings.timeout, transport=transport,
                                 headers={"User-Agent": "stuf-broker", "Accept": "application/json"})
        self.record = record
        #: the writes of this client not yet announced, so that the ZGW notification of the broker's own
        #: change is recognised; kept only for a target that subscribes (broker.adapters.zgw.own_writes)
        self.written: OwnWrites | None = None

    def close(self) -> None:
        self.http.close()

    # -- addresses -----------------------------------------------------------------------------
    def url(self, api: str, path: str) -> str:
        return f"{self.urls[api]}/{path.lstrip('/')}"

    def api_of(self, url: str) -> str | None:
        for api, base in self.urls.items():
            if url.startswith(base + "/"):
                return api
        return None

    def _geo(self, url: str) -> bool:
        """A ``/zaken*`` resource of the Zaken API (the ones with ``zaakgeometrie``)."""
        base = self.urls.get("zaken")
        if not base:
            return False
        return url.startswith(base + "/zaken/") or url.split("?")[0] == base + "/zaken"

    # -- requests ------------------------------------------------------------------------------
    def _headers(self, url: str, user: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token(self.settings.client_id, self.settings.secret, user or self.settings.user)}"}
        if self._geo(url):
            headers["Accept-Crs"] = CRS
            headers["Content-Crs"] = CRS
        headers.update(correlation_headers())  # the message's X-Correlation-ID
        headers.update(self.settings.extra_headers)
        return headers

    def request(self, method: str, url: str, *, params: dict[str, Any] | None = None, json_body: Any = None,
                files: dict[str, Any] | None = None, data: dict[str, Any] | None = None, user: str | None = None,
                expect: tuple[int, ...] = (200, 201, 204)) -> httpx.Response:
        headers = self._headers(url, user)
        if self.record is not None:
            shown = {k: ("Bearer …" if k == "Authorization" else v) for k, v in headers.items()}
            full = url if not params else str(httpx.URL(url, params=params))
            self.record(Recorded(method, full, shown, json_body,
                                 {**(data or {}), **{k: f"<{len(v[1])} bytes>" for k, v in (files or {}).items()}}
                                 if files or data else None))
        written = self.written
        if written is None or method == "GET" or url.endswith("/_zoek"):
            with calling(f"{method} {_short(url)}", self.settings.timeout, _unavailable):
                response = self.http.request(method, url, params=params, json=json_body, files=files, data=data,
                                             headers=headers)
        else:
            with written.writing() as write, calling(f"{method} {_short(url)}", self.settings.timeout, _unavailable):
                response = self.http.request(method, url, params=params, json=json_body, files=files, data=data,
                                             headers=headers)
                if response.status_code in expect:
                    write.done(method, url, response)
        if response.status_code not in expect:
            raise _error(method, url, response)
        return response

    def get(self, url: str, params: dict[str, Any] | None = None, user: str | None = None) -> Any:
        return self.request("GET", url, params=params, user=user).json()

    def post(self, url: str, body: Any, user: str | None = None) -> Any:
        response = self.request("POST", url, json_body=body, user=user)
        return response.json() if response.content else None

    def patch(self, url: str, body: Any, user: str | None = None) -> Any:
        return self.request("PATCH", url, json_body=body, user=user).json()

    def delete(self, url: str, user: str | None = None) -> None:
        self.request("DELETE", url, user=user)

    def pages(self, url: str, params: dict[str, Any] | None = None, user: str | None = None) -> Iterator[dict[str, Any]]:
        """Every result of a list operation, following ``next`` to the last page."""
        page: Any = self.get(url, params, user)
        while True:
            if isinstance(page, list):  # an unpaginated list
                yield from page
                return
            yield from page.get("results") or []
            nxt = page.get("next")
            if not nxt:
                return
            page = self.get(nxt, None, user)

    def all(self, url: str, params: dict[str, Any] | None = None, user: str | None = None) -> list[dict[str, Any]]:
        return list(self.pages(url, params, user))

    def download(self, url: str, user: str | None = None) -> bytes:
        """Document content (``/download``, application/octet-stream), read as a stream."""
        pieces: list[bytes] = []
        self.download_into(url, pieces.append, user)
        return b"".join(pieces)

    def download_into(self, url: str, sink: Callable[[bytes], object], user: str | None = None) -> None:
        """Document content handed to ``sink`` piece by piece as it arrives (large content goes
        straight to the file store)."""
        headers = self._headers(url, user)
        headers["Accept"] = "application/octet-stream"
        if self.record is not None:
            self.record(Recorded("GET", url, {k: ("Bearer …" if k == "Authorization" else v) for k, v in headers.items()}))
        with calling(f"GET {_short(url)}", self.settings.timeout, _unavailable), \
                self.http.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                response.read()
                raise _error("GET", url, response)
            for piece in response.iter_bytes():
                sink(piece)


def _short(url: str) -> str:
    return urlsplit(url).path


def _unavailable(message: str, exc: BaseException) -> ZgwError:
    return ZgwError(message, status=0, retryable=True,
                    fault=StufError("StUF058", "Het zaaksysteem (ZGW) is niet bereikbaar", message, plek="server"))


def _error(method: str, url: str, response: httpx.Response) -> ZgwError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = body.get("code")
    params = [p for p in body.get("invalidParams") or [] if isinstance(p, dict)]
    detail = scrub(str(body.get("detail") or body.get("title") or response.reason_phrase or ""))
    where = f"{method} {_short(url)}"
    parts = [f"{where}: HTTP {status}" + (f" {code}" if code else "") + (f": {detail}" if detail else "")]
    parts += [f"{p.get('name')} ({p.get('code')}): {scrub(str(p.get('reason') or ''))}" for p in params]
    details = "; ".join(parts)[:_MAX_DETAILS]
    answer = scrub(response.text[:5000])  # kept with the delivery for operators: without quoted values
    if status == 400:
        fault = StufError("StUF058", "De ZGW API weigerde het verzoek", details, plek="client")
        return ZgwError(details, status=status, retryable=False, fault=fault, code=code, invalid_params=params,
                        target_answer=answer)
    if status == 404:
        fault = StufError("StUF064", "Object niet gevonden in de ZGW API", details, plek="client")
        return ZgwError(details, status=status, retryable=False, fault=fault, code=code, target_answer=answer)
    retry = ZgwClient.retryable_status(status)
    fault = StufError("StUF058", "Het zaaksysteem (ZGW) kon het verzoek niet verwerken", details,
                      plek="server" if retry else "client")
    return ZgwError(details, status=status, retryable=retry, fault=fault, code=code, invalid_params=params,
                    target_answer=answer)
