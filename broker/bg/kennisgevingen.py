"""A person source's ``npsLk01`` as the broker distributes it to one afnemer.

The accepted kennisgeving is already the message of the change (mutatiesoort, the new object, for
W/C/F the old one before it), checked by the BG schemas and the rules; every afnemer gets it as it
came, addressed anew: zender the broker, ontvanger the afnemer, a referentienummer and tijdstipBericht
of its own (made at the first attempt and kept, so a retry sends the very same message, StUF 03.01
§4.4.3). Only the stuurgegevens change, so what the afnemer receives stays valid against
``bg0310_msg_mutatie.xsd``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from broker.bg.read import kennisgeving
from broker.stuf import ns
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem
from broker.stuf.stuurgegevens import write as write_stuurgegevens
from broker.zds.xmlutil import child

#: the SOAPAction of an npsLk01 (bg0310_ontvangAsynchroon_mutatie.wsdl)
NPS_LK01_ACTION = f"{ns.BG}/npsLk01"


@dataclass(frozen=True)
class Addressing:
    zender: Systeem
    ontvanger: Systeem
    referentienummer: str
    tijdstip_bericht: str


def render(body: etree._Element, to: Addressing) -> etree._Element:
    """The kennisgeving ``body`` (an accepted npsLk01) addressed to one afnemer."""
    out = copy.deepcopy(body)
    old = child(out, "stuurgegevens")
    assert old is not None  # required by the schema the message passed
    sg = Stuurgegevens(berichtcode="Lk01", zender=to.zender, ontvanger=to.ontvanger,
                       referentienummer=to.referentienummer, tijdstipBericht=to.tijdstip_bericht, entiteittype="NPS")
    new = write_stuurgegevens(etree.Element("holder"), str(old.tag), sg)
    out.replace(old, new)
    return out


def person(body: etree._Element) -> tuple[str, str]:
    """(mutatiesoort, BSN) of an npsLk01: the BSN of its last (the new) object. Personal data: never log it."""
    k = kennisgeving(body)
    return k.mutatiesoort, k.bsn
