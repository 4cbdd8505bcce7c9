"""Choosing the targets of a message: the first route of routes.yaml that matches wins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from broker.adapters.subscriber import Subscribers
from broker.adapters.targets import Target
from broker.bg.operations import NAMES as BG_NAMES
from broker.errors import StufError
from broker.routing.config import RoutesFile
from broker.routing.tables import ZaakRoute
from broker.store.db import Executor
from broker.stuf.stuurgegevens import Systeem

if TYPE_CHECKING:
    from broker.routing.afnemers import Distribution


@dataclass(frozen=True)
class Leg:
    target: Target
    mode: str  # sync | queued
    primary: bool


class Router:
    def __init__(self, routes: RoutesFile, targets: dict[str, Target], subscribers: Subscribers | None = None) -> None:
        #: subscribed applications (applications.yaml): each matching one gets a queued kennisgeving
        self.subscribers = subscribers
        #: a person source's npsLk01 goes to the afnemers instead of a route (broker.routing.afnemers)
        self.distribution: Distribution | None = None
        self.take_over(routes, targets)

    @property
    def routes(self) -> RoutesFile:
        return self._state[0]

    @property
    def targets(self) -> dict[str, Target]:
        return self._state[1]

    @property
    def uses_zaaktypen(self) -> bool:
        """Only look a zaak's zaaktype up when some route or subscriber selects on it."""
        return self._state[2] or (self.subscribers is not None and self.subscribers.uses_zaaktypen)

    def take_over(self, routes: RoutesFile, targets: dict[str, Target]) -> None:
        """Route with a new version of routes.yaml from now on (broker.routing.reload). One assignment:
        a message being planned sees the old routes and targets or the new ones, never a mix."""
        self._state = (routes, targets, any(r.zaaktypen for r in routes.routes))

    def plan(self, operation: str, zender: str | None, zaaktype: str | None,
             sender: Systeem | None = None) -> list[Leg]:
        """The route's legs, then a queued leg for every subscriber told of this change (``sender``:
        the message's zender, never told of its own change)."""
        legs = self._route(operation, zender, zaaktype)
        if self.subscribers is not None:
            sender = sender or (Systeem(applicatie=zender) if zender else None)
            legs += [Leg(t, "queued", False) for t in self.subscribers.for_change(operation, sender, zaaktype)]
        return legs

    def _route(self, operation: str, zender: str | None, zaaktype: str | None) -> list[Leg]:
        routes, targets, _ = self._state
        for route in routes.routes:
            if route.matches(operation, zender, zaaktype):
                return [Leg(targets[d.target], d.mode, i == 0) for i, d in enumerate(route.deliver)]
        if operation in BG_NAMES:  # a StUF-BG message only goes where a route says (never to a zaaksysteem)
            raise StufError("StUF058", f"Geen personenbron voor {operation} van deze zender",
                            "routes.yaml heeft geen route die dit bericht aanneemt", plek="server")
        # no route: the first target answers synchronously
        first = next(iter(targets.values()))
        return [Leg(first, "sync", True)]

    @staticmethod
    def remember_zaaktype(session: Executor, identificatie: str | None, zaaktype: str | None) -> None:
        if not identificatie or not zaaktype:
            return
        table = ZaakRoute.__table__
        known = session.execute(select(table.c.identificatie).where(table.c.identificatie == identificatie)).first()
        if known is None:
            session.execute(insert(table), {"identificatie": identificatie, "zaaktype": zaaktype})

    @staticmethod
    def known_zaaktype(session: Session, identificatie: str | None) -> str | None:
        if not identificatie:
            return None
        return session.execute(
            select(ZaakRoute.zaaktype).where(ZaakRoute.identificatie == identificatie)
        ).scalar_one_or_none()
