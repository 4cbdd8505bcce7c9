"""``stuf-broker send``, StUF-BG: an ``npsLa01`` printed as the persons it holds, a few lines each.

A tool for the operator of a test setup: it prints names, dates and addresses to the terminal that
asked, as the answer holds them; it never logs them (no logger here, nothing to the broker's log).
Values the answer marks unknown (``StUF:noValue`` waardeOnbekend, vastgesteldOnbekend) read "onbekend",
values withheld read "niet geautoriseerd"; a value the person has none of is left out. Elements this
summary does not know are printed as ``element: value`` so that nothing the answer holds is hidden.
"""

from __future__ import annotations

from lxml import etree

from broker.stuf import ns

_NOVALUE_TEXT = {"waardeOnbekend": "onbekend", "vastgesteldOnbekend": "onbekend",
                 "nietGeautoriseerd": "niet geautoriseerd"}
_NAAM = ("voornamen", "voorvoegselGeslachtsnaam", "geslachtsnaam")
_SHOWN = frozenset({
    "inp.bsn", "geslachtsnaam", "voorvoegselGeslachtsnaam", "voorletters", "voornamen", "adellijkeTitelPredikaat",
    "geslachtsaanduiding", "geboortedatum", "inp.geboorteplaats", "overlijdensdatum", "inp.overlijdenplaats",
    "verblijfsadres", "sub.correspondentieAdres", "sub.verblijfBuitenland", "inp.heeftAlsEchtgenootPartner",
    "inp.heeftAlsKinderen", "inp.heeftAlsOuders", "inOnderzoek", "inp.indicatieGeheim",
    "inp.datumOpschortingBijhouding", "inp.redenOpschortingBijhouding"})
_RELATIES = (("inp.heeftAlsEchtgenootPartner", "partner"), ("inp.heeftAlsKinderen", "kind"),
             ("inp.heeftAlsOuders", "ouder"))


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and ns.local(c.tag) == name]


def _value(el: etree._Element | None, name: str) -> str | None:
    """The text of child ``name``; for a nil child what its noValue says (None when it has no value)."""
    found = _children(el, name) if el is not None else []
    if not found:
        return None
    child = found[0]
    if child.get(ns.q(ns.XSI, "nil")) in ("true", "1"):
        return _NOVALUE_TEXT.get(child.get(ns.q(ns.STUF, "noValue")) or "")
    return (child.text or "").strip() or None


def _datum(el: etree._Element | None, name: str) -> str | None:
    """A StUF date as YYYY-MM-DD, its unknown parts as ?? (StUF:indOnvolledigeDatum J, M, D)."""
    text = _value(el, name)
    if text is None or not (len(text) == 8 and text.isdigit()):
        return text
    date_el = _children(el, name)[0] if el is not None else None
    onvolledig = date_el.get(ns.q(ns.STUF, "indOnvolledigeDatum")) if date_el is not None else None
    jaar, maand, dag = text[:4], text[4:6], text[6:]
    if onvolledig == "J":
        return "onbekend"
    if onvolledig == "M":
        maand, dag = "??", "??"
    elif onvolledig == "D":
        dag = "??"
    return f"{jaar}-{maand}-{dag}"


def naam(el: etree._Element) -> str:
    """Voornamen, voorvoegsel and geslachtsnaam, with an adellijke titel or predikaat in brackets; a part
    that is unknown is left out, an unknown geslachtsnaam says so."""
    parts = [_value(el, p) for p in _NAAM]
    known = [v for v in parts if v and v not in _NOVALUE_TEXT.values()]
    if parts[-1] in _NOVALUE_TEXT.values():
        known.append(f"(geslachtsnaam {parts[-1]})")
    text = " ".join(known) if known else "(naam niet in het antwoord)"
    titel = _value(el, "adellijkeTitelPredikaat")
    return f"{text} ({titel})" if titel else text


def _adres(el: etree._Element, postcode_tag: str) -> str:
    straat = _value(el, "gor.openbareRuimteNaam") or _value(el, "gor.straatnaam")
    nummer = (_value(el, "aoa.huisnummer") or "") + (_value(el, "aoa.huisletter") or "")
    toevoeging = _value(el, "aoa.huisnummertoevoeging")
    if toevoeging:
        nummer += f"-{toevoeging}"
    regel1 = " ".join(p for p in (straat, nummer) if p)
    regel2 = " ".join(p for p in (_value(el, postcode_tag), _value(el, "wpl.woonplaatsNaam")) if p)
    buitenland = [v for v in (_value(el, f"sub.adresBuitenland{i}") for i in (1, 2, 3)) if v]
    land = _value(el, "lnd.landnaam")
    text = ", ".join(p for p in (regel1, regel2, *buitenland, land or "") if p)
    return text or "(geen adresgegevens in het antwoord)"


