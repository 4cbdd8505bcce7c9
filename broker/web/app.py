"""The Starlette application.

A SOAP request whose body is small (below ``broker.intake.pipeline.ON_LOOP_BYTES``) is parsed,
checked and validated on the event loop, and a queued message's rows (or a sync message's work in the
embedded zaaksysteem) go to the group commit, whose future the loop awaits: on SQLite no thread is
involved on that path (threads contending for the interpreter cost more than the work,
docs/performance.md). What blocks runs in a bounded pool of threads, ``server.handler_threads`` per
worker process: a remote ``sync`` target's call, a fault to log, a database read before the write, a
password check, a large body. A target that is slow to answer then holds one of those threads, up to
its own ``timeout``, and delays only the requests routed to it, never the other clients or
``/healthz``. Run one worker process per core.
"""

from __future__ import annotations

import contextlib
import functools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TypeVar

import anyio.to_thread
import structlog
from anyio import CapacityLimiter
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from broker.bg.operations import BG_PORTS
from broker.config import MANIFEST
from broker.errors import RequestRejected, StufError
from broker.intake.callers import Transport
from broker.runtime import Broker
from broker.store.blobs import BlobStore
from broker.stuf import spool
from broker.stuf.xsd_install import read_manifest
from broker.web import metrics as metrics_mod
from broker.web import notificaties, protocol, wsdl
from broker.web.dashboard.app import create_dashboard
from broker.web.landing import landing
from broker.zds.operations import PORTS

T = TypeVar("T")
log = structlog.get_logger("broker.web")


_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})


class _TooLarge(Exception):
    pass


#: the body goes to the reducer in batches of about this size, each in a worker thread (decoding and
#: writing document content, and the fsync at the end, never hold up the event loop)
_BATCH = 1024 * 1024


async def _read_small(request: Request, upfront: int) -> bytes:
    """A body whose Content-Length is below the reducer's threshold, read on the loop as it is; a
    Content-Length above ``upfront`` is refused before anything is read."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > upfront:
        raise _TooLarge()
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > upfront:
            raise _TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_body(request: Request, reducer: spool.Reducer, upfront: int) -> bytes:
    """The body with large document content moved to the file store (broker.stuf.spool).

    A Content-Length above ``upfront`` (limits.max_body_bytes) is refused before anything is read;
    otherwise the reducer refuses as soon as a document (limits.max_document_bytes) or the message
    outgrows its limit. Raises _TooLarge or a StufError."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > upfront:
        raise _TooLarge()
    batch: list[bytes] = []
    size = total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > upfront:
                raise _TooLarge()
            batch.append(chunk)
            size += len(chunk)
            if size >= _BATCH:
                await anyio.to_thread.run_sync(reducer.feed, b"".join(batch))
                batch, size = [], 0
        if batch:
            await anyio.to_thread.run_sync(reducer.feed, b"".join(batch))
        return await anyio.to_thread.run_sync(reducer.close)
    except spool.RestTooLarge:
        reducer.discard()
        raise _TooLarge() from None
    except BaseException:
        reducer.discard()
        raise


