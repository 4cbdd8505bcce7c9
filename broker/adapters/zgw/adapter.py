"""The ZGW adapter itself: its options, and the zaaksysteem built from its parts (see the package)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field

from broker.adapters.deps import AdapterDeps
from broker.adapters.options import HttpUrl, Options, Timeout, parse
from broker.adapters.zgw.besluiten import BesluitenMixin
from broker.adapters.zgw.catalogi import Catalogi
from broker.adapters.zgw.client import Recorded, ZgwClient, ZgwError, ZgwSettings
from broker.adapters.zgw.documenten import DocumentenMixin
from broker.adapters.zgw.identificaties import Identificaties
from broker.adapters.zgw.notificaties import NotificatiesMixin, NotificatiesOptions
from broker.adapters.zgw.own_writes import OwnWrites
from broker.adapters.zgw.steps import StepStore
from broker.adapters.zgw.zaken import ZakenMixin
from broker.adapters.zgw.zaken_lezen import ZakenLezenMixin
from broker.config import BrokerSettings
from broker.errors import AdapterError, ConfigError, ConfigProblem, StufError
from broker.mappings.mapping import MappingSet, MappingView
from broker.model.ports import Context, Health
from broker.store.blobs import BlobStore


class ZgwOptions(Options):
    """The options of a ``zgw`` target in routes.yaml."""

    zaken_url: HttpUrl
    catalogi_url: HttpUrl
    documenten_url: HttpUrl
    besluiten_url: HttpUrl
    client_id: str = Field(min_length=1)
    secret: str | None = None
    secret_env: str | None = None
    timeout: Timeout = 10.0
    large_document_bytes: int = Field(4 * 1024 * 1024, ge=1)
    catalogi_cache_seconds: float = Field(300.0, ge=0)
    mappings: list[str] | None = None
    identificaties: dict[str, str] = {}
    #: subscribe to the Notificaties API: changes made directly in the ZGW APIs are told to the
    #: subscribers (broker.adapters.zgw.notificaties)
    notificaties: NotificatiesOptions | None = None

    def resolved_secret(self) -> str:
        if self.secret_env:
            value = os.environ.get(self.secret_env)
            if not value:
                raise ValueError(f"environment variable {self.secret_env} (secret_env) is not set")
            return value
        if self.secret is None:
            raise ValueError("give secret or secret_env")
        return self.secret


def parse_options(name: str, options: dict[str, Any], where: str = "routes.yaml") -> ZgwOptions:
    """The options checked like every adapter's (broker.adapters.options), and the secret resolved."""
    parsed = parse(ZgwOptions, name, options, where)
    try:
        parsed.resolved_secret()
        if parsed.notificaties is not None:
            parsed.notificaties.resolved_auth()
    except ValueError as exc:
        raise ConfigError([ConfigProblem(where, None, f"target {name!r} (zgw): {exc}")]) from None
    return parsed


