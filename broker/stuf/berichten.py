"""The generic StUF answers: Bv02 (synchronous OK) and Bv03 (asynchronous message received)."""

from __future__ import annotations

import re

from lxml import etree

from broker.stuf import ns, soap
from broker.stuf.stuurgegevens import ORDER, SYSTEEM_FIELDS, Stuurgegevens, Systeem, answer_to, write


def bv02(meldingen: list[str] | None = None) -> etree._Element:
    root = etree.Element(ns.q(ns.STUF, "Bv02Bericht"), nsmap={"StUF": ns.STUF})
    write(root, ns.q(ns.STUF, "stuurgegevens"), Stuurgegevens(berichtcode="Bv02"))
    for m in meldingen or []:
        etree.SubElement(root, ns.q(ns.STUF, "melding")).text = m[:250]
    return root


def bv03(request: Stuurgegevens, own: Systeem) -> etree._Element:
    """Bv03: zender/ontvanger mirrored, crossRefnummer = the request's referentienummer (§4.4.1)."""
    return bv03_of(answer_to(request, "Bv03", own))


def bv03_of(sg: Stuurgegevens) -> etree._Element:
    """The Bv03 with the answer stuurgegevens ``sg`` (:func:`answer_to`)."""
    root = etree.Element(ns.q(ns.STUF, "Bv03Bericht"), nsmap={"StUF": ns.STUF})
    write(root, ns.q(ns.STUF, "stuurgegevens"), sg)
    return root


def _around(version: str) -> tuple[bytes, bytes]:
    """What lxml writes before and after a Bv03's stuurgegevens in the envelope of ``version``."""
    empty = soap.to_bytes(soap.envelope(version, etree.Element(ns.q(ns.STUF, "Bv03Bericht"), nsmap={"StUF": ns.STUF})))
    end = empty.index(b"/>", empty.index(b"<StUF:Bv03Bericht"))  # the empty element's end
    return empty[:end] + b">", b"</StUF:Bv03Bericht>" + empty[end + 2:]


_AROUND = {version: _around(version) for version in ("1.1", "1.2")}
#: what lxml would refuse in a text (the values come from a parsed message or the configuration)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def bv03_envelope(sg: Stuurgegevens, version: str) -> bytes:
    """``soap.to_bytes(soap.envelope(version, bv03_of(sg)))``, the same bytes, written as text
    instead of as a tree that is serialised at once: a queued message's answer has the same shape
    every time, and building it cost about as much as the semantic rules of the request."""
    parts = ["<StUF:stuurgegevens>"]
    for name in ORDER:
        value = getattr(sg, name)
        if value is None:
            continue
        if isinstance(value, Systeem):
            fields = [f"<StUF:{field}>{_text(v)}</StUF:{field}>" for field in SYSTEEM_FIELDS
                      if (v := getattr(value, field)) is not None]
            parts.append(f"<StUF:{name}>{''.join(fields)}</StUF:{name}>" if fields else f"<StUF:{name}/>")
        else:
            parts.append(f"<StUF:{name}>{_text(value)}</StUF:{name}>")
    parts.append("</StUF:stuurgegevens>")
    inner = "".join(parts)
    if _NOT_XML.search(inner):  # lxml's refusal, as the tree would give it
        return soap.to_bytes(soap.envelope(version, bv03_of(sg)))
    before, after = _AROUND[version]
    return b"".join((before, inner.encode(), after))


def _text(value: str) -> str:
    """A text as lxml escapes it in an element."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value
