"""geefLijstZaakdocumenten (ZDS 1.2 §4.3.1): a zakLv01 asks for the documents of one zaak.

The zaak is selected on ``gelijk/identificatie``; an unknown zaak is not an error, the answer then
has no object (StUF 03.01 §6.4.1). The answer holds the zaak with one ``heeftRelevant`` (ZAKEDC) per
document, sorted on the documentidentificatie as the schema prescribes. A relation's gegevens are
those of the document's ``isRelevantVoor`` as registered, with the document as the gerelateerde
(broker.zds.documenten.heeft_relevant).

What ``scope`` asks for is answered (broker.zds.scope), fitted to the answer type: that requires
``identificatie`` and at least one ``heeftRelevant`` with a gerelateerde and a ``registratiedatum``,
so those are always there (a zaak without documents answers one nil ``heeftRelevant``). With a
``StUF:scope`` attribute the zaak carries its identificatie and its documents, as the StUF
Testplatform expects; ``omschrijving`` and ``isVan`` are answered when the scope lists them.
``kerngegevens`` answers the documents' kerngegevens.
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf import ns
from broker.zds import documenten, kennisgeving, render, scope
from broker.zds.request import ZdsAnswer, ZdsRequest, la01
from broker.zds.xmlutil import ENTITEITTYPE, SCOPE, child, children, clone, make, nil_with_novalue, sub, text

_ZAAK_KERN = ("omschrijving", "isVan")


@service("geefLijstZaakdocumenten")
def geef_lijst_zaakdocumenten(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    gelijk, scope_obj = kennisgeving.vraag_parts(req.body)
    ident = text(gelijk, "identificatie")
    if not ident:
        raise StufError("StUF055", "geefLijstZaakdocumenten vraagt gelijk/identificatie van de zaak")
    docs = target.geef_zaakdocumenten(ctx, ident)
    if docs is None:
        return ZdsAnswer(la01(req, [], "ZAK"), zaak_identificatie=ident)
    full = make(ns.ZKN, "object")
    full.set(ENTITEITTYPE, "ZAK")
    sub(full, ns.ZKN, "identificatie", ident)
    if any(child(scope_obj, name) is not None for name in _ZAAK_KERN):
        zaak = target.geef_zaak(ctx, ident)
        if zaak is not None:
            kern = clone(render.ensure(zaak, req.schema))
            req.schema.prune_to_kern(kern, "ZAK-kerngegevens")
            for name in _ZAAK_KERN:
                for c in children(kern, name):
                    full.append(c)
    for d in docs:
        full.append(documenten.heeft_relevant(render.ensure(d, req.schema), req.schema))
    if not docs:
        full.append(documenten.no_heeft_relevant())
    answer = _scoped(full, scope_obj, req)
    documenten.fit(answer, full, documenten.LIJST_TYPE[req.resolved.dialect], req.schema)
    nil_with_novalue(answer)
    return ZdsAnswer(la01(req, [answer], "ZAK"), zaak_identificatie=ident)


def _scoped(full: etree._Element, scope_obj: etree._Element | None, req: ZdsRequest) -> etree._Element:
    if scope_obj is None or scope_obj.get(SCOPE) != "kerngegevens":
        return scope.apply(full, scope_obj, req.schema)
    # kerngegevens of a zaak hold no relations, but this answer is the list of documents: the
    # documents are answered with their kerngegevens (and the registratiedatum the type requires)
    out = clone(full)
    for rel in children(out, "heeftRelevant"):
        for c in children(rel):
            if ns.local(c.tag) == "gerelateerde":
                req.schema.prune_to_kern(c, "EDC-kerngegevens")
            elif ns.local(c.tag) != "registratiedatum":
                rel.remove(c)
    return out
