"""Where a person source's ``npsLk01`` goes: to every afnemer holding an afnemerindicatie for the person.

The rule that tells the two kinds of npsLk01 on ``/bg/OntvangAsynchroon`` apart is the zender: an
application registered with ``person_source: true`` in applications.yaml sends mutations, which the
broker distributes; anyone else's npsLk01 is an afnemer's, addressed to the broker, whose T places and V
removes its own indicatie (broker.services.personen, by the route of npsLk01).

A mutation's legs: :class:`broker.adapters.afnemer.PersonMutations` as the primary (the Bv03 once the
message and its deliveries are stored), then one queued leg per afnemer with an ``afnemer:`` endpoint
whose application holds an indicatie for the person now (broker.services.afnemerindicaties). An
application without an indicatie for that person gets nothing. The deliveries share an ordering key
made from the BSN with a keyed hash (HMAC-SHA256 with the file store's key, the same on every host), so
the queue keeps one person's kennisgevingen in order per afnemer without the BSN ever being in a
delivery row, a log line or the dashboard.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

import structlog
from lxml import etree
from sqlalchemy.orm import Session

from broker.adapters.afnemer import Afnemers, PersonMutations
from broker.bg import kennisgevingen
from broker.mappings.applications import Application, Applications
from broker.routing.router import Leg
from broker.services import afnemerindicaties
from broker.store.blobs import BlobStore
from broker.store.db import Database
from broker.stuf.stuurgegevens import Systeem

log = structlog.get_logger("broker.afnemers")

#: the operation a person source sends its mutations with
MUTATION = "npsLk01"


class Distribution:
    def __init__(self, applications: Applications, afnemers: Afnemers, key: Callable[[], bytes]) -> None:
        self.applications = applications
        self.afnemers = afnemers
        self.key = key
        self.primary = PersonMutations()

    def applies(self, operation: str, zender: Systeem | None) -> bool:
        """Whether this message is a person source's mutation (to distribute), not an afnemer's."""
        return operation == MUTATION and self.applications.person_source(zender)

    def ordering_key(self, bsn: str) -> str:
        digest = hmac.new(self.key(), b"nps-ordering:" + bsn.encode(), hashlib.sha256).hexdigest()
        return f"nps:{digest[:32]}"

    def plan(self, session: Session, body: etree._Element) -> tuple[list[Leg], str]:
        """The legs of a mutation and its ordering key (a StufError when it names no valid BSN)."""
        mutatiesoort, bsn = kennisgevingen.person(body)
        holders = [i.afnemer for i in afnemerindicaties.listed(session, bsn=bsn)]
        targets = self.afnemers.for_holders(holders)
        log.info("person mutation distributed", mutatiesoort=mutatiesoort, indicaties=len(holders),
                 afnemers=[t.app.name for t in targets])
        return [Leg(self.primary, "sync", True), *(Leg(t, "queued", False) for t in targets)], self.ordering_key(bsn)


def build(applications: Applications, own: Systeem, db: Database, files_dir: Path) -> Distribution:
    """The distribution of the broker: its afnemers ask the database whether they still hold an
    indicatie for a person (at every attempt) and let it lapse after a V."""

    def holds(bsn: str, app: Application) -> bool:
        with db.read() as session:
            return any(app.is_zender(i.afnemer) for i in afnemerindicaties.listed(session, bsn=bsn))

    def lapse(bsn: str, app: Application) -> None:
        with db.write() as session:
            for i in afnemerindicaties.listed(session, bsn=bsn):
                if app.is_zender(i.afnemer):
                    afnemerindicaties.remove(session, bsn, i.afnemer)

    return Distribution(applications, Afnemers(applications, own, holds, lapse), BlobStore(files_dir).key)
