"""Kennisgevingen for subscribers: an accepted change, re-addressed to one subscribed application.

The kennisgeving is made from the accepted request, not from the case model: the request already is
the StUF-ZKN kennisgeving of the change (its mutatiesoort and its old and new objects as StUF 03.01 §5
prescribes: T with the new object, W with the old and the new), validated against the schemas and the
rules, and it carries every element the sender gave, also those the case model does not keep. What
changes:

- the stuurgegevens: zender is the broker, ontvanger the subscriber, a referentienummer and
  tijdstipBericht of the broker's own (given by the caller, so that a retry sends the same, §4.4.3);
  crossRefnummer is left out (it is not an answer);
- the shape the subscriber speaks: ZDS 1.2 (``creeerZaak_ZakLk01`` ... in the zds0120 namespace) or
  ZDS 1.1 (``zakLk01``/``edcLk01``/``bslLk01`` in the StUF-ZKN namespace). The two carry the same
  children; only the message element differs;
- the Di-berichten become kennisgevingen: ``voegBesluitToe_Di01`` is told as a ``bslLk01`` T (ZDS 1.1)
  or as the ``voegBesluitToe_Di01`` itself (ZDS 1.2 has no besluit-T kennisgeving);
  ``updateZaakdocument_Di02`` (synchronous) is told as an ``edcLk01`` W with its old and new document,
  in both shapes (ZDS 1.2 has no asynchronous document update);
- the subscriber's own codes (``Codes``): its zaaktype codes, status codes and document types in
  place of the broker's;
- what the subscriber may not receive: a BSN (``inp.bsn``) becomes ``noValue="nietGeautoriseerd"``
  unless it is allowed (ZDS 1.2, whose inp.bsn may not be nil: left out), and document content
  (``inhoud``, never nillable) above its size is left out; a ZDS 1.2 ``voegZaakdocumentToe_EdcLk01``
  without its content is told as ``maakZaakdocument_EdcLk01`` (a document registered without content).
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from broker.store import blobs
from broker.stuf import ns
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem
from broker.stuf.stuurgegevens import write as write_stuurgegevens
from broker.zds.xmlutil import ENTITEITTYPE, NIL, NOVALUE, VERWERKINGSSOORT, child, children

#: ZDS 1.2 element -> its ZDS 1.1 kennisgeving element (same children)
_ZDS11 = {
    "creeerZaak_ZakLk01": "zakLk01", "updateZaak_ZakLk01": "zakLk01", "actualiseerZaakstatus_ZakLk01": "zakLk01",
    "voegZaakdocumentToe_EdcLk01": "edcLk01", "maakZaakdocument_EdcLk01": "edcLk01",
    "updateBesluit_BslLk01": "bslLk01",
}
#: operation -> its ZDS 1.2 Lk01 element
_ZDS12 = {
    "creeerZaak": "creeerZaak_ZakLk01", "updateZaak": "updateZaak_ZakLk01",
    "actualiseerZaakstatus": "actualiseerZaakstatus_ZakLk01", "voegZaakdocumentToe": "voegZaakdocumentToe_EdcLk01",
    "maakZaakdocument": "maakZaakdocument_EdcLk01", "updateBesluit": "updateBesluit_BslLk01",
}
NOT_AUTHORISED = "nietGeautoriseerd"


@dataclass(frozen=True)
class Codes:
    """The receiver's own codes for the broker's: zaaktype codes (``isVan`` code, ``zkt.code``), status
    codes (``heeft`` code) and document types (``dct.omschrijving``); others are sent as they are."""

    zaaktypen: Mapping[str, str] = field(default_factory=dict)
    statussen: Mapping[str, str] = field(default_factory=dict)
    documenttypen: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Addressing:
    """Who sends the kennisgeving to whom, and which of it the receiver may see."""

    zender: Systeem
    ontvanger: Systeem
    referentienummer: str
    tijdstip_bericht: str
    shape: str = "1.2"  # "1.2" or "1.1"
    bsn: bool = False
    max_document_bytes: int | None = None
    codes: Codes | None = None


def render(operation: str, body: etree._Element, to: Addressing) -> etree._Element:
    """The kennisgeving of the accepted ``body`` of ``operation`` for one subscriber."""
    if operation == "updateZaakdocument":
        out = _document_update(body)
    elif operation == "voegBesluitToe" and to.shape == "1.2" and ns.namespace(body.tag) == ns.ZDS:
        out = copy.deepcopy(body)
    elif operation == "voegBesluitToe":
        out = _besluit_toegevoegd(body)
    else:
        out = copy.deepcopy(body)
        out.tag = ns.q(ns.ZKN, _ZDS11[_ZDS12[operation]]) if to.shape == "1.1" else ns.q(ns.ZDS, _ZDS12[operation])
    _readdress(out, to)
    if not to.bsn:
        for el in list(out.iter("{*}inp.bsn")):
            _withhold(el, nillable=to.shape == "1.1")
    if to.max_document_bytes is not None:
        for el in list(out.iter("{*}inhoud")):
            if _content_size(el) > to.max_document_bytes:
                _withhold(el, nillable=False)
                if out.tag == ns.q(ns.ZDS, "voegZaakdocumentToe_EdcLk01"):  # ZDS 1.2 requires the content there:
                    out.tag = ns.q(ns.ZDS, "maakZaakdocument_EdcLk01")  # told as a document without content
    if to.codes is not None:
        _translate(out, to.codes)
    return out


def _translate(message: etree._Element, codes: Codes) -> None:
    """The receiver's own codes in place of the broker's."""
    def swap(el: etree._Element | None, table: Mapping[str, str]) -> None:
        if el is not None and el.text is not None and el.text.strip() in table:
            el.text = table[el.text.strip()]

    for el in list(message.iter("{*}isVan")):
        swap(child(child(el, "gerelateerde"), "code"), codes.zaaktypen)
    for el in list(message.iter("{*}zkt.code")):
        swap(el, codes.zaaktypen)
    for el in list(message.iter("{*}heeft")):
        swap(child(child(el, "gerelateerde"), "code"), codes.statussen)
    for el in list(message.iter("{*}dct.omschrijving")):
        swap(el, codes.documenttypen)


def _readdress(message: etree._Element, to: Addressing) -> None:
    old = next(c for c in message if isinstance(c.tag, str) and ns.local(c.tag) == "stuurgegevens")
    berichtcode = child(old, "berichtcode")
    entiteittype, functie = child(old, "entiteittype"), child(old, "functie")
    sg = Stuurgegevens(
        berichtcode=berichtcode.text if berichtcode is not None else None, zender=to.zender, ontvanger=to.ontvanger,
        referentienummer=to.referentienummer, tijdstipBericht=to.tijdstip_bericht,
        entiteittype=entiteittype.text if entiteittype is not None else None,
        functie=functie.text if functie is not None else None)
    holder = etree.Element("holder")
    new = write_stuurgegevens(holder, str(old.tag), sg)
    message.replace(old, new)


def _stuurgegevens(message: etree._Element, berichtcode: str, entiteittype: str) -> etree._Element:
    sg = etree.SubElement(message, ns.q(ns.ZKN, "stuurgegevens"))
    etree.SubElement(sg, ns.q(ns.STUF, "berichtcode")).text = berichtcode
    etree.SubElement(sg, ns.q(ns.STUF, "entiteittype")).text = entiteittype
    return sg


def _parameters(message: etree._Element, mutatiesoort: str) -> None:
    p = etree.SubElement(message, ns.q(ns.ZKN, "parameters"))
    etree.SubElement(p, ns.q(ns.STUF, "mutatiesoort")).text = mutatiesoort
    etree.SubElement(p, ns.q(ns.STUF, "indicatorOvername")).text = "V"


def _document_update(body: etree._Element) -> etree._Element:
    """``updateZaakdocument_Di02`` as the ``edcLk01`` W of its old and new document."""
    lk02 = child(body, "edcLk02")
    out = etree.Element(ns.q(ns.ZKN, "edcLk01"), nsmap={"ZKN": ns.ZKN, "StUF": ns.STUF})
    _stuurgegevens(out, "Lk01", "EDC")
    _parameters(out, "W")
    for obj in children(lk02, "object"):
        out.append(copy.deepcopy(obj))
    return out


def _besluit_toegevoegd(body: etree._Element) -> etree._Element:
    """``voegBesluitToe_Di01`` (or the ZDS 1.1 ``bslLk01`` T it came as) as a ``bslLk01`` T."""
    if ns.local(body.tag) == "bslLk01":
        return copy.deepcopy(body)
    # (the BSL kennisgeving of StUF-ZKN 03.10 has no relation to its zaak: a ZDS 1.1 subscriber reads
    # the besluiten of a zaak with geefLijstBesluiten)
    besluit = child(child(body, "object"), "besluit")
    out = etree.Element(ns.q(ns.ZKN, "bslLk01"), nsmap={"ZKN": ns.ZKN, "StUF": ns.STUF})
    _stuurgegevens(out, "Lk01", "BSL")
    _parameters(out, "T")
    obj = copy.deepcopy(besluit) if besluit is not None else etree.Element(ns.q(ns.ZKN, "besluit"))
    obj.tag = ns.q(ns.ZKN, "object")
    obj.set(ENTITEITTYPE, "BSL")
    obj.set(VERWERKINGSSOORT, "T")
    out.append(obj)
    return out


def _withhold(el: etree._Element, *, nillable: bool) -> None:
    """The element without its value: noValue nietGeautoriseerd (StUF 03.01 §2.5) where the schema
    lets it be nil, else left out (the ZDS 1.2 types of inp.bsn, inhoud everywhere)."""
    if not nillable:
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
        return
    for c in list(el):
        el.remove(c)
    el.text = None
    for attr in list(el.attrib):
        if ns.namespace(attr) in (ns.XMIME,) or ns.local(attr) in ("bestandsnaam", "contentType"):
            del el.attrib[attr]
    el.set(NOVALUE, NOT_AUTHORISED)
    el.set(NIL, "true")


def _content_size(el: etree._Element) -> int:
    text = (el.text or "").strip()
    ref = blobs.from_text(text)
    if ref is not None:
        return ref.size
    if not text:
        return 0
    try:
        return len(base64.b64decode(text))
    except ValueError:
        return len(text) * 3 // 4