class ZgwZaaksysteem(ZakenMixin, ZakenLezenMixin, DocumentenMixin, BesluitenMixin, NotificatiesMixin):
    """:class:`broker.model.ports.Zaaksysteem` on the ZGW APIs."""

    def __init__(self, name: str, client: ZgwClient, catalogi: Catalogi, mappings: MappingSet | MappingView,
                 settings: BrokerSettings, identificaties: Identificaties | None, steps: StepStore | None = None,
                 large_document_bytes: int = 4 * 1024 * 1024, files_dir: Path | None = None) -> None:
        self.name = name
        self.blobs = BlobStore(files_dir) if files_dir is not None else None
        self.client = client
        self.catalogi = catalogi
        self.mappings = mappings
        self.settings = settings
        self.identificaties = identificaties
        self.steps = steps
        self.large_document_bytes = large_document_bytes

    def genereer_identificatie(self, ctx: Context, soort: str) -> str:
        if self.identificaties is None:
            raise StufError("StUF058", "Dit doel genereert geen identificaties", plek="server")
        if self.identificaties.reserved(soort):
            return self._reserve(ctx, soort)
        return self.identificaties.next(soort)

    #: Open Zaak's reservation endpoints (experimental extensions of the Zaken and Documenten APIs)
    _RESERVATION = {"zaak": ("zaken", "zaaknummer_reserveren", "zaaknummer"),
                    "document": ("documenten", "documentnummer_reserveren", "identificatie")}

    def _reserve(self, ctx: Context, soort: str) -> str:
        """An identificatie the target reserves for the zaak or document that will be created with it."""
        api, path, field = self._RESERVATION[soort]
        work = self._work(ctx)
        try:
            answer = self.client.post(self.client.url(api, path), {"bronorganisatie": self._rsin(work)}, work.user)
        except ZgwError as exc:
            if exc.status in (404, 405):
                raise StufError("StUF058", f"Het doel reserveert geen {soort}identificaties",
                                f"{exc}; /{path} is an Open Zaak extension of the ZGW APIs: give a template "
                                f"for identificaties.{soort} in routes.yaml", plek="server") from None
            raise
        reserved = answer[0] if isinstance(answer, list) else answer
        value = reserved.get(field) if isinstance(reserved, dict) else None
        if not value:
            raise ZgwError(f"POST /{path}: the answer holds no {field}", status=201, retryable=False,
                           fault=StufError("StUF058", f"Het doel gaf geen {soort}identificatie terug",
                                           f"POST /{path} answered without {field}", plek="server"))
        value = str(value)
        if soort == "zaak" and self.settings.checks.identificatie_prefix \
                and not value.startswith(self.settings.gemeentecode):
            # the sender would send it back in creeerZaak, where the RGBZ check refuses it
            raise StufError("StUF058", "Het doel reserveerde een zaakidentificatie die niet met de gemeentecode "
                            "begint", f"{value} (RGBZ: the first four positions are the gemeentecode "
                            f"{self.settings.gemeentecode}); give a template for identificaties.zaak, or set "
                            "checks.identificatie_prefix: false in broker.yaml to accept the target's numbers",
                            plek="server")
        return value

    def delivered(self, ctx: Context) -> None:
        """The message's delivery completed: it never runs again, so its recorded steps go."""
        if self.steps is not None and ctx.message_id is not None and ctx.steps:
            self.steps.clear(ctx.message_id)

    def check(self) -> Health:
        try:
            self.client.get(self.client.url("catalogi", "catalogussen"))
        except AdapterError as exc:
            return Health(False, str(exc))
        return Health(True, "ZGW APIs reachable")

    def close(self) -> None:
        self.client.close()


def build(name: str, deps: AdapterDeps, options: dict[str, Any], *, transport: httpx.BaseTransport | None = None,
          record: Callable[[Recorded], None] | None = None) -> ZgwZaaksysteem:
    """The adapter from routes.yaml options (``transport``/``record``: a preview without network)."""
    opts = parse_options(name, options, str(deps.config_dir / "routes.yaml"))
    settings = ZgwSettings(urls={"zaken": opts.zaken_url, "catalogi": opts.catalogi_url,
                                 "documenten": opts.documenten_url, "besluiten": opts.besluiten_url},
                           client_id=opts.client_id, secret=opts.resolved_secret(), timeout=opts.timeout)
    client = ZgwClient(settings, transport=transport, record=record)
    mappings: MappingSet | MappingView = deps.mappings
    if opts.mappings is not None:
        mappings = deps.mappings.only([f"mappings/{n}" if not n.startswith("mappings/") else n
                                       for n in opts.mappings])
    database = deps.db
    identificaties = (Identificaties(database, deps.settings.gemeentecode, opts.identificaties)
                      if database is not None else None)
    steps = StepStore(database, name) if database is not None else None
    adapter = ZgwZaaksysteem(name, client, Catalogi(client, opts.catalogi_cache_seconds), mappings,
                             deps.settings, identificaties, steps, opts.large_document_bytes,
                             files_dir=deps.files_dir)
    adapter.notificaties = opts.notificaties
    if opts.notificaties is not None and database is not None:  # its own writes recognised in notifications
        client.written = OwnWrites(database, name)
    return adapter
