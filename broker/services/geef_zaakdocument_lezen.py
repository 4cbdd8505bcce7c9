"""geefZaakdocumentLezen (ZDS 1.2 §4.3.2): an edcLv01 asks for one document, with its content.

The document is selected on ``gelijk/identificatie``; an unknown document is not an error, the
answer then has no object (StUF 03.01 §6.4.1). The answer holds what ``scope`` asks for, fitted to
the answer type, which always requires the content: ``inhoud`` as StUF:BinaireInhoud (base64, with
``StUF:bestandsnaam`` and ``xmime:contentType`` when known). The pipeline moves it into an MTOM part
when the request came as MTOM (``soap.binary_answers``).
"""

from __future__ import annotations

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.zds import documenten, kennisgeving, render, scope
from broker.zds.request import ZdsAnswer, ZdsRequest, la01
from broker.zds.xmlutil import nil_with_novalue, text


@service("geefZaakdocumentLezen")
def geef_zaakdocument_lezen(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    gelijk, scope_obj = kennisgeving.vraag_parts(req.body)
    ident = text(gelijk, "identificatie")
    if not ident:
        raise StufError("StUF055", "geefZaakdocumentLezen vraagt gelijk/identificatie van het document")
    doc = target.geef_document(ctx, ident)
    if doc is None:
        return ZdsAnswer(la01(req, [], "EDC"), object_identificatie=ident)
    render.ensure(doc, req.schema)  # a target without StUF (ZGW): built from the case model
    full = documenten.with_inhoud(doc, req.schema)
    answer = scope.apply(full, scope_obj, req.schema)
    documenten.fit(answer, full, documenten.LEZEN_TYPE[req.resolved.dialect], req.schema)
    nil_with_novalue(answer)
    return ZdsAnswer(
        la01(req, [answer], "EDC"), zaak_identificatie=doc.zaak_identificatie, object_identificatie=ident
    )
