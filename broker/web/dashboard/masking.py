"""Masking personal data for viewers: BSN, names and addresses in XML, the case model and free text.

Rules, applied to anything a viewer is shown:

- XML: the text of every element whose local name (after a StUF-BG prefix such as ``inp.``,
  ``gor.``, ``aoa.``, ``wpl.``, ``sub.``) names a person or an address is replaced by ``MASK``; for
  address elements (any name containing ``adres``, and ``verblijfBuitenland``) the whole subtree.
  Names: ``bsn``, ``a-nummer``, every name ending in ``naam`` (geslachtsnaam, achternaam,
  straatnaam, woonplaatsNaam, openbareRuimteNaam, statutaireNaam, handelsnaam, ...), voornamen,
  voorletters, voorvoegsel*, huisnummer, huisletter, huisnummertoevoeging, postcode,
  locatiebeschrijving, geboortedatum, geboorteplaats, telefoonnummer.
- the case model: the same fields by key (``broker.model.case.PERSONAL_FIELDS`` and more);
- everywhere (text, attributes, free text such as a target's error): any 9-digit number that passes
  the BSN 11-proef.

Masking errs on the side of hiding: a referentienummer that happens to be a valid BSN is hidden too.
"""

from __future__ import annotations

import re
from typing import Any, overload

from lxml import etree

from broker.model.case import PERSONAL_FIELDS
from broker.stuf import xmlsafe

MASK = "•••••"
BSN_MASK = "*********"

_NAMES = frozenset({
    "bsn", "a-nummer", "anummer", "voornamen", "voorletters", "voorvoegselgeslachtsnaam",
    "voorvoegselachternaam", "voorvoegsel", "huisnummer", "huisletter", "huisnummertoevoeging",
    "postcode", "locatiebeschrijving", "geboortedatum", "geboorteplaats", "telefoonnummer",
    "faxnummer", "aanhef", "aanschrijfwijze", "geslachtsaanduiding", "emailadres",
    # the person behind the sending application (stuurgegevens zender/ontvanger gebruiker)
    "gebruiker",
})
_SUBTREE = ("adres", "verblijfbuitenland")
_KEYS = frozenset(PERSONAL_FIELDS | {
    "statutaire_naam", "handelsnaam", "huisnummer", "postcode", "straatnaam", "woonplaats",
    "woonplaatsnaam", "telefoonnummer", "emailadres", "geboorteplaats", "geslachtsaanduiding",
})
_NINE = re.compile(r"(?<!\d)\d{9}(?!\d)")
#: an element's start tag and its text, closed or not (a truncated request ends anywhere)
_FRAGMENT = re.compile(r"<((?:[\w-]+:)?)([\w.-]+)((?:\s[^<>]*)?)>([^<]*)")
#: a value a schema or date error quotes, with the element it belongs to:
#: "Element 'BG:geslachtsnaam': 'Jansen' is not ..." and "'20230230' in geboortedatum is ..."
_QUOTED = re.compile(r"(Element '(?:[\w-]+:)?([\w.-]+)'(?:, attribute '[^']*')?: ')([^']*)(')"
                     r"|(')([^']*)(' in )([\w.-]+)")
#: personal values shorter than this are not searched for elsewhere in the text (too many false hits)
_MIN_ECHO = 3


def is_bsn(digits: str) -> bool:
    """The 11-proef: 9*d1 + 8*d2 + ... + 2*d8 - d9 is a multiple of 11 (and not zero)."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1))) - int(digits[8])
    return total % 11 == 0 and digits != "000000000"


def mask_bsns(text: str) -> str:
    return _NINE.sub(lambda m: BSN_MASK if is_bsn(m.group()) else m.group(), text)


def _local(tag: object) -> str:
    name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
    return name.rpartition(".")[2].lower()


def is_personal_element(local_name: str) -> bool:
    name = local_name.rpartition(".")[2].lower()
    return name in _NAMES or name.endswith("naam") or any(s in name for s in _SUBTREE)


def _mask_subtree(el: etree._Element) -> None:
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        if node.text and node.text.strip():
            node.text = MASK
        for child in node:
            if child.tail and child.tail.strip():
                child.tail = MASK


def _personal_values(root: etree._Element) -> list[str]:
    """The values of a message's personal elements, longest first, to find them again in free text."""
    found: set[str] = set()
    for el in root.iter():
        if isinstance(el.tag, str) and is_personal_element(_local(el.tag)):
            for node in el.iter():
                text = (node.text or "").strip() if isinstance(node.tag, str) else ""
                if len(text) >= _MIN_ECHO:
                    found.add(text)
    return sorted(found, key=len, reverse=True)


def _mask_echoes(text: str, values: list[str]) -> str:
    """Free text (an omschrijving, a toelichting) that repeats a personal value of the same message."""
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def mask_tree(root: etree._Element) -> etree._Element:
    """Mask in place (the caller passes a copy it may change); returns ``root``."""
    values = _personal_values(root)
    todo = [root]
    while todo:
        el = todo.pop()
        if not isinstance(el.tag, str):
            continue
        if is_personal_element(_local(el.tag)):
            _mask_subtree(el)
            continue
        if el.text:
            el.text = _mask_echoes(mask_bsns(el.text), values)
        for name, value in el.attrib.items():
            el.set(name, _mask_echoes(mask_bsns(value), values))
        for child in el:
            if child.tail:
                child.tail = _mask_echoes(mask_bsns(child.tail), values)
            todo.append(child)
    return root


def mask_xml(data: bytes | str) -> str:
    """Masked XML text; data that does not parse is masked as free text."""
    try:
        root = xmlsafe.parse_trusted(data)
    except etree.XMLSyntaxError:
        return mask_text(data.decode("utf-8", "replace") if isinstance(data, bytes) else data)
    return etree.tostring(mask_tree(root), encoding="unicode")


@overload
def mask_text(text: str) -> str: ...
@overload
def mask_text(text: None) -> None: ...
def mask_text(text: str | None) -> str | None:
    """Free text (an error, a target's answer): XML fragments of personal elements and BSNs."""
    if not text:
        return text
    if text.lstrip().startswith("<"):
        try:
            root = xmlsafe.parse_trusted(text)
        except etree.XMLSyntaxError:
            pass
        else:
            return etree.tostring(mask_tree(root), encoding="unicode")

    echoes: list[str] = []

    def fragment(m: re.Match[str]) -> str:
        if is_personal_element(m.group(2)) and m.group(4).strip():
            value = m.group(4).strip()
            if len(value) >= _MIN_ECHO:
                echoes.append(value)
            return f"<{m.group(1)}{m.group(2)}{m.group(3)}>{MASK}"
        return m.group(0)

    def quoted(m: re.Match[str]) -> str:
        if m.group(1) is not None:  # Element 'x': 'value'
            return f"{m.group(1)}{MASK}{m.group(4)}" if is_personal_element(m.group(2)) else m.group(0)
        return f"{m.group(5)}{MASK}{m.group(7)}{m.group(8)}" if is_personal_element(m.group(8)) else m.group(0)

    masked = _QUOTED.sub(quoted, _FRAGMENT.sub(fragment, text))
    return mask_bsns(_mask_echoes(masked, sorted(set(echoes), key=len, reverse=True)))


def mask_data(value: Any, key: str | None = None) -> Any:
    """The case model (or any JSON-like data) with personal fields and BSNs masked."""
    if key is not None and _personal_key(key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, dict):
        return {k: mask_data(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_data(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def _personal_key(key: str) -> bool:
    k = key.lower()
    return k in _KEYS or "adres" in k or k.endswith("naam") and k not in ("bestandsnaam",)
