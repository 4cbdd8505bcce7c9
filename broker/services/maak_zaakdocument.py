"""maakZaakdocument (ZDS 1.2 §4.3.5): an edcLk01 (T) registers a document before it has content.

The placeholder is linked to its zaak like voegZaakdocumentToe's documents (same checks: unique
identificatie, existing zaak, documenttype of the zaaktype) so it can be checked out with
geefZaakdocumentbewerken and filled with updateZaakdocument. ZDS describes a document without
content; a sender that nevertheless supplies ``inhoud`` (the StUF Testplatform does) gets it stored
rather than silently dropped, within ``limits.max_document_bytes``.
"""

from __future__ import annotations

from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.zds import documenten, kennisgeving
from broker.zds.request import ZdsAnswer, ZdsRequest


@service("maakZaakdocument")
def maak_zaakdocument(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    (obj,) = kennisgeving.objects(req.body, "T", "EDC")
    doc = documenten.document(obj)
    documenten.require_identificatie(doc)
    documenten.zaak_relatie(obj, "maakZaakdocument")
    documenten.check_size(doc.inhoud, req.settings.limits.max_document_bytes)
    target.maak_zaakdocument(ctx, doc)
    return ZdsAnswer.acknowledged(req, zaak_identificatie=doc.zaak_identificatie, object_identificatie=doc.identificatie)
