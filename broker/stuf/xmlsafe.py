"""Parsing untrusted XML cheaply and safely.

Every inbound byte string goes through :func:`parse`. It refuses a DOCTYPE (and with it every DTD,
entity declaration and external entity): in UTF-8 and ASCII documents before libxml2 sees them, in
other encodings right after parsing, which is safe because the parser never resolves entities,
never loads a DTD and never touches the network. libxml2's limits on depth and text size stay on
(``huge_tree`` off).
"""

from __future__ import annotations

import re

from lxml import etree

from broker.errors import StufError

# A DOCTYPE may only stand in the prolog, before the root element; finding it there is enough.
_PROLOG_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        collect_ids=False,
    )


_PARSER = _parser()


def refuse_doctype(data: bytes) -> None:
    """Raise StUF055 when the prolog declares a DOCTYPE or an entity."""
    m = _ROOT_START.search(data)
    prolog = data[: m.start()] if m else data
    if _PROLOG_DOCTYPE.search(prolog) or b"<!ENTITY" in data:
        raise StufError(
            "StUF055",
            "Het bericht bevat een DOCTYPE of entiteitdeclaratie; die worden niet geaccepteerd",
            "DTD's en entiteiten zijn niet toegestaan in StUF-berichten",
        )


def parse(data: bytes) -> etree._Element:
    """Parse bytes into an element, or raise StUF055 with line and reason."""
    refuse_doctype(data)
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise StufError(
            "StUF055",
            "Het bericht is geen welgevormde XML",
            f"regel {exc.lineno}, kolom {exc.offset}: {exc.msg}",
        ) from None
    if root is None:
        raise StufError("StUF055", "Het bericht is leeg")
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise StufError("StUF055", "Het bericht bevat een DOCTYPE; die worden niet geaccepteerd")
    return root


def canonical(el: etree._Element) -> bytes:
    """``el`` in exclusive canonical XML: the form that compares two fragments whatever surrounds them
    (namespace declarations they do not use, prefixes declared higher up, attribute order).

    Canonical XML refuses relative namespace URIs (``xmlns:q="rel"``), which XML itself allows: such
    a message is the sender's error (StUF055), not the broker's."""
    try:
        return etree.tostring(el, method="c14n", exclusive=True)
    except etree.C14NError:
        raise StufError("StUF055", "Het bericht kon niet canoniek worden gemaakt",
                        "een namespace-URI is relatief; gebruik absolute namespace-URI's") from None


def parse_trusted(data: bytes | str) -> etree._Element:
    """Parse XML the broker produced or stored itself (same safe settings)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return etree.fromstring(data, _PARSER)
