"""Kennisgevingen of a change made outside the broker (in the ZGW APIs, announced by the Notificaties
API), rendered from the case model as the ZDS 1.2 message a StUF client would have sent for it.

There is no StUF request for such a change: the broker reads the changed resource back as the case
model (broker.adapters.zgw.notificaties) and renders here the request that describes it; that request
is kept in the message log like a received one and told to the subscribers exactly as they are told
of a change made through the broker (broker.zds.kennisgevingen re-addresses it, puts it in each
subscriber's shape and leaves out what the subscriber may not receive).

=========================  =====================================================================
change                     message
=========================  =====================================================================
zaak created               ``creeerZaak_ZakLk01`` T: the zaak (broker.zds.render)
zaak changed               ``updateZaak_ZakLk01`` W: old object with the identificatie only (the
                           notification does not carry the old values), new object the zaak
status set                 ``actualiseerZaakstatus_ZakLk01`` W: old object without a status (nil
                           ``heeft``), new object with the status set
document linked            ``maakZaakdocument_EdcLk01`` T: the document without its content, with
                           its zaak
document changed           ``updateZaakdocument_Di02`` (told as an ``edcLk01`` W): old object with the
                           identificatie only, new object the document without its content
besluit taken              ``voegBesluitToe_Di01``: the besluit and its zaak
besluit changed            ``updateBesluit_BslLk01`` W: old object with the identificatie only
=========================  =====================================================================
"""

from __future__ import annotations

import dataclasses

from lxml import etree

from broker.model import Besluit, Document, Status, Zaak
from broker.stuf import ns
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem
from broker.stuf.stuurgegevens import write as write_stuurgegevens
from broker.zds import render
from broker.zds.kern import SchemaModel
from broker.zds.xmlutil import ENTITEITTYPE, NIL, NOVALUE, VERWERKINGSSOORT, make, sub

#: the operation each kind of change is told as
OPERATIONS = {"zaak:create": "creeerZaak", "zaak:update": "updateZaak", "status": "actualiseerZaakstatus",
              "document:create": "maakZaakdocument", "document:update": "updateZaakdocument",
              "besluit:create": "voegBesluitToe", "besluit:update": "updateBesluit"}
_ELEMENTS = {"creeerZaak": "creeerZaak_ZakLk01", "updateZaak": "updateZaak_ZakLk01",
             "actualiseerZaakstatus": "actualiseerZaakstatus_ZakLk01",
             "maakZaakdocument": "maakZaakdocument_EdcLk01", "updateZaakdocument": "updateZaakdocument_Di02",
             "voegBesluitToe": "voegBesluitToe_Di01", "updateBesluit": "updateBesluit_BslLk01"}
_NSMAP = {"ZDS": ns.ZDS, "ZKN": ns.ZKN, "StUF": ns.STUF, "BG": ns.BG, "xsi": ns.XSI}


def operation(soort: str, actie: str) -> str:
    """The ZDS operation a change (``soort`` zaak/status/document/besluit, ZGW ``actie``) is told as."""
    if soort == "status":
        return OPERATIONS[soort]
    return OPERATIONS[f"{soort}:create" if actie == "create" else f"{soort}:update"]


def render_change(op: str, zaak: Zaak, schema: SchemaModel, *, zender: Systeem, ontvanger: Systeem,
                  referentienummer: str, tijdstip_bericht: str, document: Document | None = None,
                  besluit: Besluit | None = None, status: Status | None = None) -> etree._Element:
    """The ZDS 1.2 message of ``op`` describing the change of ``zaak`` (and its document, besluit or
    the status set: ``status``, else its last)."""
    element = etree.Element(ns.q(ns.ZDS, _ELEMENTS[op]), nsmap=_NSMAP)
    entiteittype = {"maakZaakdocument": "EDC", "updateBesluit": "BSL"}.get(op, "ZAK")
    berichtcode = {"voegBesluitToe": "Di01", "updateZaakdocument": "Di02"}.get(op, "Lk01")
    functie = op if op in ("voegBesluitToe", "updateZaakdocument") else None
    write_stuurgegevens(element, ns.q(ns.ZDS if functie == "updateZaakdocument" else ns.ZKN, "stuurgegevens"),
                        Stuurgegevens(berichtcode=berichtcode, zender=zender, ontvanger=ontvanger,
                                      referentienummer=referentienummer, tijdstipBericht=tijdstip_bericht,
                                      entiteittype=None if functie else entiteittype, functie=functie))
    if op == "voegBesluitToe":
        assert besluit is not None
        _besluit(element, besluit, zaak, schema)
        return element
    if op == "updateZaakdocument":  # told as an edcLk01 W (broker.zds.kennisgevingen)
        assert document is not None
        lk02 = sub(element, ns.ZDS, "edcLk02")
        lk02.set(ENTITEITTYPE, "EDC")
        lk02.set(ns.q(ns.STUF, "functie"), "update")
        sub(sub(lk02, ns.ZKN, "parameters"), ns.STUF, "mutatiesoort", "W")
        lk02.append(_identified(document.identificatie, "EDC", "W"))
        lk02.append(_mark(render.document(document, schema), "W"))
        return element
    parameters = sub(element, ns.ZKN, "parameters")
    sub(parameters, ns.STUF, "mutatiesoort", "T" if op in ("creeerZaak", "maakZaakdocument") else "W")
    sub(parameters, ns.STUF, "indicatorOvername", "V")
    if op == "updateBesluit":  # the BSL kennisgeving has no relation to its zaak
        assert besluit is not None
        element.append(_identified(besluit.identificatie, "BSL", "W"))
        element.append(_mark(render.besluit(_without_zaak(besluit), schema), "W"))
        return element
    if op == "maakZaakdocument":
        assert document is not None
        obj = render.document(document, schema)
        _mark(obj, "T")
        element.append(obj)
    elif op == "creeerZaak":
        obj = render.zaak(zaak, schema)
        if not any(r.relatie == "heeftAlsInitiator" and r.betrokkene is not None for r in zaak.rollen):
            _no_initiator(obj, schema)
        _mark(obj, "T")
        element.append(obj)
    elif op == "updateZaak":
        element.append(_identified(zaak.identificatie, "ZAK", "W"))
        new = render.zaak(_without_statussen(zaak), schema)
        _mark(new, "W")
        element.append(new)
    else:  # actualiseerZaakstatus
        old = _identified(zaak.identificatie, "ZAK", "W")
        heeft = sub(old, ns.ZKN, "heeft")
        heeft.set(ENTITEITTYPE, "ZAKSTT")
        heeft.set(VERWERKINGSSOORT, "T")
        heeft.set(NIL, "true")
        element.append(old)
        new = _identified(zaak.identificatie, "ZAK", "W")
        status = status or (zaak.statussen[-1] if zaak.statussen else None)
        if status is not None:
            new.append(_status(status))
        element.append(_mark(new, "W"))
    return element


