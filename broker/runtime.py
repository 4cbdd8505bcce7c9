"""The running broker: every component built once at start-up, in dependency order.

Start-up refuses, with a clear message, when the installed schemas are missing or altered, when a
schema does not compile, or when a configuration file is invalid (file:line).
"""

from __future__ import annotations

import os
import time
from typing import Any

import structlog
from lxml import etree
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError

from broker import services
from broker.adapters import personen_register, registry
from broker.adapters.deps import AdapterDeps
from broker.adapters.subscriber import Subscribers
from broker.adapters.targets import Target
from broker.admin.preview import Previewer
from broker.bg.operations import ELEMENTS_SERVED as BG_ELEMENTS_SERVED
from broker.config import MANIFEST, Settings
from broker.errors import BrokerError, ConfigError
from broker.intake.callers import Authenticator
from broker.intake.pipeline import Pipeline
from broker.intake.rebuild import StoredRequests
from broker.mappings.store import ConfigStore, Refresher
from broker.notificaties.receiver import NotificatieReceiver
from broker.queue.engine import Queue
from broker.queue.worker import Worker
from broker.routing import afnemers
from broker.routing.config import RoutesFile, load_routes
from broker.routing.reload import RoutesReloader
from broker.routing.router import Router
from broker.store.db import Database
from broker.stuf import ns
from broker.stuf.schemas import SchemaSet, Served
from broker.stuf.stuurgegevens import Systeem
from broker.stuf.xsd_install import verify_installed
from broker.zds.kern import SchemaModel
from broker.zds.operations import zkn_elements_served

log = structlog.get_logger("broker")

#: what the broker compiles of the official schemas (broker.stuf.schema_pruning): every ZDS 1.2
#: message, and of StUF-ZKN and StUF-BG the messages it takes and answers with
SERVED: Served = {ns.ZDS: None, ns.ZKN: zkn_elements_served(), ns.BG: BG_ELEMENTS_SERVED}


def _refresh_seconds() -> float:
    """How often each process looks for configuration versions saved elsewhere (default 5 s)."""
    return float(os.environ.get("STUF_BROKER_CONFIG_REFRESH_SECONDS", "5"))


def compile_served(settings: Settings) -> SchemaSet | None:
    """The served schemas compiled ahead of a :class:`Broker`, for ``serve`` to compile once in the
    process its workers are forked from (they share the compiled schemas' pages), while its check runs
    apart. None when the set did not compile before with this lxml (the check compiles it then, and
    records that), is not the installed set of the manifest, or does not compile now: the check then
    reports what is wrong."""
    try:
        verify_installed(settings.xsd_dir, MANIFEST)
        if not SchemaSet.compiled_before(settings.xsd_dir, MANIFEST, SERVED):
            return None
        return SchemaSet(settings.xsd_dir, manifest=MANIFEST, served=SERVED)
    except (BrokerError, etree.LxmlError):
        return None


def prepare_workers(settings: Settings) -> SchemaSet | None:
    """What every worker of ``serve`` needs, made once in the process they are forked from (they
    start with it instead of each making its own): the served schemas (:func:`compile_served`, which
    this returns), the service modules, the database driver, the adapters' plugins, the seeds of
    embedded person registers.
    Nothing here reports a problem: the check, running apart meanwhile, does."""
    schemas = compile_served(settings)
    services.load_all()
    try:  # the database's driver imported, not connected (psycopg and its dialect: about 0.15 s)
        create_engine(settings.database_url).dispose()
    except Exception:  # a wrong URL is the check's to report
        pass
    try:
        routes = load_routes(settings.config_dir, sorted(registry.available()))
    except BrokerError:
        return schemas
    for target in routes.targets.values():
        if target.adapter == "personen-register":
            personen_register.preload(settings.config_dir, target.options)
    return schemas


