"""``POST /zgw/notificaties``: the callback the broker gives the ZGW Notificaties API in its abonnement
(broker.adapters.zgw.notificaties). The body is read within a small limit and handed to
broker.notificaties.receiver in a handler thread (it reads the ZGW APIs back); 204 when accepted,
403 when the Authorization header is not an abonnement's ``auth``, 400 for a body that is no
notification, 503 when the ZGW APIs could not be read for now (the Notificaties API tries again), 422
when the change cannot be told (logged: e.g. a zaaktype the mappings do not know)."""

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
        except AdapterError as exc:
            log.warning("notification not handled", error=str(exc), retryable=exc.retryable)
            if exc.retryable:
                return JSONResponse({"detail": "the ZGW APIs could not be read; try again"}, status_code=503)
            return JSONResponse({"detail": f"not handled: {exc}"}, status_code=422)
        except StufError as exc:  # e.g. a zaaktype the mappings do not know: sending it again will not help
            log.warning("notification not handled", foutcode=exc.code, error=exc.omschrijving)
            return JSONResponse({"detail": f"not handled: {exc.omschrijving}"}, status_code=422)
        if outcome.status == 204:
            return Response(status_code=204)
        return JSONResponse({"detail": outcome.detail}, status_code=outcome.status)

    return notificaties