def _status(status: Status) -> etree._Element:
    """The ``heeft`` of a status set; ZDS 1.2 requires who set it (``isGezetDoor``): nil with noValue
    waardeOnbekend when the ZGW status does not say."""
    heeft = render.status(status)
    gezet = make(ns.ZKN, "isGezetDoor")
    gezet.set(ENTITEITTYPE, "ZAKSTTBTR")
    if status.gezet_door is not None:
        sub(gezet, ns.ZKN, "gerelateerde").append(render.betrokkene(status.gezet_door))
    else:
        gezet.set(NOVALUE, "waardeOnbekend")
        gezet.set(NIL, "true")
    heeft.append(gezet)
    return heeft


def _no_initiator(obj: etree._Element, schema: SchemaModel) -> None:
    """ZDS 1.2 requires the initiator in creeerZaak; a zaak created in the ZGW APIs gets its rollen
    afterwards (each announced on its own): nil with noValue waardeOnbekend."""
    initiator = sub(obj, ns.ZKN, "heeftAlsInitiator")
    initiator.set(ENTITEITTYPE, "ZAKBTRINI")
    initiator.set(NOVALUE, "waardeOnbekend")
    initiator.set(NIL, "true")
    schema.sort(obj, "ZAK")


def _identified(identificatie: str | None, entiteittype: str, verwerkingssoort: str) -> etree._Element:
    """The old object of a W whose old values are not known: its identificatie only."""
    obj = make(ns.ZKN, "object")
    obj.set(ENTITEITTYPE, entiteittype)
    obj.set(VERWERKINGSSOORT, verwerkingssoort)
    sub(obj, ns.ZKN, "identificatie", identificatie)
    return obj


def _mark(obj: etree._Element, verwerkingssoort: str) -> etree._Element:
    """The object as a kennisgeving carries it: its verwerkingssoort, its relations added (T) with
    their gerelateerde objects identified (I), and without what only an answer holds
    (indicatieLaatsteStatus)."""
    obj.set(VERWERKINGSSOORT, verwerkingssoort)
    for el in list(obj.iter()):
        if el is obj or not isinstance(el.tag, str):
            continue
        if ns.local(el.tag) == "indicatieLaatsteStatus":
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)
        elif el.get(ENTITEITTYPE) and el.get(VERWERKINGSSOORT) is None:
            el.set(VERWERKINGSSOORT, "T" if el.getparent() is obj else "I")
    return obj


def _without_statussen(zaak: Zaak) -> Zaak:
    """updateZaak does not set statussen (actualiseerZaakstatus does)."""
    return dataclasses.replace(zaak, statussen=[], stuf=None)


def _besluit(element: etree._Element, besluit: Besluit, zaak: Zaak, schema: SchemaModel) -> None:
    wrapper = sub(element, ns.ZKN, "object")
    obj = render.besluit(_without_zaak(besluit), schema)
    obj.tag = ns.q(ns.ZKN, "besluit")
    _mark(obj, "T")
    wrapper.append(obj)
    z = sub(wrapper, ns.ZKN, "zaak")
    z.set(ENTITEITTYPE, "ZAK")
    z.set(VERWERKINGSSOORT, "I")
    sub(z, ns.ZKN, "identificatie", zaak.identificatie)


def _without_zaak(besluit: Besluit) -> Besluit:
    """The besluit without its isUitkomstVan (voegBesluitToe names the zaak beside it)."""
    return dataclasses.replace(besluit, zaak_identificatie=None, stuf=None)
