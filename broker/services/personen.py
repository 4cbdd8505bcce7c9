"""StUF-BG ``npsLv01``: a question for persons, answered by a person source with ``npsLa01``; and an
afnemer's ``npsLk01`` to the broker, which places (T) or removes (V) its afnemerindicatie.

The question is read into a :class:`broker.model.person.PersoonVraag` (broker.bg.read), the source
answers with persons of the case model, and the broker sorts them (``sortering``), pages them
(``maximumAantal``; ``indicatorVervolgvraag`` when more remain, a vervolgvraag continues after the
person in ``start``) and renders the scope asked for (broker.bg.render). No match is an answer
without objects, not a fault. With ``indicatorAfnemerIndicatie`` the sender's afnemerindicatie is
placed for every person of the answer (broker.services.afnemerindicaties).

The npsLk01 that reaches this service is an afnemer's: a registered person source's npsLk01 (the
zender has ``person_source: true`` in applications.yaml) never comes here, it is distributed to the
afnemers (broker.routing.afnemers). An afnemer's W, C or F is refused (Fo03 StUF025): only a person
source's mutations are distributed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from broker.adapters.person_target import PersonContext
from broker.bg import read, render
from broker.errors import StufError
from broker.model.ports import PersonenBron
from broker.services import afnemerindicaties, person_service
from broker.zds.request import ZdsAnswer, ZdsRequest


@contextmanager
def _session(ctx: PersonContext) -> Iterator[Session]:
    """The request's transaction when the source shares it, else one of its own."""
    if ctx.session is not None:
        yield ctx.session
        return
    if ctx.db is None:
        raise StufError("StUF058", "Afnemerindicaties kunnen hier niet worden bijgehouden", plek="server")
    with ctx.db.write() as session:
        yield session




@person_service("npsLv01")
def beantwoord_nps_vraag(req: ZdsRequest, bron: PersonenBron, ctx: PersonContext) -> ZdsAnswer:
    vraag = read.read(req.body)
    vraag.vraag.relaties = vraag.scope.relatie_namen
    personen = sorted(bron.zoek(vraag.vraag), key=render.SORTERINGEN[vraag.paging.sortering])
    totaal = len(personen)
    if vraag.paging.start_bsn is not None:
        after = next((i for i, p in enumerate(personen) if p.bsn == vraag.paging.start_bsn), None)
        personen = personen[after + 1:] if after is not None else []
    page = personen[: vraag.paging.maximum]
    objects = [render.persoon_object(p, vraag.scope) for p in page]
    if vraag.paging.afnemerindicatie and page:
        zender = req.stuurgegevens.zender
        if zender is None or not zender.applicatie:
            raise StufError("StUF013", "Een afnemerindicatie hoort bij een zender; de stuurgegevens noemen er geen")
        with _session(ctx) as session:
            for p in page:
                afnemerindicaties.place(session, p.bsn, zender, "vraag")
    answer = render.la01(req.stuurgegevens, req.own, objects, vervolg=len(personen) > len(page),
                         aantal=totaal if vraag.paging.aantal else None,
                         afnemerindicatie=True if vraag.paging.afnemerindicatie and page else
                         (False if vraag.paging.afnemerindicatie else None))
    return ZdsAnswer(answer, object_identificatie=None)


@person_service("npsLk01")
def verwerk_nps_kennisgeving(req: ZdsRequest, bron: PersonenBron, ctx: PersonContext) -> ZdsAnswer:
    """T: the zender follows the person from now on; V: it no longer does. Bv03 once stored."""
    kennisgeving = read.kennisgeving(req.body)
    zender = req.stuurgegevens.zender
    assert zender is not None  # an asynchronous message without a zender is StUF013 before this
    if kennisgeving.mutatiesoort not in ("T", "V"):
        raise StufError("StUF025", f"Een npsLk01 met mutatiesoort {kennisgeving.mutatiesoort} wordt niet verwerkt",
                        "de broker verwerkt van afnemers T (afnemerindicatie plaatsen) en V (verwijderen); "
                        "alleen de mutaties van een geregistreerde personenbron (person_source in "
                        "applications.yaml) worden verspreid", plek="client")
    with _session(ctx) as session:
        if kennisgeving.mutatiesoort == "T":
            afnemerindicaties.place(session, kennisgeving.bsn, zender, "kennisgeving")
        else:
            afnemerindicaties.remove(session, kennisgeving.bsn, zender)
    return ZdsAnswer.acknowledged(req)
