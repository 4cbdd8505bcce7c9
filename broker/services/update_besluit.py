"""updateBesluit (ZDS 1.2 §4.1.8): a bslLk01 with mutatiesoort W, old and new object.

Attributes in the new object replace the registered ones; the documents the besluit is vastgelegd
in (``isVastgelegdIn``) follow their verwerkingssoort (StUF 03.01 Tabel 5.5, broker.zds.mutation):
T links a document (empty placeholder in the old object), V or E unlinks one (empty placeholder in
the new object), I only identifies. A relation appears in both objects at the same position with the
same verwerkingssoort (STV0000084); otherwise StUF055. An unknown besluit or document gives StUF064
(R-ID-05). datumBeslissing and ingangsdatumWerking cannot be emptied (RGBZ: verplicht).
"""

from __future__ import annotations

from lxml import etree

from broker.errors import StufError
from broker.model.ports import Context, Zaaksysteem
from broker.services import service
from broker.zds import kennisgeving, read
from broker.zds.request import ZdsAnswer, ZdsRequest
from broker.zds.xmlutil import VERWERKINGSSOORT, child, children, is_nil

_NIET_LEEG = ("datumBeslissing", "ingangsdatumWerking")
#: verwerkingssoort of a relation -> (filled in old object, filled in new object)
_PLACEHOLDERS = {"T": (False, True), "V": (True, False), "E": (True, False), "I": (True, True), "W": (True, True)}


@service("updateBesluit")
def update_besluit(req: ZdsRequest, target: Zaaksysteem, ctx: Context) -> ZdsAnswer:
    oud_el, nieuw_el = kennisgeving.objects(req.body, "W", "BSL")
    for name in _NIET_LEEG:
        el = child(nieuw_el, name)
        if el is not None and (is_nil(el) or not (el.text or "").strip()):
            raise StufError("StUF055", f"{name} van een besluit kan niet worden leeggemaakt", "RGBZ: verplicht gegeven")
    _check_relations(oud_el, nieuw_el)
    oud, nieuw = read.besluit(oud_el), read.besluit(nieuw_el)
    target.update_besluit(ctx, oud, nieuw)
    return ZdsAnswer.acknowledged(req, object_identificatie=nieuw.identificatie or oud.identificatie)


def _check_relations(oud: etree._Element, nieuw: etree._Element) -> None:
    olds, news = children(oud, "isVastgelegdIn"), children(nieuw, "isVastgelegdIn")
    if len(olds) != len(news):
        raise StufError(
            "StUF055",
            "isVastgelegdIn komt in het oude en het nieuwe object niet even vaak voor",
            f"oud {len(olds)}, nieuw {len(news)}; een toegevoegde of verwijderde relatie staat aan de andere "
            "kant als leeg element met dezelfde verwerkingssoort (StUF 03.01 §5.2.6)",
        )
    for i, (o, n) in enumerate(zip(olds, news), start=1):
        soort = n.get(VERWERKINGSSOORT)
        if o.get(VERWERKINGSSOORT) != soort:
            raise StufError(
                "StUF055",
                f"isVastgelegdIn nummer {i} heeft in het oude en het nieuwe object een andere verwerkingssoort",
                f"oud {o.get(VERWERKINGSSOORT)}, nieuw {soort}",
            )
        if soort == "R":
            continue
        if soort not in _PLACEHOLDERS:
            raise StufError("StUF055", f"Verwerkingssoort {soort} kan niet op de relatie isVastgelegdIn")
        expected = _PLACEHOLDERS[soort]
        actual = (_filled(o), _filled(n))
        if actual != expected:
            want = " en ".join(
                f"{side} {'gevuld' if filled else 'leeg'}" for side, filled in zip(("oud", "nieuw"), expected)
            )
            raise StufError(
                "StUF055",
                f"isVastgelegdIn nummer {i} met verwerkingssoort {soort} is in het oude of het nieuwe object "
                "niet zoals StUF het vraagt",
                f"verwacht: {want}",
            )


def _filled(rel: etree._Element) -> bool:
    return not is_nil(rel) and child(rel, "gerelateerde") is not None
