"""Afnemers: applications told, as StUF-BG ``npsLk01``, of changes to the persons they hold an
afnemerindicatie for.

An afnemer is an application of ``applications.yaml`` with an ``afnemer:`` block
(broker.mappings.applications.Afnemer). :class:`Afnemers` keeps one :class:`AfnemerTarget` per afnemer,
rebuilt when a new version of the registry is taken into use (one whose block did not change keeps its
object). A person source's npsLk01 gets a queued delivery for every afnemer holding an indicatie for
that person (broker.routing.afnemers); the queue delivers them in per-person order.

One delivery sends one kennisgeving (broker.bg.kennisgevingen: the source's npsLk01 addressed to the
afnemer) to its OntvangAsynchroon endpoint, authenticated as configured (broker.adapters.outbound;
the sending is broker.adapters.kennisgeving_targets, shared with the ZDS subscribers), and expects Bv03. Its referentienummer and tijdstipBericht are made at
the first attempt and kept with the delivery (a step), so a retry sends the very same message. Before
every attempt the target asks whether the afnemer still holds an indicatie for the person: when it was
removed meanwhile the kennisgeving is not sent and the queue cancels the delivery (:class:`Withdrawn`).
After a V (the person left the source) is acknowledged, the afnemer's indicaties for the person lapse.

The adapter never logs the person: the BSN is read from the message, used and dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from broker.adapters.kennisgeving_targets import ApplicationTargets, KennisgevingTarget
from broker.adapters.targets import DeliveryRequest, acknowledgement
from broker.bg import kennisgevingen
from broker.errors import AdapterError
from broker.mappings.applications import Afnemer, Application, Applications
from broker.model.ports import Context, Health
from broker.stuf.stuurgegevens import Systeem
from broker.zds.request import ZdsAnswer

log = structlog.get_logger("broker.afnemers")

#: the target name of an afnemer's deliveries: ``afnemer:<organisatie>/<applicatie>``
PREFIX = "afnemer:"

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


class AfnemerTarget(KennisgevingTarget):
    config: Afnemer

    def __init__(self, app: Application, own: Systeem, holds: Holds, lapse: Lapse) -> None:
        assert app.afnemer is not None
        super().__init__(app, app.afnemer, target_name(app))
        self.own = own
        self.holds = holds
        self.lapse = lapse

    def kennisgeving(self, request: DeliveryRequest, ctx: Context) -> bytes:
        """The SOAP envelope this afnemer gets for ``request`` (the same at every attempt)."""
        made = self.made(ctx)
        to = kennisgevingen.Addressing(zender=self.own, ontvanger=self.app.systeem,
                                       referentienummer=made["referentienummer"],
                                       tijdstip_bericht=made["tijdstipBericht"])
        return self.envelope(kennisgevingen.render(request.zds.body, to))

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        mutatiesoort, bsn = kennisgevingen.person(request.zds.body)
        if not self.holds(bsn, self.app):
            raise Withdrawn(f"{self.name}: geen afnemerindicatie meer voor deze persoon; niet verzonden")
        answer = self.post("npsLk01", kennisgevingen.NPS_LK01_ACTION, self.kennisgeving(request, ctx))
        if mutatiesoort == "V":  # the person left the source: the indicatie lapses (stuf-bg-primer §6)
            self.lapse(bsn, self.app)
            log.info("afnemerindicatie lapsed after a V", afnemer=self.app.name)
        return ZdsAnswer(answer)


class Afnemers(ApplicationTargets[AfnemerTarget]):
    """The afnemers of the registry in use, as targets; follows hot reloads of applications.yaml."""

    prefix = PREFIX

    def __init__(self, applications: Applications, own: Systeem, holds: Holds, lapse: Lapse) -> None:
        super().__init__(applications)
        self.own = own
        self.holds = holds
        self.lapse = lapse

    def applications_of(self, applications: Applications) -> list[Application]:
        return applications.afnemers

    def block(self, app: Application) -> object:
        return app.afnemer

    def build(self, app: Application) -> AfnemerTarget:
        return AfnemerTarget(app, self.own, self.holds, self.lapse)

    def for_holders(self, holders: list[Systeem]) -> list[AfnemerTarget]:
        """The active afnemers among the applications that hold the indicaties ``holders`` (each once,
        in registry order)."""
        return [t for t in self._current().values()
                if t.config.active and any(t.app.is_zender(h) for h in holders)]


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
