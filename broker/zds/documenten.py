"""What the document services of ZDS 1.2 §4.3 share.

- reading a document (EDC) from a kennisgeving, with its ``inhoud`` even when that is empty, and the
  checks every service makes on it: an identificatie, one zaak (``isRelevantVoor``), the size limit,
  the minimal metadata a document keeps (ZDS 1.2 §4.3.6);
- the checkout parameters of the vrije berichten (``ZDS:parameters``: checkedOutId, checkedOutBy);
- building answers that fit the ZDS answer types. Those types are stricter than the entities: they
  demand elements a scope may not ask for (``inhoud`` in geefZaakdocumentLezen, ``registratiedatum``
  of every ``heeftRelevant`` in geefLijstZaakdocumenten) and refuse others (``dct.categorie`` in a
  gerelateerde). :func:`fit` makes an answer object fit its type as the installed schema defines it,
  read once like broker.zds.kern does for entity order and kerngegevens;
- the ZAKEDC relation a zaak shows for each of its documents (``heeftRelevant``): the document's
  EDCZAK relation (``isRelevantVoor``) as registered, with the document as the gerelateerde.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from broker.errors import StufError
from broker.model import Document, Inhoud
from broker.stuf import ns
from broker.zds import read
from broker.zds.kern import SchemaModel
from broker.zds.xmlutil import (
    ENTITEITTYPE,
    NOVALUE,
    VERWERKINGSSOORT,
    child,
    children,
    clone,
    is_nil,
    make,
    nil,
    strip_processing,
    sub,
    text,
)

BESTANDSNAAM = read.BESTANDSNAAM
CONTENT_TYPE = read.CONTENT_TYPE

#: complexTypes of the answers, read from these files (ZDS first: its restrictions are the answer types)
_SHAPE_FILES = (
    "zds0120/entiteiten/zds0120_ent_zs-dms.xsd",
    "zkn0310/vraagAntwoord/zkn0310_ent_vraagAntwoord.xsd",
)
_XS_SEQUENCE = (f"{{{ns.XS}}}complexContent/{{{ns.XS}}}restriction/{{{ns.XS}}}sequence", f"{{{ns.XS}}}sequence")

#: ZDS 1.2 answer types per dialect (ZDS 1.2 shapes, and the StUF-ZKN 03.10 ones of ZDS 1.1 clients)
LEZEN_TYPE = {"zds": "GeefZaakdocumentLezen-EDC-antwoord", "zkn": "EDC-antwoord"}
LIJST_TYPE = {"zds": "GeefLijstZaakDocumenten-ZAK-antwoord", "zkn": "ZAK-antwoord"}
BEWERKEN_TYPE = "EDC-antwoord-gzdb"
_GERELATEERDE_EDC = "GeefLijstZaakDocumenten-EDC-gerelateerdeAntwoord"
_ZAKEDC = "GeefLijstZaakDocumenten-ZAKEDC-antwoord"

#: the relation's own gegevens, answered (empty when not registered) with every heeftRelevant
_RELATIE_GEGEVENS = ("titel", "beschrijving", "registratiedatum")
#: minimal metadata of a document: required in voegZaakdocumentToe/maakZaakdocument, never emptied later
MINIMALE_METADATA = ("dct.omschrijving", "creatiedatum", "titel", "vertrouwelijkAanduiding", "auteur")


# -- reading ---------------------------------------------------------------------------------
def document(obj: etree._Element) -> Document:
    """The document of a kennisgeving; ``inhoud`` is kept when empty (a zero-byte document)."""
    doc = read.document(obj)
    el = child(obj, "inhoud")
    if doc.inhoud is None and el is not None and not is_nil(el):
        doc.inhoud = Inhoud(data=b"", bestandsnaam=el.get(BESTANDSNAAM), content_type=el.get(CONTENT_TYPE))
    return doc


def require_identificatie(doc: Document) -> str:
    if not doc.identificatie:
        raise StufError("StUF055", "Het document heeft geen identificatie")
    return doc.identificatie


def zaak_relatie(obj: etree._Element, service: str) -> etree._Element:
    """The one ``isRelevantVoor`` (verwerkingssoort T) that links a new document to its zaak.

    ZDS 1.2 §4.3.4/§4.3.5 add a *zaak*document: the zaak is required even where the schema lets it
    out (maakZaakdocument). RGBZ allows a document to be relevant for several zaken; this
    zaaksysteem links a document to one zaak and says so rather than dropping the others.
    """
    rels = [r for r in children(obj, "isRelevantVoor") if not is_nil(r)]
    if not rels:
        raise StufError(
            "StUF055",
            f"{service}: het document moet aan een zaak worden gekoppeld (isRelevantVoor)",
            f"ZDS 1.2: {service} voegt een zaakdocument toe; isRelevantVoor met de zaak ontbreekt of is leeg",
        )
    if len(rels) > 1:
        raise StufError(
            "StUF058",
            "Een document kan in dit zaaksysteem aan één zaak worden gekoppeld",
            f"het bericht koppelt het document aan {len(rels)} zaken",
            plek="client",
        )
    rel = rels[0]
    if rel.get(VERWERKINGSSOORT) != "T":
        raise StufError(
            "StUF055",
            f"De koppeling met de zaak (isRelevantVoor) heeft in {service} verwerkingssoort T",
            f"ontvangen: {rel.get(VERWERKINGSSOORT) or '(geen)'}",
        )
    if not text(child(rel, "gerelateerde"), "identificatie"):
        raise StufError("StUF055", f"{service}: isRelevantVoor noemt de identificatie van de zaak niet")
    return rel


def check_size(inhoud: Inhoud | None, limit: int) -> None:
    """Refuse content above ``limits.max_document_bytes`` with a sentence a person can act on."""
    if inhoud is None or inhoud.size <= limit:
        return
    raise StufError(
        "StUF058",
        f"Het document is te groot ({_mb(inhoud.size)}); dit zaaksysteem neemt documenten tot "
        f"{_mb(limit)} aan",
        f"inhoud van {inhoud.size} bytes, maximum {limit} bytes (limits.max_document_bytes)",
        plek="client",
    )


def keep_minimal_metadata(nieuw: etree._Element, identificatie: str | None) -> None:
    """updateZaakdocument may change the metadata, not empty what every document must have.

    ZDS 1.2 §4.3.6 asks the ZS to respect "de regels voor minimaal vereiste metadata bij een EDC";
    those are the elements voegZaakdocumentToe and maakZaakdocument require.
    """
    for name in MINIMALE_METADATA:
        for el in children(nieuw, name):
            if is_nil(el) or not (el.text or "").strip():
                raise StufError(
                    "StUF055",
                    f"{name} van document {identificatie} mag niet leeg worden gemaakt",
                    "ZDS 1.2 §4.3.6: de minimaal vereiste metadata van een document ("
                    + ", ".join(MINIMALE_METADATA) + ") blijft gevuld",
                )


def checkout_id(body: etree._Element, service: str) -> str:
    """``parameters/checkedOutId`` of updateZaakdocument and cancelCheckout; required by ZDS 1.2."""
    value = text(child(body, "parameters"), "checkedOutId")
    if not value:
        raise StufError(
            "StUF055",
            f"{service} vraagt de checkout-id (parameters/checkedOutId) die geefZaakdocumentbewerken gaf",
            "ZDS 1.2 §4.3.6/§4.3.8: alleen wie het document heeft uitgecheckt kan het bijwerken of vrijgeven",
        )
    return value


# -- answering -------------------------------------------------------------------------------
def checkout_parameters(tag_ns: str, checkout_id_value: str, checked_out_by: str | None) -> etree._Element:
    """``parameters`` of geefZaakdocumentBewerken_Du02 (ZDS:Parameters-zs-dms)."""
    params = make(tag_ns, "parameters")
    sub(params, tag_ns, "checkedOutId", checkout_id_value)
    if checked_out_by:
        sub(params, tag_ns, "checkedOutBy", checked_out_by[:200])
    return params


def inhoud_element(inhoud: Inhoud | None, fallback_name: str) -> etree._Element:
    """``ZKN:inhoud`` as StUF:BinaireInhoud: base64, ``StUF:bestandsnaam`` (required by the type;
    the document's titel or identificatie when none was given) and ``xmime:contentType`` when known.
    A document without content (maakZaakdocument) answers an empty inhoud."""
    el = make(ns.ZKN, "inhoud")
    if inhoud is not None and inhoud.blob is not None:
        el.text = inhoud.blob.text()  # the edge streams the file in its place (broker.store.blobs)
    else:
        el.text = base64.b64encode(inhoud.data if inhoud is not None else b"").decode("ascii")
    name = inhoud.bestandsnaam if inhoud is not None and inhoud.bestandsnaam else fallback_name
    el.set(BESTANDSNAAM, (name or "document")[:255])
    ctype = inhoud.content_type if inhoud is not None else None
    if ctype and len(ctype) >= 3:
        el.set(CONTENT_TYPE, ctype)
    return el


def with_inhoud(doc: Document, schema: SchemaModel) -> etree._Element:
    """The document's entity with its content as ``inhoud`` in schema position."""
    if doc.stuf is None:
        raise ValueError("the document has no StUF entity yet: broker.zds.render.ensure builds it")
    el = clone(doc.stuf)
    for c in children(el, "inhoud"):
        el.remove(c)
    schema.insert(el, "EDC", inhoud_element(doc.inhoud, doc.titel or doc.identificatie or "document"))
    return el


def heeft_relevant(document_el: etree._Element, schema: SchemaModel) -> etree._Element:
    """The ZAKEDC relation a zaak shows for one of its documents.

    Its gegevens are those of the document's ``isRelevantVoor`` (EDCZAK) as registered; the
    gerelateerde is the document itself, with what a gerelateerde EDC may hold in an answer (no
    ``inhoud``, no ``dct.categorie``, no relations). ``titel``, ``beschrijving`` and
    ``registratiedatum`` of the relation are always answered, empty with ``geenWaarde`` when the
    registration has none (geefLijstZaakdocumenten requires ``registratiedatum``). The schema gives
    ``sta.datumStatusGezet`` a date in EDCZAK but a volgnummer in ZAKEDC; a date cannot be answered
    there, so it is left out.
    """
    shape = shapes(schema)
    link = child(document_el, "isRelevantVoor")
    rel = make(ns.ZKN, "heeftRelevant")
    rel.set(ENTITEITTYPE, "ZAKEDC")
    ger = etree.SubElement(rel, ns.q(ns.ZKN, "gerelateerde"))
    ger.set(ENTITEITTYPE, "EDC")
    for part in shape[_GERELATEERDE_EDC]:
        for c in children(document_el, part.name):
            ger.append(strip_processing(clone(c)))
    for part in shape[_ZAKEDC]:
        if part.name == "gerelateerde" or part.name.startswith("historie"):
            continue
        for c in children(link, part.name):
            if part.name == "sta.datumStatusGezet" and not _is_volgnummer(c):
                continue
            rel.append(strip_processing(clone(c)))
        if part.name in _RELATIE_GEGEVENS and not children(rel, part.name):
            nil(rel, ns.ZKN, part.name, "geenWaarde")
    return rel


def no_heeft_relevant() -> etree._Element:
    """geefLijstZaakdocumenten must answer heeftRelevant; a zaak without documents has none."""
    rel = make(ns.ZKN, "heeftRelevant")
    rel.set(ENTITEITTYPE, "ZAKEDC")
    rel.set(ns.q(ns.XSI, "nil"), "true")
    rel.set(NOVALUE, "geenWaarde")
    return rel


# -- answer shapes ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One child element of an answer type: is it required, may it be nil, its ZKN type."""

    name: str
    required: bool
    nillable: bool
    type: str | None  # local name of a ZKN complexType, None for StUF/simple content


@lru_cache(maxsize=4)
def _load_shapes(xsd_dir: str) -> dict[str, tuple[Part, ...]]:
    out: dict[str, tuple[Part, ...]] = {}
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    for rel in _SHAPE_FILES:
        root = etree.parse(str(Path(xsd_dir) / rel), parser).getroot()
        for ct in root.findall(ns.q(ns.XS, "complexType")):
            name = ct.get("name")
            seq = None
            for path in _XS_SEQUENCE:
                seq = ct.find(path)
                if seq is not None:
                    break
            if not name or seq is None:
                continue
            parts = []
            for el in seq.findall(ns.q(ns.XS, "element")):
                local = el.get("name") or (el.get("ref") or "").rpartition(":")[2]
                prefix, _, type_name = (el.get("type") or "").rpartition(":")
                zkn_type = type_name if prefix and el.nsmap.get(prefix) == ns.ZKN else None
                parts.append(Part(local, el.get("minOccurs", "1") != "0", el.get("nillable") == "true", zkn_type))
            out.setdefault(name, tuple(parts))
    return out


def shapes(schema: SchemaModel) -> dict[str, tuple[Part, ...]]:
    return _load_shapes(str(schema.xsd_dir))


def fit(selected: etree._Element, full: etree._Element | None, type_name: str,
        schema: SchemaModel) -> etree._Element:
    """Make ``selected`` (what the scope asked for) an instance of the answer type ``type_name``.

    Elements the type does not know are dropped; elements it requires are taken from ``full`` (the
    whole registration) or, when the registration has no value, answered empty: nil with
    ``geenWaarde`` where the type allows nil, an empty value where it does not (the ``-r`` types of
    geefZaakdocumentbewerken). Nested types are fitted the same way; children are put in schema order.
    """
    shape = shapes(schema)
    parts = shape.get(type_name)
    if not parts:
        return selected
    by_name = {p.name: p for p in parts}
    for c in children(selected):
        if ns.local(c.tag) not in by_name:
            selected.remove(c)
    for p in parts:
        present = children(selected, p.name)
        if p.required and not present:
            source = children(full, p.name)
            if source:
                for s in source:
                    selected.append(clone(s))
            elif p.nillable:
                nil(selected, ns.ZKN, p.name, "geenWaarde")
            else:
                sub(selected, ns.ZKN, p.name, "")
        if not p.nillable:
            better = [s for s in children(full, p.name) if not is_nil(s)]
            for i, c in enumerate(children(selected, p.name)):
                if not is_nil(c):
                    continue
                if i < len(better):
                    selected.replace(c, clone(better[i]))
                else:
                    c.attrib.pop(ns.q(ns.XSI, "nil"), None)
                    c.attrib.pop(NOVALUE, None)
    for p in parts:
        if p.type is None or not shape.get(p.type):
            continue
        fulls = children(full, p.name)
        for i, c in enumerate(children(selected, p.name)):
            if not is_nil(c):
                fit(c, fulls[i] if i < len(fulls) else None, p.type, schema)
    _sort(selected, [p.name for p in parts])
    return selected


def _sort(el: etree._Element, order: list[str]) -> None:
    kids = children(el)
    index = {n: i for i, n in enumerate(order)}
    ordered = sorted(kids, key=lambda c: index.get(ns.local(c.tag), len(order)))
    if ordered != kids:
        for c in kids:
            el.remove(c)
        for c in ordered:
            el.append(c)


def _is_volgnummer(el: etree._Element) -> bool:
    value = (el.text or "").strip()
    return is_nil(el) or (value.isdigit() and 0 < int(value) < 10_000)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"
