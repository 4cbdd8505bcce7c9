"""geefZaakdocumentbewerken (ZDS 1.2 §4.3.3): a Di02 checks a document out for editing.

The Di02 holds an edcLv01 selecting the document on ``gelijk/identificatie``. The zaaksysteem locks
the document and answers a Du02 with the lock in its ``parameters`` (``checkedOutId``, an opaque id,
and ``checkedOutBy``: the sender's gebruiker, or its applicatie) and the document as
geefZaakdocumentLezen would give it, content included, in ``edcLa01``. The lock ends with
updateZaakdocument (new version) or cancelCheckout (no new version), both with that id.

An unknown document is refused with StUF064 (there is nothing to lock, and the Du02 must hold a
document); a document that is checked out already is refused with StUF058, whoever asks (the StUF
Testplatform's negative test "repeated geefZaakdocumentbewerken"). On any later failure in the same
message the transaction rolls back and the document is not locked.
"""

from __future__ import annotations

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf import ns
from broker.zds import documenten, render, scope
from broker.zds.request import ZdsAnswer, ZdsRequest, du02
from broker.zds.xmlutil import ENTITEITTYPE, FUNCTIE, child, make, nil_with_novalue, sub, text


@service("geefZaakdocumentbewerken")
def geef_zaakdocument_bewerken(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    vraag = child(req.body, "edcLv01")
    ident = text(child(vraag, "gelijk"), "identificatie")
    if not ident:
        raise StufError("StUF055", "geefZaakdocumentbewerken vraagt edcLv01/gelijk/identificatie van het document")
    scope_obj = child(child(vraag, "scope"), "object")
    checkout = target.checkout_document(ctx, ident)
    render.ensure(checkout.document, req.schema)  # a target without StUF (ZGW): built from the case model
    full = documenten.with_inhoud(checkout.document, req.schema)
    obj = scope.apply(full, scope_obj, req.schema)
    documenten.fit(obj, full, documenten.BEWERKEN_TYPE, req.schema)
    nil_with_novalue(obj)
    edc = make(ns.ZKN, "edcLa01")
    edc.set(ENTITEITTYPE, "EDC")
    edc.set(FUNCTIE, "antwoord")
    sub(edc, ns.ZKN, "parameters")
    sub(edc, ns.ZKN, "antwoord").append(obj)
    params_ns = ns.ZDS if req.resolved.dialect == "zds" else ns.ZKN
    params = documenten.checkout_parameters(params_ns, checkout.checkout_id, checkout.checked_out_by)
    return ZdsAnswer(
        du02(req, req.operation.functie, [("edcLa01", edc)], parameters=params),
        zaak_identificatie=checkout.document.zaak_identificatie,
        object_identificatie=ident
    )
