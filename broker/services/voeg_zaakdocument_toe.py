"""voegZaakdocumentToe (ZDS 1.2 §4.3.4): an edcLk01 (T) adds a document with content to a zaak.

The document names its zaak in ``isRelevantVoor`` (verwerkingssoort T, the zaak I; R-ZDS-03). The ZS
checks that the documentidentificatie is given and unique (R-ID-04; a duplicate is refused with
StUF058, as creeerZaak refuses a zaakidentificatie in use), that the zaak exists (StUF064) and that the
documenttype belongs to its zaaktype. Content above ``limits.max_document_bytes`` is refused
(StUF058). The content may come inline (base64) or as MTOM; the pipeline has inlined MTOM parts by
now, and content above 1 MiB is a reference to the file store (``Inhoud.blob``, broker.stuf.spool). Unlike a zaakidentificatie, a documentidentificatie need not start with the gemeentecode: RGBZ
asks that only of zaken, and the StUF Testplatform sends plain numbers.
"""

from __future__ import annotations

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.zds import documenten, kennisgeving
from broker.zds.request import ZdsAnswer, ZdsRequest


@service("voegZaakdocumentToe")
def voeg_zaakdocument_toe(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    (obj,) = kennisgeving.objects(req.body, "T", "EDC")
    doc = documenten.document(obj)
    documenten.require_identificatie(doc)
    documenten.zaak_relatie(obj, "voegZaakdocumentToe")
    if doc.inhoud is None:
        raise StufError("StUF055", "voegZaakdocumentToe voegt een document met inhoud toe; inhoud ontbreekt")
    documenten.check_size(doc.inhoud, req.settings.limits.max_document_bytes)
    target.voeg_zaakdocument_toe(ctx, doc)
    return ZdsAnswer.acknowledged(req, zaak_identificatie=doc.zaak_identificatie, object_identificatie=doc.identificatie)
