"""``POST /zgw/notificaties``: the callback the broker gives the ZGW Notificaties API in its abonnement
(broker.adapters.zgw.notificaties). The body is read within a small limit and handed to
broker.notificaties.receiver in a handler thread (it reads the ZGW APIs back); 204 when accepted,
403 when the Authorization header is not an abonnement's ``auth``, 400 for a body that is no
notification, 503 when the ZGW APIs could not be read (the Notificaties API tries again)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from broker.errors import AdapterError, StufError
from broker.notificaties.receiver import MAX_BODY
from broker.runtime import Broker

log = structlog.get_logger("broker.web")


def endpoint(broker: Broker) -> Callable[[Request], Awaitable[Response]]:
    async def notificaties(request: Request) -> Response:
        body = b""
        async for piece in request.stream():
            body += piece
            if len(body) > MAX_BODY:
                return JSONResponse({"detail": "the notification is too large"}, status_code=413)
        authorization = request.headers.get("authorization")
        try:
            outcome = await run_in_threadpool(broker.notificaties.receive, authorization, body)
        except (AdapterError, StufError) as exc:
            log.warning("notification not handled", error=str(exc))
            return JSONResponse({"detail": "the ZGW APIs could not be read; try again"}, status_code=503)
        if outcome.status == 204:
            return Response(status_code=204)
        return JSONResponse({"detail": outcome.detail}, status_code=outcome.status)

    return notificaties