def create_app(broker: Broker) -> Starlette:
    settings = broker.settings
    limit = settings.broker.limits.max_body_bytes
    max_document = settings.broker.limits.max_document_bytes
    blob_store = BlobStore(settings.files_dir)
    allowed_schemas = frozenset(e.path for e in read_manifest(MANIFEST))
    handlers = CapacityLimiter(settings.broker.server.handler_threads)
    limits = settings.broker.limits
    if not broker.config_store.applications.configured:
        log.warning("no applications configured (applications.yaml): only callers on this machine are served")
    shape = spool.Shape.from_limits(limits)

    async def off_loop(func: Callable[..., T], *args: object) -> T:
        """Run blocking work in the handler pool; the request waits for a free thread."""
        return await anyio.to_thread.run_sync(functools.partial(func, *args), limiter=handlers)

    def base_url(request: Request) -> str:
        """The broker's address for served WSDLs: public_url; else the Host header only when it is a
        loopback name or in server.allowed_hosts (a forged Host never reaches a client's WSDL); else
        the configured host and port."""
        server = settings.broker.server
        if server.public_url:
            return server.public_url.rstrip("/")
        scheme = "https" if server.tls is not None else "http"
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if host and (name in _LOOPBACK_NAMES or host in server.allowed_hosts or name in server.allowed_hosts):
            return f"{scheme}://{host}"
        own = server.host if server.host not in ("0.0.0.0", "::", "") else socket.getfqdn()
        return f"{scheme}://{own}:{server.port}"

    async def soap_endpoint(request: Request) -> Response:
        port = request.path_params["port"]
        if port not in PORTS and port not in BG_PORTS:
            return Response("unknown endpoint; use /zds/BeantwoordVraag, /zds/OntvangAsynchroon or "
                            "/zds/VerwerkSynchroonVrijBericht\n", status_code=404, media_type="text/plain")
        if request.method == "GET":
            if "wsdl" in request.query_params:
                variant = "resolved" if request.query_params.get("wsdl") == "resolved" else "official"
                body = (wsdl.render_bg(settings.xsd_dir, port[3:], base_url(request)) if port in BG_PORTS
                        else wsdl.render(settings.xsd_dir, port, base_url(request), variant))
                return Response(body, media_type="text/xml; charset=utf-8")
            return Response(f"{port}: POST a StUF message, or GET ?wsdl\n", media_type="text/plain")
        content_type = request.headers.get("content-type", "")
        declared = request.headers.get("content-length", "")
        # a body below the reducer's threshold cannot hold large content: read it as it is (the
        # reducer's scan costs as much as parsing); its structure is checked in C-speed counts
        small = declared.isdigit() and int(declared) < spool.THRESHOLD
        try:
            if small:
                body = await _read_small(request, limit)
                spool.check_small(body, shape)
            else:
                body = await _read_body(request, spool.reducer(
                    content_type, blob_store, max_document=max_document, max_rest=limit, shape=shape), limit)
        except ClientDisconnect:  # the caller went away mid-request: one line, nothing to answer
            log.info("client disconnected before its request was read", port=port)
            return Response(status_code=400)
        except _TooLarge:
            return await off_loop(_too_large, broker, port, content_type, limit, max_document,
                                  request.headers.get("x-correlation-id"))
        except StufError as exc:  # a document above its limit, content that is not base64, a DOCTYPE
            return await off_loop(_refused, broker, port, content_type, exc, request.headers.get("x-correlation-id"))
        transport = Transport(peer=request.client.host if request.client else None,
                              certificate=protocol.client_certificate(request.scope), headers=request.headers)
        # what the pipeline began on the loop: its group commit awaited, what blocks run in the handler pool
        answer = await broker.pipeline.begin(port, body, content_type, request.headers.get("soapaction"),
                                             transport).drive(off_loop)
        headers = {"content-type": answer.content_type, **_correlation(answer.correlation_id)}
        pieces = blob_store.expand(answer.body)  # document content kept in the file store, streamed
        if pieces is not None:
            headers["content-length"] = str(blob_store.expanded_length(answer.body))
            return StreamingResponse(pieces, status_code=answer.status, media_type=None, headers=headers)
        return Response(answer.body, status_code=answer.status, media_type=None, headers=headers)

    async def bg_endpoint(request: Request) -> Response:
        """StUF-BG (/bg/BeantwoordVraag, /bg/OntvangAsynchroon): the same path as ZDS, its own koppelvlak."""
        request.path_params["port"] = "bg/" + request.path_params["port"]
        return await soap_endpoint(request)

    async def schema(request: Request) -> Response:
        data = wsdl.schema_file(settings.xsd_dir, request.path_params["path"], allowed_schemas)
        if data is None:
            return Response("not found\n", status_code=404, media_type="text/plain")
        return Response(data, media_type="text/xml; charset=utf-8")

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = {"schemas": bool(broker.schemas.schemas)}
        try:
            await run_in_threadpool(broker.db.ping)
            checks["database"] = True
        except Exception:  # readiness reports, never raises
            checks["database"] = False
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks},
                            status_code=200 if ok else 503)

    metrics = metrics_mod.install(broker)

    async def metrics_endpoint(_: Request) -> Response:
        body, content_type = await run_in_threadpool(metrics.exposition)
        return Response(body, media_type=content_type)

    routes = [
        Route("/", landing, methods=["GET"]),
        Route("/zds/xsd/{path:path}", schema, methods=["GET"]),
        Route("/zds/{port}", soap_endpoint, methods=["GET", "POST"]),
        Route("/bg/xsd/{path:path}", schema, methods=["GET"]),
        Route("/bg/{port}", bg_endpoint, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/zgw/notificaties", notificaties.endpoint(broker), methods=["POST"]),
        Mount("/dashboard", app=create_dashboard(broker, "/dashboard")),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if broker.routes.delivery.worker_in_serve:
            broker.start_worker(in_serve=True)  # or the one a caller of this app started already
        try:
            yield
        finally:
            if broker.worker is not None:
                broker.worker.stop(wait=True)
                broker.worker = None

    app = _BrokerApp(routes=routes, lifespan=lifespan)
    app.soap_posts = {f"/zds/{port}": (soap_endpoint, port) for port in PORTS} | {
        f"/bg/{port}": (bg_endpoint, port) for port in (p.removeprefix("bg/") for p in BG_PORTS)}
    app.state.broker = broker
    return app


class _BrokerApp(Starlette):
    """Starlette, with a SOAP POST handed straight to its endpoint: the router and the middleware
    stack cost more per message than anything else outside parsing and validating
    (docs/performance.md). Everything else takes the usual way."""

    soap_posts: Mapping[str, tuple[Callable[[Request], Awaitable[Response]], str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = (self.soap_posts.get(scope["path"])
                 if scope["type"] == "http" and scope["method"] == "POST" else None)
        if found is None:
            await super().__call__(scope, receive, send)
            return
        endpoint, port = found
        scope["app"] = self
        scope["path_params"] = {"port": port}
        try:
            response = await endpoint(Request(scope, receive, send))
        except Exception:  # as Starlette's ServerErrorMiddleware would: a 500, and the traceback logged
            log.exception("a SOAP request failed outside the pipeline")
            response = Response("Internal Server Error", status_code=500, media_type="text/plain")
        await response(scope, receive, send)


def _correlation(correlation_id: str | None) -> dict[str, str]:
    """The request's correlation id, answered in X-Correlation-ID (broker.logging)."""
    return {"x-correlation-id": correlation_id} if correlation_id else {}


def _too_large(broker: Broker, port: str, content_type: str, limit: int, max_document: int,
               correlation: str | None = None) -> Response:
    """HTTP 413 with a well-formed SOAP fault; the body is not read further and only the fact is logged."""
    error = RequestRejected(
        "StUF055",
        "Het bericht is groter dan deze broker aanneemt",
        f"berichten tot {limit} bytes (limits.max_body_bytes), documenten daarin tot {max_document} bytes "
        "(limits.max_document_bytes)",
        http_status=413,
    )
    return _refused(broker, port, content_type, error, correlation)


def _refused(broker: Broker, port: str, content_type: str, error: StufError, correlation: str | None = None
             ) -> Response:
    """A request refused while its body was read: the fault, and the connection closed (the rest of
    the body is not read)."""
    answer = broker.pipeline.reject(port, content_type, error, correlation)
    return Response(answer.body, status_code=answer.status,
                    headers={"content-type": answer.content_type, "connection": "close",
                             **_correlation(answer.correlation_id)})
