"""``ZGWFake``: the loopback ZGW server (Zaken, Catalogi, Documenten, Besluiten).

Typical use in a test::

    with ZGWFake(clients=[("broker", "secret")]) as fake:
        zt = fake.add_zaaktype("B1026", statustypen=[(1, "Ontvangen"), (2, "Afgehandeld")],
                               roltypen=[("initiator", "Aanvrager")])
        ...  # point the broker at fake.url("zaken") etc. and run it
        assert fake.violations == []
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import pipeline
from .auth import JWTAuth, make_token
from .failures import FailurePlan
from .notificaties import Notificaties
from .resources import Call
from .resources import documenten as documenten_resource
from .resources import zaken as zaken_resource
from .seed import CatalogSeeder, SeededZaaktype
from .specs import APIS, EXTENSIONS, SpecSet, base_path, load_extension, load_notificaties, load_specs
from .state import KIND_API, Store, public
from .validation import Operation

DEFAULT_CLIENTS = (("stuf-broker", "stuf-broker-secret"),)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class ZGWFake:
    """A ZGW API server on 127.0.0.1 that validates all traffic against the specs."""

    def __init__(
        self,
        clients: Iterable[tuple[str, str]] | Mapping[str, str] = DEFAULT_CLIENTS,
        *,
        spec_dir: str | os.PathLike[str] | None = None,
        documenten_version: str = "1.4.2",
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = 100,
        chunk_size: int = 4 * 1024**3,
        jwt_expiry: int = 3600,
        jwt_leeway: int = 0,
    ) -> None:
        self.specs: SpecSet = load_specs(spec_dir, {"documenten": documenten_version})
        #: Open Zaak's extension endpoints (/zaaknummer_reserveren, /documentnummer_reserveren),
        #: checked against Open Zaak's own published spec of the API
        self.extensions = {api: spec for api in EXTENSIONS
                           if (spec := load_extension(spec_dir, api)) is not None}
        #: set False to behave like a server with only the standard ZGW APIs
        self.open_zaak_extensions = True
        self.auth = JWTAuth(clients, expiry=jwt_expiry, leeway=jwt_leeway)
        #: set False to accept requests without a valid JWT
        self.check_auth = True
        #: page size of every paginated list
        self.page_size = page_size
        #: size of each bestandsdeel handed out for uploads in parts
        self.chunk_size = chunk_size
        #: Open Zaak refuses an eindstatus while the zaak has no resultaat
        self.eindstatus_requires_resultaat = True
        #: check RSINs (bronorganisatie, verantwoordelijkeOrganisatie, ...) with the 11-proef
        self.check_rsin = True
        #: allow ``unlock`` without the lock id (Open Zaak: scope documenten.geforceerd-unlock)
        self.force_unlock_allowed = False

        self.host = host
        sock = self._bind(host, port)
        self._socket: socket.socket | None = sock
        self.port: int = sock.getsockname()[1]
        self.root_url = f"http://{host}:{self.port}"
        self.store = Store(self.root_url)
        self.catalog = CatalogSeeder(self.store, self.specs["catalogi"])
        self.failures = FailurePlan()
        #: the Notificaties API: abonnementen, and a notification of every write sent to them
        self.notificaties = Notificaties(self, load_notificaties(spec_dir))

        #: every request received: (method, path, query dict, JSON body or None)
        self.requests: list[pipeline.RecordedRequest] = []
        #: (method, path, status) of every response sent
        self.responses: list[pipeline.RecordedResponse] = []
        #: readable descriptions of every spec violation (requests and responses)
        self.violations: list[str] = []
        #: requests refused for authentication (403), with the reason
        self.auth_failures: list[str] = []
        #: spec operations that were called but the fake does not implement (501)
        self.unsupported: list[str] = []

        self.app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=_METHODS)])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------
    @staticmethod
    def _bind(host: str, port: int) -> socket.socket:
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted
        # sockets whose proto says TCP; without it every keep-alive request
        # waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
        return sock

    async def _endpoint(self, request: Request) -> Response:
        return await pipeline.handle(self, request)

    def start(self) -> ZGWFake:
        """Start serving in a background thread (returns when it accepts connections)."""
        if self._thread is not None:
            return self
        if self._socket is None:  # restarted after down("refuse")
            self._socket = self._bind(self.host, self.port)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        sock = self._socket
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                  name=f"zgw-fake:{self.port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError("the ZGW fake did not start")
            time.sleep(0.005)
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> ZGWFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.notificaties.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- addresses and credentials ---------------------------------------
    def url(self, api: str) -> str:
        """Base URL of an API, e.g. ``http://127.0.0.1:PORT/zaken/api/v1`` (also ``notificaties``)."""
        if api == "notificaties":
            return self.notificaties.url()
        if api not in APIS:
            raise ValueError(f"unknown API {api!r}; choose from {APIS}")
        return self.root_url + base_path(api)

    def token(self, client_id: str | None = None, **claims: Any) -> str:
        """A valid JWT for a configured client (the first one by default)."""
        cid = client_id or next(iter(self.auth.secrets))
        return make_token(cid, self.auth.secrets[cid], **claims)

    def auth_headers(self, api: str | None = None, client_id: str | None = None) -> dict[str, str]:
        """Headers a well-behaved client sends (with CRS headers for the Zaken API)."""
        headers = {"Authorization": f"Bearer {self.token(client_id)}"}
        if api in (None, "zaken"):
            headers.update({"Accept-Crs": pipeline.CRS, "Content-Crs": pipeline.CRS})
        return headers

    # -- failure injection -----------------------------------------------
    def fail_next(self, n: int = 1, status: int = 500, path_contains: str | None = None,
                  method: str | None = None) -> None:
        """Fail the next ``n`` matching requests with ``status`` and a ``Fout`` body."""
        self.failures.add(n, status, path_contains, method)

    def lose_next(self, n: int = 1, hold_seconds: float = 2.0, path_contains: str | None = None,
                  method: str | None = None) -> None:
        """Carry out the next ``n`` matching requests but hold their answers back for ``hold_seconds``
        (longer than the client's timeout): the client cannot know whether they took effect."""
        self.failures.add_lost(n, hold_seconds, path_contains, method)

    def down(self, mode: str = "503") -> None:
        """Refuse all requests: ``"503"`` answers 503, ``"refuse"`` stops listening."""
        if mode not in ("503", "refuse"):
            raise ValueError("mode is '503' or 'refuse'")
        self.failures.down_mode = mode
        if mode == "refuse":
            self.stop()

    def up(self) -> None:
        """Undo :meth:`down`."""
        mode, self.failures.down_mode = self.failures.down_mode, None
        if mode == "refuse":
            self.start()

    # -- seeding the catalogue -------------------------------------------
    def seed_catalogus(self, **fields: Any) -> str:
        """Create a catalogus (``domein``, ``rsin``, ``naam``, ...); returns its URL."""
        with self.store.lock:
            return self.catalog.catalogus(**fields)

    def add_zaaktype(self, identificatie: str, omschrijving: str = "", **kwargs: Any) -> SeededZaaktype:
        """Create a zaaktype with its status-, rol-, informatieobject-, resultaat-
        and besluittypen; see :meth:`CatalogSeeder.zaaktype` for the options."""
        with self.store.lock:
            return self.catalog.zaaktype(identificatie, omschrijving, **kwargs)

    def add_informatieobjecttype(self, omschrijving: str, **kwargs: Any) -> str:
        with self.store.lock:
            return self.catalog.informatieobjecttype(omschrijving, **kwargs)

    def add_besluittype(self, omschrijving: str, **kwargs: Any) -> str:
        with self.store.lock:
            return self.catalog.besluittype(omschrijving, **kwargs)

    # -- inspection -------------------------------------------------------
    def _internal_call(self, api: str) -> Call:
        return Call(fake=self, api=api, spec=self.specs[api], operation=Operation("", "", {}, {}),
                    path_params={}, query=[], body=None, form=None, list_url=self.url(api))

    def _render(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        if kind == "zaken":
            return zaken_resource.render(self._internal_call("zaken"), obj)
        if kind == "enkelvoudiginformatieobjecten":
            return documenten_resource.render(self._internal_call("documenten"), obj)
        return public(obj)

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """The stored resources of a kind (``"zaken"``, ``"rollen"``, ...) as the API shows them."""
        if kind not in KIND_API:
            raise ValueError(f"unknown kind {kind!r}")
        with self.store.lock:
            return [self._render(kind, obj) for obj in self.store.all(kind)]

    def get(self, url: str) -> dict[str, Any] | None:
        """The resource at ``url`` as the API shows it, or None."""
        with self.store.lock:
            parsed = self.store.parse_url(url)
            obj = self.store.get(*parsed) if parsed else None
            return self._render(parsed[0], obj) if parsed and obj is not None else None

    def document_content(self, url: str, versie: int | None = None) -> bytes | None:
        """The bytes stored for a document (current or a given version)."""
        with self.store.lock:
            doc = self.store.resolve(url, "enkelvoudiginformatieobjecten")
            return None if doc is None else documenten_resource.content_of(doc, versie)

    def calls(self, method: str | None = None, path_contains: str | None = None) -> list[pipeline.RecordedRequest]:
        """Recorded requests filtered by method and/or a substring of the path."""
        return [
            r for r in list(self.requests)
            if (method is None or r.method == method.upper())
            and (path_contains is None or path_contains in r.path)
        ]

    def clear_log(self) -> None:
        """Forget recorded requests, responses, violations and auth failures."""
        self.requests.clear()
        self.responses.clear()
        self.violations.clear()
        self.auth_failures.clear()
        self.unsupported.clear()

    def reset(self) -> None:
        """Forget all data (including the catalogue), the log and planned failures."""
        with self.store.lock:
            self.store.clear()
        self.failures.clear()
        self.clear_log()
