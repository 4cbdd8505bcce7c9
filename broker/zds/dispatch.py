"""Which ZDS operation a request is: from its body element, its SOAPAction, and where needed its content.

ZDS 1.2 bodies name their operation (``ZDS:creeerZaak_ZakLk01``). The ZDS 1.1 shapes in the StUF-ZKN
namespace do not: ``ZKN:zakLk01`` is creeerZaak, updateZaak or actualiseerZaakstatus. There the
SOAPAction names the operation; without one, the content decides (mutatiesoort, what the scope asks
for, whether a document has content). A SOAPAction that names another operation than the body is
refused with StUF040.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from broker.errors import StufError
from broker.stuf import ns
from broker.zds.operations import BY_NAME, BY_ZDS_ELEMENT, BY_ZKN_ELEMENT, Operation

_SUFFIX = re.compile(r"_(?:Zak|Edc|Bsl)?(?:Lk|Lv|La|Di|Du)0\d$", re.IGNORECASE)
_ZDS_ELEMENTS_LOWER = {k.lower(): v for k, v in BY_ZDS_ELEMENT.items()}


@dataclass(frozen=True)
class Resolved:
    operation: Operation
    dialect: str  # "zds" (1.2) or "zkn" (1.1 shapes)
    element: str  # local name of the request element

    @property
    def answer_namespace(self) -> str:
        return ns.ZDS if self.dialect == "zds" else ns.ZKN

    @property
    def answer_element(self) -> str:
        if self.dialect == "zds":
            return self.operation.answer
        return self.operation.zkn_answer(self.element)


def operation_from_action(action: str | None) -> Operation | None:
    """The operation a SOAPAction names, or None when it names none (a body element, a berichtcode...)."""
    if not action:
        return None
    segment = action.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    if segment.lower() in _ZDS_ELEMENTS_LOWER:
        return _ZDS_ELEMENTS_LOWER[segment.lower()]
    name = _SUFFIX.sub("", segment).lower()
    return BY_NAME.get(name)


def _child(el: etree._Element, name: str) -> etree._Element | None:
    for c in el:
        if ns.local(c.tag) == name:
            return c
    return None


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if ns.local(c.tag) == name]


def _mutatiesoort(body: etree._Element) -> str | None:
    params = _child(body, "parameters")
    m = _child(params, "mutatiesoort") if params is not None else None
    return (m.text or "").strip() if m is not None else None


def _by_content(element: str, body: etree._Element, candidates: tuple[Operation, ...]) -> Operation:
    names = {op.name: op for op in candidates}
    if element == "zakLk01":
        if _mutatiesoort(body) == "T":
            return names["creeerZaak"]
        objects = _children(body, "object")
        new = objects[-1] if objects else None
        if new is not None:
            changed = {ns.local(c.tag) for c in new if isinstance(c.tag, str)}
            changed -= {"identificatie", "omschrijving", "isVan"}
            if changed == {"heeft"}:
                return names["actualiseerZaakstatus"]
        return names["updateZaak"]
    if element == "zakLv01":
        scope = _child(body, "scope")
        obj = _child(scope, "object") if scope is not None else None
        asked = {ns.local(c.tag) for c in obj if isinstance(c.tag, str)} if obj is not None else set()
        asked.discard("identificatie")
        if asked == {"heeftRelevant"}:
            return names["geefLijstZaakdocumenten"]
        if asked == {"leidtTot"}:
            return names["geefLijstBesluiten"]
        if asked == {"heeft"}:
            return names["geefZaakstatus"]
        return names["geefZaakdetails"]
    if element == "bslLk01":  # ZDS 1.1 sends voegBesluitToe as a kennisgeving with mutatiesoort T
        return names["voegBesluitToe"] if _mutatiesoort(body) == "T" else names["updateBesluit"]
    if element == "edcLk01":
        obj = _child(body, "object")
        has_content = obj is not None and _child(obj, "inhoud") is not None
        return names["voegZaakdocumentToe"] if has_content else names["maakZaakdocument"]
    return candidates[0]


def resolve(body: etree._Element, soap_action: str | None) -> Resolved:
    namespace, element = ns.namespace(body.tag), ns.local(body.tag)
    named = operation_from_action(soap_action)
    if namespace == ns.ZDS:
        op = BY_ZDS_ELEMENT.get(element)
        if op is None:
            raise StufError(
                "StUF055",
                f"Onbekend ZDS-bericht {element}",
                f"{element} is geen bericht uit Zaak- en Documentservices 1.2",
            )
        dialect = "zds"
        candidates: tuple[Operation, ...] = (op,)
    elif namespace == ns.ZKN:
        candidates = BY_ZKN_ELEMENT.get(element, ())
        if not candidates:
            raise StufError(
                "StUF025",
                f"Het bericht {element} wordt door de Zaak- en Documentservices niet ondersteund",
                f"StUF-ZKN-bericht {element} hoort niet bij een ZDS-service",
            )
        dialect = "zkn"
        op = None
    elif namespace == ns.BG:
        raise StufError("StUF004", f"Sectormodel StUF-BG wordt op dit endpoint niet ondersteund ({element})")
    elif namespace == ns.STUF:
        raise StufError(
            "StUF025",
            f"Het StUF-bericht {element} wordt op dit endpoint niet verwacht",
            "deze broker verstuurt geen asynchrone berichten waarop Bv01/Fo01 een antwoord kan zijn",
        )
    else:
        raise StufError(
            "StUF055",
            "Het bericht is geen StUF-bericht",
            f"element {element} in namespace {namespace or '(geen)'}",
        )
    if named is not None and named not in candidates:
        raise StufError(
            "StUF040",
            f"SOAPAction {soap_action} past niet bij het bericht {element}",
            f"de SOAPAction noemt {named.name}, het bericht is "
            + (" of ".join(c.name for c in candidates)),
        )
    if op is None:
        op = named if named is not None else _by_content(element, body, candidates)
        op = op.as_sent_in(element)
    return Resolved(op, dialect, element)
