"""Afnemers: applications told, as StUF-BG ``npsLk01``, of changes to the persons they hold an
afnemerindicatie for.

An afnemer is an application of ``applications.yaml`` with an ``afnemer:`` block
(broker.mappings.applications.Afnemer). :class:`Afnemers` keeps one :class:`AfnemerTarget` per afnemer,
rebuilt when a new version of the registry is taken into use (one whose block did not change keeps its
object). A person source's npsLk01 gets a queued delivery for every afnemer holding an indicatie for
that person (broker.routing.afnemers); the queue delivers them in per-person order.

One delivery sends one kennisgeving (broker.bg.kennisgevingen: the source's npsLk01 addressed to the
afnemer) to its OntvangAsynchroon endpoint, authenticated as configured (broker.adapters.outbound,
shared with the ZDS subscribers), and expects Bv03. Its referentienummer and tijdstipBericht are made at
the first attempt and kept with the delivery (a step), so a retry sends the very same message. Before
every attempt the target asks whether the afnemer still holds an indicatie for the person: when it was
removed meanwhile the kennisgeving is not sent and the queue cancels the delivery (:class:`Withdrawn`).
After a V (the person left the source) is acknowledged, the afnemer's indicaties for the person lapse.

The adapter never logs the person: the BSN is read from the message, used and dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import structlog

from broker.adapters.http import HttpErrors, calling, correlation_headers, describe
from broker.adapters.outbound import client_options, read_answer, usernametoken_header
from broker.adapters.targets import DeliveryRequest, acknowledgement, default_retryable
from broker.bg import kennisgevingen
from broker.errors import AdapterError
from broker.mappings.applications import Afnemer, Application, Applications
from broker.model.ports import Context, Health
from broker.stuf import ns, soap
from broker.stuf.stuurgegevens import Systeem, new_referentienummer, now_tijdstip
from broker.zds.request import ZdsAnswer

log = structlog.get_logger("broker.afnemers")

#: the target name of an afnemer's deliveries: ``afnemer:<organisatie>/<applicatie>``
PREFIX = "afnemer:"
#: the delivery step that keeps the kennisgeving's referentienummer and tijdstipBericht
STEP = "kennisgeving"

#: (BSN, application) -> whether it holds an afnemerindicatie for that person now
Holds = Callable[[str, Application], bool]
#: (BSN, application): its indicaties for that person lapse (a V about the person was acknowledged)
Lapse = Callable[[str, Application], None]


class Withdrawn(AdapterError):
    """The afnemer holds no indicatie for the person any more: nothing is sent, the delivery is
    cancelled (broker.queue.engine reads ``withdrawn``)."""

    withdrawn = True

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def target_name(app: Application) -> str:
    return f"{PREFIX}{app.name}"[:60]


class AfnemerTarget(HttpErrors):
    shares_transaction = False

    def __init__(self, app: Application, own: Systeem, holds: Holds, lapse: Lapse) -> None:
        assert app.afnemer is not None
        self.app = app
        self.config: Afnemer = app.afnemer
        self.name = target_name(app)
        self.own = own
        self.holds = holds
        self.lapse = lapse
        self.http = httpx.Client(timeout=self.config.timeout, headers={"User-Agent": "stuf-broker"},
                                 **client_options(self.config.authentication, self.config.ca_file))

    def kennisgeving(self, request: DeliveryRequest, ctx: Context) -> bytes:
        """The SOAP envelope this afnemer gets for ``request`` (the same at every attempt)."""
        made = ctx.step_done(STEP)
        if not made:
            made = {"referentienummer": new_referentienummer(), "tijdstipBericht": now_tijdstip()}
            ctx.mark_step(STEP, made)  # before sending: a retry sends the same (§4.4.3)
        to = kennisgevingen.Addressing(zender=self.own, ontvanger=self.app.systeem,
                                       referentienummer=made["referentienummer"],
                                       tijdstip_bericht=made["tijdstipBericht"])
        env = soap.envelope(self.config.soap_version, kennisgevingen.render(request.zds.body, to))
        security = usernametoken_header(self.config.authentication)
        if security is not None:
            header = env.makeelement(ns.q(ns.namespace(env.tag), "Header"))
            header.append(security)
            env.insert(0, header)
        return soap.to_bytes(env)

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        mutatiesoort, bsn = kennisgevingen.person(request.zds.body)
        if not self.holds(bsn, self.app):
            raise Withdrawn(f"{self.name}: geen afnemerindicatie meer voor deze persoon; niet verzonden")
        envelope = self.kennisgeving(request, ctx)
        headers = {"Content-Type": soap.content_type(self.config.soap_version),
                   "SOAPAction": f'"{kennisgevingen.NPS_LK01_ACTION}"', **correlation_headers()}
        where = f"{self.name}: POST npsLk01"
        with calling(where, self.config.timeout):
            response = self.http.post(self.config.url, content=envelope, headers=headers)
        answer = read_answer(response, where, type(self), fault_where=self.name)
        if ns.local(answer.tag) != "Bv03Bericht":
            raise AdapterError(f"{where}: answered {ns.local(answer.tag)} instead of Bv03", retryable=False,
                               target_answer=response.text[:20000])
        if mutatiesoort == "V":  # the person left the source: the indicatie lapses (stuf-bg-primer §6)
            self.lapse(bsn, self.app)
            log.info("afnemerindicatie lapsed after a V", afnemer=self.app.name)
        return ZdsAnswer(answer)

    def check(self) -> Health:
        try:
            r = self.http.get(self.config.url, params={"wsdl": ""}, timeout=min(self.config.timeout, 5))
            return Health(r.status_code < 500, f"HTTP {r.status_code}")
        except httpx.RequestError as exc:
            return Health(False, describe(exc, min(self.config.timeout, 5)))

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)

    def close(self) -> None:
        self.http.close()


class Afnemers:
    """The afnemers of the registry in use, as targets; follows hot reloads of applications.yaml."""

    def __init__(self, applications: Applications, own: Systeem, holds: Holds, lapse: Lapse) -> None:
        self.applications = applications
        self.own = own
        self.holds = holds
        self.lapse = lapse
        self._lock = threading.Lock()
        self._model: object = None
        self._targets: dict[str, AfnemerTarget] = {}
        #: targets of an earlier version, closed with the broker (a delivery may still be on one)
        self.retired: list[AfnemerTarget] = []

    def _current(self) -> dict[str, AfnemerTarget]:
        model = self.applications.settings
        if model is self._model:
            return self._targets
        with self._lock:
            if model is not self._model:
                built: dict[str, AfnemerTarget] = {}
                for app in self.applications.afnemers:
                    name = target_name(app)
                    old = self._targets.get(name)
                    if old is not None and old.config == app.afnemer and old.app.systeem == app.systeem:
                        built[name] = old
                    else:
                        built[name] = AfnemerTarget(app, self.own, self.holds, self.lapse)
                self.retired += [t for n, t in self._targets.items() if built.get(n) is not t]
                self._targets, self._model = built, model
        return self._targets

    def get(self, name: str) -> AfnemerTarget | None:
        return self._current().get(name) if name.startswith(PREFIX) else None

    def names(self) -> list[str]:
        return list(self._current())

    def for_holders(self, holders: list[Systeem]) -> list[AfnemerTarget]:
        """The active afnemers among the applications that hold the indicaties ``holders`` (each once,
        in registry order)."""
        return [t for t in self._current().values()
                if t.config.active and any(t.app.is_zender(h) for h in holders)]

    def close(self) -> None:
        for target in [*self._targets.values(), *self.retired]:
            target.close()


class PersonMutations:
    """The primary target of a person source's npsLk01: the broker takes the mutation in (the message
    and its deliveries to the afnemers are stored in the request's transaction) and answers Bv03. The
    person sources themselves are not changed: the embedded register is a seed, the BRP is read only."""

    name = "personen-mutaties"
    shares_transaction = True

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        return acknowledgement(request)

    def check(self) -> Health:
        return Health(True, "in the broker")

    def retryable(self, exc: BaseException) -> bool:
        return False
