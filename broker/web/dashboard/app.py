"""The dashboard as a Starlette application of its own, mounted by broker.web.app under a prefix.

It has its own middleware (the signed session cookie, scoped to the prefix), so the SOAP endpoints
never pay for sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from broker.bg.operations import OPERATIONS as BG_OPERATIONS
from broker.web.dashboard import auth, bsnindex, xmlview
from broker.web.dashboard.throttle import AddressThrottle
from broker.web.dashboard.views import actions, afnemers, mappings, messages, overview, records, session, targets, users
from broker.web.dashboard.views.common import error_page, templates
from broker.zds.operations import OPERATIONS

if TYPE_CHECKING:  # the broker is built by broker.runtime, which the dashboard does not need at run time
    from broker.runtime import Broker

STATIC = Path(__file__).resolve().parent / "static"
_STATIC_FILES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
COOKIE = "stuf_broker_session"
SESSION_SECONDS = 8 * 3600


@dataclass
class Dashboard:
    broker: Broker
    prefix: str
    templates: Jinja2Templates
    operations: list[str]
    #: the key of the BSN index (broker.web.dashboard.bsnindex)
    bsn_key: bytes = b""
    #: failed sign-ins per client address (broker.web.dashboard.throttle)
    login_throttle: AddressThrottle = field(default_factory=AddressThrottle)


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name == "pygments.css":
        return Response(xmlview.stylesheet(), media_type="text/css",
                        headers={"Cache-Control": "max-age=3600"})
    if name not in _STATIC_FILES:
        return Response("not found\n", status_code=404, media_type="text/plain")
    return Response((STATIC / name).read_bytes(), media_type=_STATIC_FILES[name],
                    headers={"Cache-Control": "max-age=3600"})


def create_dashboard(broker: Broker, prefix: str = "/dashboard") -> Starlette:
    settings = broker.settings
    secret = auth.session_secret(settings.data_dir)
    public = settings.broker.server.public_url or ""
    routes = [
        Route("/", overview.show, methods=["GET"]),
        Route("/login", session.login_form, methods=["GET"]),
        Route("/login", session.login, methods=["POST"]),
        Route("/logout", session.logout, methods=["POST"]),
        Route("/language", session.language, methods=["POST"]),
        Route("/messages", messages.listing, methods=["GET"]),
        Route("/messages.csv", messages.export, methods=["GET"]),
        Route("/messages/bulk-retry", actions.bulk_retry, methods=["POST"]),
        Route("/messages/bulk-cancel", actions.bulk_cancel, methods=["POST"]),
        Route("/messages/bsn", messages.bsn_search, methods=["POST"]),
        Route("/messages/{message_id:int}", messages.detail, methods=["GET"]),
        Route("/messages/{message_id:int}/raw", messages.raw, methods=["GET"]),
        Route("/deliveries/{delivery_id:int}/retry", actions.retry, methods=["POST"]),
        Route("/deliveries/{delivery_id:int}/cancel", actions.cancel, methods=["POST"]),
        Route("/targets", targets.listing, methods=["GET"]),
        Route("/targets/{name}", targets.show, methods=["GET"]),
        Route("/targets/{name}/pause", targets.pause, methods=["POST"]),
        Route("/targets/{name}/resume", targets.resume, methods=["POST"]),
        Route("/targets/{name}/retry-dead", targets.retry_dead, methods=["POST"]),
        Route("/targets/{name}/cancel-dead", targets.cancel_dead, methods=["POST"]),
        Route("/audit", records.audit_log, methods=["GET"]),
        Route("/access", records.access_log, methods=["GET"]),
        Route("/afnemers", afnemers.listing, methods=["GET"]),
        Route("/afnemers", afnemers.place, methods=["POST"]),
        Route("/afnemers/remove", afnemers.remove, methods=["POST"]),
        Route("/afnemers/zoek", afnemers.search, methods=["POST"]),
        Route("/users", users.listing, methods=["GET"]),
        Route("/users", users.add, methods=["POST"]),
        Route("/users/{username}/password", users.password, methods=["POST"]),
        Route("/users/{username}/role", users.role, methods=["POST"]),
        Route("/mappings", mappings.listing, methods=["GET"]),
        # names may hold a slash (mappings/zgw.yaml): the specific routes come first
        Route("/mappings/{name:path}/versions/{version:int}", mappings.version, methods=["GET"]),
        Route("/mappings/{name:path}/rollback", mappings.rollback, methods=["POST"]),
        Route("/mappings/{name:path}", mappings.edit, methods=["GET"]),
        Route("/mappings/{name:path}", mappings.submit, methods=["POST"]),
        Route("/static/{name}", static, methods=["GET"]),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=secret, session_cookie=COOKIE, max_age=SESSION_SECONDS,
                             path=prefix, same_site="strict",
                             # Secure whenever the broker is reached over TLS: its own listener or a proxy's
                             https_only=public.startswith("https://") or settings.broker.server.tls is not None)]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={404: error_page, 405: error_page, 500: error_page})
    app.state.dashboard = Dashboard(broker, prefix, templates(),
                                    sorted(op.name for op in (*OPERATIONS, *BG_OPERATIONS)),
                                    bsn_key=bsnindex.index_key(settings.data_dir))
    return app
