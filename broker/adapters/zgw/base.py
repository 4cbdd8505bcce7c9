"""What every ZGW operation shares: the message's context, its mappings, finding a zaak.

:class:`Work` is one message being translated: its :class:`~broker.model.ports.Context` (with the
steps completed earlier), the mappings in use when it started (a hot reload in the middle does not
change them), and the user the JWT names (the StUF zender, for the API's audit trail).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from broker.adapters.zgw.catalogi import Catalogi
from broker.adapters.zgw.client import ZgwClient, ZgwError
from broker.adapters.zgw.steps import StepStore
from broker.config import BrokerSettings
from broker.errors import StufError
from broker.mappings.mapping import Mappings, MappingSet, MappingView, Profile
from broker.model.ports import Context


@dataclass
class Work:
    ctx: Context
    mappings: Mappings
    user: str
    zender: str | None
    target: str = ""
    #: zaken looked up during this message: identificatie -> ZAAK resource
    zaken: dict[str, dict[str, Any]] = field(default_factory=dict)

    #: merges the steps recorded for this message in an earlier attempt (broker.adapters.zgw.steps)
    load_steps: Callable[[], None] | None = None

    def _loaded(self) -> None:
        if self.load_steps is not None:
            load, self.load_steps = self.load_steps, None
            load()

    def done(self, name: str) -> bool:
        """Did this message (an earlier attempt included) complete ``name``?"""
        self._loaded()
        return self.ctx.step_done(name) is not None

    def step(self, name: str, call: Callable[[], Any]) -> Any:
        """Run ``call`` unless an earlier attempt of this message completed it; record its result."""
        self._loaded()
        done = self.ctx.step_done(name)
        if done is not None:
            return done
        result = call()
        self.ctx.mark_step(name, result if result is not None else True)
        return result

    def create_once(self, name: str, find: Callable[[], Any], create: Callable[[], Any], intent: Any = True) -> Any:
        """Create something addressable by its identificatie, once.

        The intent is recorded (``<name>?``) before the call. When an earlier attempt sent the call but
        heard nothing back (timeout, connection lost), the object may exist: ``find`` looks for it
        first. When the API did answer (an error), nothing was created and the intent is withdrawn."""
        self._loaded()
        if self.ctx.step_done(name + "?"):
            found = find()
            if found is not None:
                return found
        self.ctx.mark_step(name + "?", intent)
        try:
            return create()
        except ZgwError as exc:
            if exc.status:  # the API answered: nothing was created
                self.ctx.mark_step(name + "?", False)
            raise
        except StufError:
            self.ctx.mark_step(name + "?", False)
            raise


    def post_once(self, name: str, body: dict[str, Any], find: Callable[[dict[str, Any]], Any],
                  create: Callable[[dict[str, Any]], Any], keep: tuple[str, ...] = ()) -> Any:
        """:meth:`create_once` for a part without an identificatie of its own (a rol, a status, a
        zaakobject), found by its body. The body is made from the message again on every attempt; the
        ``keep`` fields are the ones an attempt makes up itself (a datumStatusGezet of "now"), so they
        are the recorded intent and a retry looks for, and sends, the values of the first attempt. Only
        those are recorded: the rest of a body may hold personal data."""
        self._loaded()
        previous = self.ctx.step_done(name + "?")
        if isinstance(previous, dict):
            body = {**body, **previous}
        intent = {k: body[k] for k in keep if k in body} or True
        return self.create_once(name, lambda: find(body), lambda: create(body), intent=intent)


class ZgwBase:
    name: str
    client: ZgwClient
    catalogi: Catalogi
    mappings: MappingSet | MappingView
    settings: BrokerSettings
    steps: StepStore | None

    def _work(self, ctx: Context) -> Work:
        """The message's Work, made on its first call (a query service may call several methods)."""
        work = getattr(ctx, "_zgw_work", None)
        if isinstance(work, Work) and work.target == self.name:
            return work
        load = self.steps.attach(ctx) if self.steps is not None else None
        zender = ctx.zender
        app = zender.applicatie if zender else None
        user = (zender.gebruiker or app) if zender else None
        work = Work(ctx, self.mappings.current, user or "stuf-broker", app, self.name, load_steps=load)
        ctx._zgw_work = work  # type: ignore[attr-defined]
        return work

    def _post_part(self, work: Work, step: str, path: str, body: dict[str, Any], params: dict[str, Any],
                   same: Callable[[dict[str, Any], dict[str, Any]], bool], keep: tuple[str, ...] = ()) -> str:
        """POST a part of a zaak to the Zaken API once (see :meth:`Work.post_once`); after a lost answer,
        the parts listed with ``params`` are searched for one that is ``same`` as the body."""
        url = self.client.url("zaken", path)

        def find(sent: dict[str, Any]) -> str | None:
            return next((item["url"] for item in self.client.pages(url, params, work.user) if same(item, sent)), None)

        return work.post_once(step, body, find, lambda sent: self.client.post(url, sent, work.user)["url"], keep)

    # -- organisatie ---------------------------------------------------------------------------
    def _rsin(self, work: Work, identificatie: str | None = None) -> str:
        """RSIN of the gemeente a zaak belongs to: its identificatie starts with the gemeentecode
        (RGBZ), otherwise the broker's own gemeentecode."""
        prefix = (identificatie or "")[:4]
        rsin = work.mappings.rsin(prefix) if prefix.isdigit() else None
        rsin = rsin or work.mappings.rsin(self.settings.gemeentecode)
        if not rsin:
            raise StufError(
                "StUF058",
                f"Geen RSIN bekend voor gemeente {self.settings.gemeentecode}",
                "de ZGW API vraagt bronorganisatie en verantwoordelijkeOrganisatie; vul 'gemeenten' in een "
                "mappingbestand (gemeentecode: RSIN)",
            )
        return rsin

    # -- zaken ---------------------------------------------------------------------------------
    def _find_zaak(self, work: Work, identificatie: str | None) -> dict[str, Any] | None:
        if not identificatie:
            return None
        if identificatie in work.zaken:
            return work.zaken[identificatie]
        params = {"identificatie": identificatie}
        found = self.client.all(self.client.url("zaken", "zaken"), params, work.user)
        prefix = identificatie[:4]
        rsin = work.mappings.rsin(prefix) if prefix.isdigit() else None
        if rsin and len(found) > 1:
            found = [z for z in found if z.get("bronorganisatie") == rsin] or found
        zaak = found[0] if found else None
        if zaak is not None:
            work.zaken[identificatie] = zaak
        return zaak

    def _zaak(self, work: Work, identificatie: str | None) -> dict[str, Any]:
        zaak = self._find_zaak(work, identificatie)
        if zaak is None:
            raise StufError("StUF064", f"Zaak {identificatie} niet gevonden",
                            f"er is geen zaak met identificatie {identificatie!r} in de Zaken API", plek="client")
        return zaak

    def _find_document(self, work: Work, identificatie: str | None) -> dict[str, Any] | None:
        if not identificatie:
            return None
        found = self.client.all(self.client.url("documenten", "enkelvoudiginformatieobjecten"),
                                {"identificatie": identificatie}, work.user)
        return found[0] if found else None

    def _document_resource(self, work: Work, identificatie: str | None) -> dict[str, Any]:
        found = self._find_document(work, identificatie)
        if found is None:
            raise StufError("StUF064", f"Document {identificatie} niet gevonden",
                            f"er is geen document met identificatie {identificatie!r} in de Documenten API", plek="client")
        return found

    def _zaaktype_of(self, zaak: dict[str, Any]) -> dict[str, Any]:
        return self.catalogi.resource(zaak["zaaktype"])

    def _zds_code(self, work: Work, zaaktype: dict[str, Any]) -> str:
        return work.mappings.zds_zaaktype(zaaktype.get("identificatie") or "", zaaktype.get("url"))

    def _profile(self, work: Work, zaaktype_code: str | None) -> Profile:
        return work.mappings.profile(zaaktype_code, work.zender)
