"""ontkoppelZaakdocument (ZDS 1.2 §4.3.9, patch 2017 Q1): a Di02 with an edcLk02 (W) ends the relation
between a document and its zaak.

As StUF prescribes for removing a relation, the old object holds ``isRelevantVoor`` with
verwerkingssoort V and the zaak's kerngegevens, the new object an empty one (R-ZDS-02). ZDS forbids
changing anything else of the document here, and unlinking a document that is in bewerking: both
are refused (StUF055, StUF058). An unknown document, or a document that is not linked to the zaak
named, gives StUF064. The document itself is kept (only the relation ends), so its identificatie
stays in use. Answer: Bv02.
"""

from __future__ import annotations

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf.berichten import bv02
from broker.zds import kennisgeving
from broker.zds.request import ZdsAnswer, ZdsRequest
from broker.zds.xmlutil import VERWERKINGSSOORT, child, children, is_nil, text

_ENDING = ("V", "E")


@service("ontkoppelZaakdocument")
def ontkoppel_zaakdocument(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    kennisgeving_el = child(req.body, "edcLk02")
    if kennisgeving_el is None:
        raise StufError("StUF055", "ontkoppelZaakdocument bevat geen edcLk02 met het oude en het nieuwe document")
    oud, nieuw = kennisgeving.objects(kennisgeving_el, "W", "EDC")
    ident = text(oud, "identificatie") or text(nieuw, "identificatie")
    if not ident:
        raise StufError("StUF055", "Het document heeft geen identificatie")
    rels = children(oud, "isRelevantVoor") + children(nieuw, "isRelevantVoor")
    ending = [r for r in children(oud, "isRelevantVoor") if not is_nil(r)]
    if len(ending) != 1 or any(r.get(VERWERKINGSSOORT) not in _ENDING for r in rels):
        raise StufError(
            "StUF055",
            "ontkoppelZaakdocument beëindigt precies één koppeling met een zaak (isRelevantVoor, verwerkingssoort V)",
            "het oude object noemt de zaak in isRelevantVoor met verwerkingssoort V, "
            "het nieuwe object een lege relatie",
        )
    zaak_ident = text(child(ending[0], "gerelateerde"), "identificatie")
    if not zaak_ident:
        raise StufError("StUF055", "ontkoppelZaakdocument noemt de identificatie van de zaak niet")
    changed = text(oud, "dct.omschrijving") != text(nieuw, "dct.omschrijving")
    if changed and child(nieuw, "dct.omschrijving") is not None:
        raise StufError(
            "StUF055",
            f"ontkoppelZaakdocument mag van document {ident} alleen de koppeling met de zaak verbreken",
            "ZDS 1.2 §4.3.9: andere eigenschappen van het document mogen niet worden gewijzigd",
        )
    target.ontkoppel_zaakdocument(ctx, ident, zaak_ident)
    return ZdsAnswer(
        bv02(),
        zaak_identificatie=zaak_ident,
        object_identificatie=ident
    )
