"""cancelCheckout (ZDS 1.2 §4.3.8): a Di02 ends the checkout of a document without a new version.

The document is named in ``document/identificatie``, the checkout in ``parameters/checkedOutId``
(required: StUF055 without it). A document that is not checked out, or another checkout id, is
refused with StUF058; an unknown document with StUF064. The rest of ``document`` (the schema lets a
sender repeat the whole entity) is not used: cancelCheckout changes nothing but the lock.
"""

from __future__ import annotations

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf.berichten import bv02
from broker.zds import documenten
from broker.zds.request import ZdsAnswer, ZdsRequest
from broker.zds.xmlutil import child, text


@service("cancelCheckout")
def cancel_checkout(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    checkout_id = documenten.checkout_id(req.body, "cancelCheckout")
    ident = text(child(req.body, "document"), "identificatie")
    if not ident:
        raise StufError("StUF055", "cancelCheckout vraagt document/identificatie")
    target.cancel_checkout(ctx, ident, checkout_id)
    return ZdsAnswer(bv02(), object_identificatie=ident)