class Broker:
    """``check_only``: built to check the schemas and the configuration (and migrate) and closed right
    away, as ``serve`` does before it starts its worker processes: schemas that compiled before with
    this lxml (broker.stuf.xsd_cache) are left to the workers instead of being compiled twice."""

    def __init__(self, settings: Settings, *, migrate_db: bool = True, check_only: bool = False,
                 schemas: SchemaSet | None = None) -> None:
        start = time.perf_counter()
        self.settings = settings
        verify_installed(settings.xsd_dir, MANIFEST)
        if schemas is not None and schemas.root_dir == settings.xsd_dir:
            self.schemas = schemas  # compiled by serve, before it forked this worker (:func:`compile_served`)
        else:
            eager = not (check_only and SchemaSet.compiled_before(settings.xsd_dir, MANIFEST, SERVED))
            self.schemas = SchemaSet(settings.xsd_dir, manifest=MANIFEST, eager=eager, served=SERVED)
        self.schema_model = SchemaModel(settings.xsd_dir)
        self.db = Database(settings.database_url, threads=settings.broker.server.handler_threads)
        if migrate_db:
            from broker.store import migrate  # Alembic: not imported by workers that do not migrate

            migrate.upgrade(self.db)
        # the editable configuration (zaaktypecatalogus, mappings): versioned in the database and
        # hot-reloaded into these objects (broker.mappings.store)
        self.config_store = ConfigStore(self.db, settings.config_dir)
        self.catalogus = self.config_store.catalogus
        self.mappings = self.config_store.mappings
        self.handlers = services.load_all()
        self.routes = load_routes(settings.config_dir, sorted(registry.available()))
        deps = AdapterDeps(settings=settings.broker, config_dir=settings.config_dir, db=self.db,
                           catalogus=self.catalogus, mappings=self.mappings, schema_model=self.schema_model,
                           files_dir=settings.files_dir, handlers=self.handlers,
                           person_handlers=services.PERSON_HANDLERS)
        self.targets: dict[str, Target] = {name: self._build_target(name, td.adapter, deps, td.options)
                                           for name, td in self.routes.targets.items()}
        # subscribed applications (applications.yaml) are told of changes: broker.adapters.subscriber
        self.subscribers = Subscribers(self.config_store.applications, self.own, settings.files_dir)
        self.router = Router(self.routes, self.targets, self.subscribers)
        stored = StoredRequests(self.db, settings.broker, self.schema_model)
        self.queue = Queue(self.db, self.routes.delivery, self.targets, stored)
        self.queue.subscribers = self.subscribers
        # StUF-BG: a person source's npsLk01 goes to the afnemers with an indicatie (broker.routing.afnemers)
        self.router.distribution = afnemers.build(self.config_store.applications, self.own, self.db, settings.files_dir)
        self.queue.afnemers = self.router.distribution.afnemers
        self.pipeline = Pipeline(settings=settings.broker, schemas=self.schemas, schema_model=self.schema_model,
                                 db=self.db, router=self.router, queue=self.queue, own=self.own,
                                 wake_worker=self.wake_worker,
                                 authenticator=Authenticator(self.config_store.applications, self.db))
        # changes made in Open Zaak, announced by the Notificaties API: broker.notificaties
        self.notificaties = NotificatieReceiver(db=self.db, queue=self.queue, subscribers=self.subscribers,
                                                targets=lambda: self.targets, own=self.own,
                                                schema_model=self.schema_model, wake_worker=self.wake_worker)
        try:
            self.queue.ensure_circuits()
        except IntegrityError:  # another process created them at the same moment
            pass
        self.worker: Worker | None = None
        self.config_store.previewer = Previewer(settings, self.schemas, self.schema_model, self.handlers,
                                                self.routes)
        # routes.yaml is looked at on every refresh too: a valid change is taken into use, an invalid
        # one refused with its problems (broker.routing.reload)
        self.routes_reloader = RoutesReloader(
            settings.config_dir, sorted(registry.available()), self.routes, self.targets,
            lambda routes, name, adapter, options: self._build_target(name, adapter, deps, options, routes),
            self._take_over_routes, self.config_store.refuse_file, lambda name: self.config_store.refused.pop(name, None))
        self.refresher = Refresher(self.config_store, _refresh_seconds(), also=[self.routes_reloader.refresh]).start()
        log.info(
            "broker ready",
            schemas={k: round(v, 3) for k, v in self.schemas.compile_seconds.items()},
            schemas_compiled="by serve" if self.schemas is schemas else "here",
            startup_s=round(time.perf_counter() - start, 3),
            database=self.db.engine.url.render_as_string(hide_password=True),
        )

    def _build_target(self, name: str, adapter: str, deps: AdapterDeps, options: dict[str, Any],
                      routes: RoutesFile | None = None) -> Target:
        try:
            return registry.build(name, adapter, deps, options)
        except ConfigError as exc:  # about its options: say on which line of routes.yaml
            raise (routes or self.routes).locate(exc, name) from None

    def _take_over_routes(self, routes: RoutesFile, targets: dict[str, Target]) -> None:
        """A new version of routes.yaml, validated and its targets built: routes, targets and the
        delivery policy change at once."""
        self.router.take_over(routes, targets)
        self.queue.targets = targets
        self.queue.policy = routes.delivery
        self.routes, self.targets = routes, targets
        try:
            self.queue.ensure_circuits()
        except IntegrityError:  # another process created them at the same moment
            pass

    def start_worker(self, concurrency: int | None = None, *, in_serve: bool = False) -> Worker:
        """The delivery worker of this broker, started once: a second call gets the running one (a
        second worker here would be a scheduler that :meth:`close` never stops). ``in_serve``: it
        shares the process with the intake, and yields to it (delivery.worker_in_serve_share)."""
        if self.worker is not None:
            return self.worker
        pipeline = self.pipeline
        self.worker = Worker(self.queue, concurrency=concurrency,
                             intake=(lambda: pipeline.begun) if in_serve else None).start()
        self.notificaties.subscribe_in_background()  # the abonnementen at the Notificaties APIs
        return self.worker

    def wake_worker(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    @property
    def own(self) -> Systeem:
        i = self.settings.broker.identity
        return Systeem(i.organisatie, i.applicatie, i.administratie, i.gebruiker)

    def close(self) -> None:
        self.refresher.stop()
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        for target in [*self.targets.values(), *self.routes_reloader.retired]:
            close = getattr(target, "close", None)
            if close is not None:
                close()
        self.subscribers.close()
        if self.router.distribution is not None:
            self.router.distribution.afnemers.close()
        self.db.dispose()
