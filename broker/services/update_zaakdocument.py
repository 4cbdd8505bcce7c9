"""updateZaakdocument (ZDS 1.2 §4.3.6): a Di02 with an edcLk02 (W, old and new object) checks a
document back in.

The document must be checked out with geefZaakdocumentbewerken, and ``parameters/checkedOutId`` must
be the id that gave (ZDS 1.2 erratum #490000 made the checkout obligatory): without it the message is
refused with StUF055, with another id, or for a document that is not checked out, with StUF058. The
attributes in the new object replace the registered ones (StUF 03.01 §5); a non-empty ``inhoud`` in
the new object replaces the content (ZDS 1.2 made ``inhoud`` optional: without it the content stays).
``isRelevantVoor`` with verwerkingssoort W changes the gegevens of the document's relation to its
zaak; the document cannot be moved to another zaak here. The minimal metadata of a document
(dct.omschrijving, creatiedatum, titel, vertrouwelijkAanduiding, auteur) cannot be emptied (§4.3.6).
``versioningState`` (major/minor) is accepted; the embedded zaaksysteem keeps one current version
and takes ``versie`` as the sender gives it. The checkout ends; the answer is a Bv02.
"""

from __future__ import annotations

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.stuf.berichten import bv02
from broker.zds import documenten, kennisgeving
from broker.zds.request import ZdsAnswer, ZdsRequest
from broker.zds.xmlutil import child


@service("updateZaakdocument")
def update_zaakdocument(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    checkout_id = documenten.checkout_id(req.body, "updateZaakdocument")
    kennisgeving_el = child(req.body, "edcLk02")
    if kennisgeving_el is None:
        raise StufError("StUF055", "updateZaakdocument bevat geen edcLk02 met het oude en het nieuwe document")
    oud_el, nieuw_el = kennisgeving.objects(kennisgeving_el, "W", "EDC")
    oud, nieuw = documenten.document(oud_el), documenten.document(nieuw_el)
    ident = documenten.require_identificatie(oud if oud.identificatie else nieuw)
    documenten.keep_minimal_metadata(nieuw_el, ident)
    documenten.check_size(nieuw.inhoud, req.settings.limits.max_document_bytes)
    target.update_zaakdocument(ctx, checkout_id, oud, nieuw)
    return ZdsAnswer(
        bv02(),
        zaak_identificatie=nieuw.zaak_identificatie or oud.zaak_identificatie,
        object_identificatie=ident
    )