def _gerelateerde(relatie: etree._Element) -> str:
    g = next(iter(_children(relatie, "gerelateerde")), None)
    if g is None or g.get(ns.q(ns.XSI, "nil")) in ("true", "1"):
        return "(geen gegevens)"
    parts = [naam(g)]
    bsn = _value(g, "inp.bsn")
    if bsn:
        parts.append(f"BSN {bsn}")
    geboren = _datum(g, "geboortedatum")
    if geboren:
        parts.append(f"geboren {geboren}")
    return ", ".join(parts)


def _relatie(relatie: etree._Element, soort: str) -> str:
    label = soort
    if soort == "ouder" and _value(relatie, "ouderAanduiding"):
        label = f"ouder ({_value(relatie, 'ouderAanduiding')})"
    text = f"{label}: {_gerelateerde(relatie)}"
    verbintenis, sinds = _value(relatie, "soortVerbintenis"), _datum(relatie, "datumSluiting")
    if verbintenis or sinds:
        text += "; " + " ".join(p for p in (f"verbintenis {verbintenis}" if verbintenis else None,
                                             f"sinds {sinds}" if sinds else None) if p)
    if _children(relatie, "inOnderzoek"):
        text += " (in onderzoek)"
    return text


def _other(el: etree._Element, path: str, out: list[str]) -> None:
    """``path: value`` for each leaf under ``el`` that has a value."""
    children = [c for c in el if isinstance(c.tag, str)]
    if children:
        for child in children:
            _other(child, f"{path}/{ns.local(child.tag)}", out)
        return
    if el.get(ns.q(ns.XSI, "nil")) in ("true", "1"):
        value = _NOVALUE_TEXT.get(el.get(ns.q(ns.STUF, "noValue")) or "")
    else:
        value = (el.text or "").strip() or None
    if value:
        out.append(f"{path}: {value}")


def person(obj: etree._Element) -> list[str]:
    """The lines of one person (without the heading)."""
    lines = [f"naam: {naam(obj)}"]
    extra = [f"{label} {v}" for label, v in (("voorletters", _value(obj, "voorletters")),
                                              ("geslacht", _value(obj, "geslachtsaanduiding"))) if v]
    if extra:
        lines[0] += f" ({', '.join(extra)})"
    geboren, plaats = _datum(obj, "geboortedatum"), _value(obj, "inp.geboorteplaats")
    if geboren or plaats:
        lines.append("geboren: " + " in ".join(p for p in (geboren, plaats) if p))
    overleden, plaats = _datum(obj, "overlijdensdatum"), _value(obj, "inp.overlijdenplaats")
    if overleden or plaats:
        lines.append("overleden: " + " in ".join(p for p in (overleden, plaats) if p))
    for tag, label, postcode in (("verblijfsadres", "verblijfsadres", "aoa.postcode"),
                                 ("sub.verblijfBuitenland", "verblijf buitenland", "postcode"),
                                 ("sub.correspondentieAdres", "correspondentieadres", "postcode")):
        for adres in _children(obj, tag):
            if adres.get(ns.q(ns.XSI, "nil")) not in ("true", "1"):
                lines.append(f"{label}: {_adres(adres, postcode)}")
    for tag, soort in _RELATIES:
        lines.extend(_relatie(r, soort) for r in _children(obj, tag))
    onderzoek = [o.get("groepsnaam") or o.get("elementnaam") or "?" for o in _children(obj, "inOnderzoek")
                 if (o.text or "").strip() == "J"]
    if onderzoek:
        lines.append(f"in onderzoek: {', '.join(onderzoek)}")
    geheim = _value(obj, "inp.indicatieGeheim")
    if geheim and geheim != "0":
        lines.append(f"geheimhouding: {geheim}")
    opgeschort = _datum(obj, "inp.datumOpschortingBijhouding")
    if opgeschort:
        reden = _value(obj, "inp.redenOpschortingBijhouding")
        lines.append(f"bijhouding opgeschort: {opgeschort}" + (f" (reden {reden})" if reden else ""))
    for child in obj:
        if isinstance(child.tag, str) and ns.local(child.tag) not in _SHOWN:
            _other(child, ns.local(child.tag), lines)
    return lines


def summary(payload: etree._Element, heading: str) -> list[str]:
    """``heading`` (the berichtcode line) with the number of persons, then each person."""
    antwoord = next(iter(_children(payload, "antwoord")), None)
    objects = _children(antwoord, "object") if antwoord is not None else []
    if not objects:
        return [f"{heading}: no persons (nothing found)"]
    lines = [f"{heading}: {len(objects)} person" + ("s" if len(objects) != 1 else "")]
    for i, obj in enumerate(objects, 1):
        bsn = _value(obj, "inp.bsn")
        lines.append(f"  person {i}" + (f": BSN {bsn}" if bsn else ""))
        lines.extend(f"    {line}" for line in person(obj))
    parameters = next(iter(_children(payload, "parameters")), None)
    aantal = _value(parameters, "aantalVoorkomens")
    if aantal:
        lines.append(f"  {aantal} persons match in all")
    if _value(parameters, "indicatorVervolgvraag") == "true":
        lines.append("  more persons match: ask again with a vervolgvraag (start at the last person; --xml shows it)")
    return lines
