"""What happens to one HTTP request, in order:

1. log it (``fake.requests``);
2. refuse it when the fake is "down" or a failure is planned for it;
3. map it to a spec operation (unknown -> 404/405 + violation);
4. check the JWT (-> 403 ``Fout``; recorded in ``fake.auth_failures``);
5. check ``Accept-Crs``/``Content-Crs`` where the operation requires them
   (missing -> 412, unsupported -> 406; both recorded as violations);
6. validate the request with openapi-core (-> 400 ``ValidatieFout`` + violation);
7. run the handler for the ``operationId``;
8. add the headers the spec declares, validate the response with
   openapi-core (a mismatch is a violation: a bug in the fake), send it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from werkzeug.datastructures import Headers

from .errors import PROBLEM_JSON, ApiError, fout
from .resources import HANDLERS, Call, Reply
from .specs import APIS, LoadedSpec, base_path
from .validation import (
    Operation,
    Problem,
    SpecRequest,
    SpecResponse,
    find_operation,
    request_problems,
    response_problems,
)

if TYPE_CHECKING:
    from .server import ZGWFake

CRS = "EPSG:4326"
_STREAM_CHUNK = 64 * 1024
_MAX_FORM_PART = 1 << 30  # a bestandsdeel sent as a plain form field


class RecordedRequest(NamedTuple):
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any  # parsed JSON, or None


class RecordedResponse(NamedTuple):
    method: str
    path: str
    status: int


class _Exchange:
    """The state of one request while it passes through the pipeline."""

    def __init__(self, fake: ZGWFake, request: Request, raw: bytes) -> None:
        self.fake = fake
        self.request = request
        self.raw = raw
        self.method = request.method.upper()
        self.path = request.url.path
        self.query = list(request.query_params.multi_items())
        self.content_type = request.headers.get("content-type", "")
        self.api: str | None = None
        self.spec: LoadedSpec | None = None
        self.operation: Operation | None = None
        self.json: Any = None
        self.json_error: str | None = None
        if raw and "json" in self.content_type.lower():
            try:
                self.json = json.loads(raw)
            except ValueError as exc:
                self.json_error = f"body is not valid JSON: {exc}"

    @property
    def label(self) -> str:
        op = f" [{self.operation.operation_id}]" if self.operation else ""
        return f"{self.method} {self.path}{op}"

    def spec_request(self) -> SpecRequest:
        headers = list(self.request.headers.items())
        if not self.fake.check_auth and "authorization" not in self.request.headers:
            # auth is switched off: satisfy the spec's security requirement
            # so openapi-core goes on to check parameters and body
            headers.append(("authorization", "Bearer unchecked"))
        return SpecRequest(
            method=self.method,
            path=self.path,
            query=self.query,
            headers=headers,
            body=self.raw or None,
            content_type=self.content_type,
        )


async def handle(fake: ZGWFake, request: Request) -> Response:
    raw = await request.body()
    ex = _Exchange(fake, request, raw)
    fake.requests.append(RecordedRequest(ex.method, ex.path, dict(ex.query), ex.json))
    target = ex.path + (f"?{request.url.query}" if request.url.query else "")
    hold = fake.failures.take_lost(ex.method, target)
    response = await _process(ex)
    if hold:  # carried out, but the answer comes too late for the client (fake.lose_next)
        await asyncio.sleep(hold)
    fake.responses.append(RecordedResponse(ex.method, ex.path, response.status_code))
    return response


def _map(ex: _Exchange) -> None:
    """Find the API, spec and operation of the request (any may stay None)."""
    parts = ex.path.split("/")
    api = parts[1] if len(parts) > 1 else ""
    if api == "notificaties" and ex.path.startswith(base_path(api) + "/"):
        ex.api, ex.spec = api, ex.fake.notificaties.spec
        ex.operation = find_operation(ex.spec, ex.method, ex.path)
    elif api in APIS and ex.path.startswith(base_path(api) + "/"):
        ex.api, ex.spec = api, ex.fake.specs[api]
        ex.operation = find_operation(ex.spec, ex.method, ex.path)
        extension = ex.fake.extensions.get(api) if ex.fake.open_zaak_extensions else None
        if ex.operation is None and extension is not None:
            operation = find_operation(extension, ex.method, ex.path)
            if operation is not None:
                ex.spec, ex.operation = extension, operation


async def _process(ex: _Exchange) -> Response:
    fake = ex.fake
    _map(ex)
    if fake.failures.down_mode == "503":
        return _error(ex, 503, "De ZGW-fake is (met opzet) niet beschikbaar.", validate=False)
    target = ex.path + (f"?{ex.request.url.query}" if ex.request.url.query else "")
    planned = fake.failures.take(ex.method, target)
    if planned is not None:
        # planned failures may use statuses the spec does not declare (502, 503, ...)
        declared = ex.operation is not None and ex.operation.response(planned) is not None
        return _error(ex, planned, "Geplande fout (fail_next).", validate=declared)

    if ex.spec is None:
        fake.violations.append(f"{ex.label}: no ZGW API is served at this path")
        return _error(ex, 404, "Onbekend pad.", validate=False)
    if ex.operation is None:
        fake.violations.append(f"{ex.label}: the {ex.api} spec has no such operation")
        status = 405 if _path_exists(ex) else 404
        return _error(ex, status, "Deze operatie bestaat niet in de specificatie.", validate=False)
    api = ex.api
    assert api is not None

    verdict = fake.auth.check(ex.request.headers.get("authorization")) if fake.check_auth else None
    if verdict is not None and not verdict.ok:
        fake.auth_failures.append(f"{ex.label}: {verdict.error}")
        return _error(ex, 403, verdict.error or "Geen toegang.", code="not_authenticated")

    crs = _crs_problem(ex)
    if crs is not None:
        return crs

    problems = request_problems(ex.spec, ex.spec_request())
    if ex.json_error:
        problems.insert(0, Problem("nonFieldErrors", "parse_error", ex.json_error))
    if problems:
        for problem in problems:
            fake.violations.append(f"{ex.label} request: {problem}")
        return _error(ex, 400, "Het verzoek voldoet niet aan de specificatie.", problems=problems)

    handler = HANDLERS[api].get(ex.operation.operation_id)
    if handler is None:
        fake.unsupported.append(ex.label)
        return _error(ex, 501, f"{ex.operation.operation_id} is niet geimplementeerd in de ZGW-fake.",
                      validate=False)
    try:
        form = await _form(ex)
        call = Call(
            fake=fake, api=api, spec=ex.spec, operation=ex.operation,
            path_params=ex.operation.path_params, query=ex.query, body=ex.json, form=form,
            list_url=str(ex.request.url.replace(query="")),
        )
        with fake.store.lock:
            reply = handler(call)
            fake.notificaties.announce(api, ex.method, ex.path, reply)
    except ApiError as exc:
        return _error(ex, exc.status, exc.detail, code=exc.code, problems=exc.invalid_params)
    except Exception:  # a bug in the fake: say so loudly
        fake.violations.append(f"{ex.label}: the fake crashed:\n{traceback.format_exc()}")
        return _error(ex, 500, "De ZGW-fake liep vast (zie fake.violations).")
    return _finish(ex, reply)


def _path_exists(ex: _Exchange) -> bool:
    assert ex.spec is not None
    return any(
        find_operation(ex.spec, method, ex.path) is not None
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    )


def _crs_problem(ex: _Exchange) -> Response | None:
    assert ex.operation is not None
    for name in ("Accept-Crs", "Content-Crs"):
        param = ex.operation.header_param(name)
        if param is None:
            continue
        value = ex.request.headers.get(name)
        if value is None:
            if param.get("required"):
                ex.fake.violations.append(f"{ex.label} request: missing required header {name}")
                return _error(ex, 412, f"'{name}' header ontbreekt")
            continue
        if value != CRS:
            ex.fake.violations.append(f"{ex.label} request: {name} {value!r} is not {CRS}")
            return _error(ex, 406, f"CRS '{value}' is niet ondersteund")
    return None


async def _form(ex: _Exchange) -> dict[str, Any] | None:
    content_type = ex.content_type.lower()
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return None
    try:
        form = await ex.request.form(max_part_size=_MAX_FORM_PART)
    except MultiPartException as exc:
        ex.fake.violations.append(f"{ex.label} request: unreadable form body: {exc}")
        raise ApiError(400, f"Het formulier kan niet gelezen worden: {exc}", "parse_error") from None
    values: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            values[key] = await value.read()
            await value.close()
        else:
            values[key] = value
    await form.close()
    return values


def _error(ex: _Exchange, status: int, detail: str, *, code: str | None = None,
           problems: list[Problem] | None = None, validate: bool = True) -> Response:
    body = fout(status, detail, code, host=ex.fake.root_url, invalid_params=problems)
    return _finish(ex, Reply(status, body, content_type=PROBLEM_JSON), validate=validate)


def _finish(ex: _Exchange, reply: Reply, *, validate: bool = True) -> Response:
    """Encode, add the headers the spec declares, validate, build the response."""
    if isinstance(reply.body, (bytes, bytearray)):
        data = bytes(reply.body)
    elif reply.body is None:
        data = b""
    else:
        data = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = dict(reply.headers)
    content_type = reply.content_type if data or reply.status not in (204, 304) else ""
    declared = ex.operation.response(reply.status) if ex.operation else None
    declared_headers = {k.lower(): k for k in (declared or {}).get("headers", {})}
    if ex.spec is not None:
        headers.setdefault("API-version", ex.spec.info_version)
    if "content-crs" in declared_headers:
        headers["Content-Crs"] = CRS
    if "etag" in declared_headers and data:
        headers["ETag"] = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'

    if validate and ex.operation is not None and ex.spec is not None:
        wz_headers = Headers(list(headers.items()))
        if content_type:
            wz_headers["Content-Type"] = content_type
        problems = response_problems(
            ex.spec, ex.spec_request(), SpecResponse(reply.status, data, content_type, wz_headers)
        )
        for problem in problems:
            ex.fake.violations.append(f"{ex.label} response {reply.status}: {problem}")

    if reply.content_type == "application/octet-stream" and data:
        headers["Content-Length"] = str(len(data))
        return StreamingResponse(_chunks(data), status_code=reply.status, headers=headers,
                                 media_type=content_type)
    return Response(data, status_code=reply.status, headers=headers, media_type=content_type or None)


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), _STREAM_CHUNK):
        yield data[start:start + _STREAM_CHUNK]
