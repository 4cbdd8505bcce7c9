"""The generic StUF answers: Bv02 (synchronous OK) and Bv03 (asynchronous message received)."""

from __future__ import annotations

from lxml import etree

from broker.stuf import ns
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem, answer_to, write


def bv02(meldingen: list[str] | None = None) -> etree._Element:
    root = etree.Element(ns.q(ns.STUF, "Bv02Bericht"), nsmap={"StUF": ns.STUF})
    write(root, ns.q(ns.STUF, "stuurgegevens"), Stuurgegevens(berichtcode="Bv02"))
    for m in meldingen or []:
        etree.SubElement(root, ns.q(ns.STUF, "melding")).text = m[:250]
    return root


def bv03(request: Stuurgegevens, own: Systeem) -> etree._Element:
    """Bv03: zender/ontvanger mirrored, crossRefnummer = the request's referentienummer (§4.4.1)."""
    root = etree.Element(ns.q(ns.STUF, "Bv03Bericht"), nsmap={"StUF": ns.STUF})
    write(root, ns.q(ns.STUF, "stuurgegevens"), answer_to(request, "Bv03", own))
    return root
