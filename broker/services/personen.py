"""StUF-BG ``npsLv01``: a question for persons, answered by a person source with ``npsLa01``.

The question is read into a :class:`broker.model.person.PersoonVraag` (broker.bg.read), the source
answers with persons of the case model, and the broker sorts them (``sortering``), pages them
(``maximumAantal``; ``indicatorVervolgvraag`` when more remain, a vervolgvraag continues after the
person in ``start``) and renders the scope asked for (broker.bg.render). No match is an answer
without objects, not a fault.
"""

from __future__ import annotations

from broker.bg import read, render
from broker.model.ports import Context, PersonenBron
from broker.services import person_service
from broker.zds.request import ZdsAnswer, ZdsRequest


@person_service("npsLv01")
def beantwoord_nps_vraag(req: ZdsRequest, bron: PersonenBron, ctx: Context) -> ZdsAnswer:
    vraag = read.read(req.body)
    vraag.vraag.relaties = vraag.scope.relatie_namen
    personen = sorted(bron.zoek(vraag.vraag), key=render.SORTERINGEN[vraag.paging.sortering])
    totaal = len(personen)
    if vraag.paging.start_bsn is not None:
        after = next((i for i, p in enumerate(personen) if p.bsn == vraag.paging.start_bsn), None)
        personen = personen[after + 1:] if after is not None else []
    page = personen[: vraag.paging.maximum]
    objects = [render.persoon_object(p, vraag.scope) for p in page]
    # afnemerindicaties are not placed yet (kennisgevingen are not distributed): the answer says so
    answer = render.la01(req.stuurgegevens, req.own, objects, vervolg=len(personen) > len(page),
                         aantal=totaal if vraag.paging.aantal else None,
                         afnemerindicatie=False if vraag.paging.afnemerindicatie else None)
    return ZdsAnswer(answer, object_identificatie=None)
