"""``stuf-broker send``: send a fixture (or any StUF request) to a running broker and print its answer.

The requests in ``fixtures/`` are complete and schema-valid as they are; their manifest names the values
in them that stand for what changes per call (``placeholders``). Before sending, this command gives the
message a fresh referentienummer and tijdstipBericht, today's date where the fixture has its date, the
identificaties asked for (``--zaak``, ``--document-id``, ``--besluit``, ``--checkout``; a zaak, document
or besluit the message creates gets a new identificatie from the broker when none is given) and the
document content (``--document PATH``, inline base64 or, with ``--mtom``, as an MTOM part). ``--bsn``
sets the BSN of a zaak's initiator (creeerZaak) and, with ``--zds11``, asks geefZaakdetails for the
zaken of that person.

StUF-BG: ``npsLv01`` asks the broker's person source (on ``/bg/BeantwoordVraag``) by BSN (``--bsn``), by
geslachtsnaam and geboortedatum, or by postcode and huisnummer (the options given pick the fixture;
without options the fixtures ask for a shipped test person); ``npsLk01`` places the sender's
afnemerindicatie on a person. The answer's persons are printed by broker.cli.send_persons: names and
addresses go to the operator's terminal, never to a log.

The answer is printed readably: a Bv02/Bv03 as one line, a Du02 with the identificatie it hands out, a
La01 as the elements of each object, a fault as its code, plek and omschrijving. Exit status: 0 for an
answer, 1 for a StUF fault, 2 for a usage or connection error.
"""

from __future__ import annotations

import base64
import mimetypes
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
import httpx
import yaml
from lxml import etree

from broker.bg import dispatch as bg_dispatch
from broker.cli import send_persons
from broker.config import PROJECT_ROOT
from broker.errors import StufError
from broker.stuf import mtom, ns, soap, xmlsafe
from broker.zds import dispatch
from broker.zds.operations import Operation

FIXTURES = PROJECT_ROOT / "fixtures"
ZDS_ACTION = "http://www.stufstandaarden.nl/koppelvlak/zds0120/"
ZKN_ACTION = "http://www.egem.nl/StUF/sector/zkn/0310/"
BG_ACTION = "http://www.egem.nl/StUF/sector/bg/0310/"
BG_SHAPE = "StUF-BG"
#: what a message needs or creates -> the operation that hands out a new identificatie for it
GENERATORS = {
    "zaak": "genereerZaakIdentificatie",
    "document": "genereerDocumentIdentificatie",
    "besluit": "genereerBesluitIdentificatie",
}
OPTION_OF = {"zaak": "--zaak", "document": "--document-id", "besluit": "--besluit", "checkout": "--checkout"}
#: StUF-BG: the option -> the placeholder it replaces; and the question an option asks (picks the npsLv01 fixture)
PERSON_OPTIONS = {"bsn": "--bsn", "initiator": "--bsn", "geslachtsnaam": "--geslachtsnaam", "geboortedatum": "--geboortedatum",
                  "postcode": "--postcode", "huisnummer": "--huisnummer"}
QUESTION_OF = {"bsn": "bsn", "geslachtsnaam": "geslachtsnaam-geboortedatum",
               "geboortedatum": "geslachtsnaam-geboortedatum", "postcode": "postcode-huisnummer",
               "huisnummer": "postcode-huisnummer"}
MAX_LINES = 60


class UsageProblem(Exception):
    """Something the caller must change: exit status 2."""


@dataclass
class Request:
    name: str  # how the request is named to the user: the fixture's path or the file
    operation: Operation
    soap_action: str
    envelope: etree._Element
    version: str
    entry: dict[str, Any]


def _usage(message: str) -> NoReturn:
    click.echo(f"stuf-broker send: {message}", err=True)
    sys.exit(2)


def load_manifest(fixtures: Path = FIXTURES) -> dict[str, Any]:
    path = fixtures / "manifest.yaml"
    if not path.is_file():
        return {"placeholders": {}, "files": {}}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {"placeholders": {}, "files": {}}


def endpoint_path(op: Operation) -> str:
    """Where the broker takes the operation: /zds/<port>, or /bg/<port> for StUF-BG (its port says so)."""
    return f"/{op.port}" if "/" in op.port else f"/zds/{op.port}"


def find_request(what: str, shape: str, manifest: dict[str, Any], fixtures: Path = FIXTURES,
                 question: str | None = None) -> Request:
    """The request WHAT names: a file (also relative to fixtures/), or an operation whose fixture of
    ``shape`` (zds12, zds11; a StUF-BG operation has its own) is used; ``question`` picks among the
    fixtures of one operation (npsLv01: bsn, geslachtsnaam-geboortedatum, postcode-huisnummer)."""
    files: dict[str, dict[str, Any]] = manifest.get("files") or {}
    path = Path(what)
    entry: dict[str, Any] = {}
    if not path.is_file() and (fixtures / what).is_file():
        path = fixtures / what
    if path.is_file():
        try:
            entry = files.get(path.resolve().relative_to(fixtures.resolve()).as_posix(), {})
        except ValueError:
            entry = {}
        name = str(path)
    else:
        prefix = "ZDS 1.2" if shape == "zds12" else "ZDS 1.1"

        def of_shape(start: str) -> list[tuple[str, dict[str, Any]]]:
            return [(rel, e) for rel, e in files.items()
                    if e.get("operation", "").lower() == what.lower() and e.get("shape", "").startswith(start)]

        hits = of_shape(prefix) or of_shape(BG_SHAPE)
        if not hits:
            known = sorted({e["operation"] for e in files.values()
                            if e.get("shape", "").startswith((prefix, BG_SHAPE))})
            raise UsageProblem(f"{what} is neither a file nor an operation with a {prefix} or {BG_SHAPE} fixture; "
                               f"operations: {', '.join(known) or '(no fixtures found in ' + str(fixtures) + ')'}")
        if question and any(e.get("question") for _, e in hits):
            asked = [(rel, e) for rel, e in hits if e.get("question") == question]
            if not asked:
                kinds = ", ".join(str(e.get("question")) for _, e in hits)
                raise UsageProblem(f"{what} has no fixture that asks by {question}; it asks by {kinds}")
            hits = asked
        elif not question:  # the plain fixture of the operation, not one that asks for a person
            hits = [(rel, e) for rel, e in hits if not e.get("question")] or hits
        rel, entry = hits[0]
        path, name = fixtures / rel, rel
    data = path.read_bytes()
    try:
        root = xmlsafe.parse(data)
        if ns.local(root.tag) == "Envelope" and ns.namespace(root.tag) in (ns.SOAP11, ns.SOAP12):
            request = soap.parse_request(data, "text/xml", None)
        else:  # a bare StUF message: it goes in a SOAP 1.1 envelope
            request = soap.SoapRequest("1.1", soap.envelope("1.1", root), root, None)
    except StufError as exc:
        raise UsageProblem(f"{name} is not a SOAP request or StUF message: {exc.omschrijving}") from exc
    resolver = bg_dispatch.resolve if ns.namespace(request.body_element.tag) == ns.BG else dispatch.resolve
    try:
        resolved = resolver(request.body_element, entry.get("soap_action"))
    except StufError as exc:
        raise UsageProblem(f"{name}: {exc.omschrijving}") from exc
    op = resolved.operation
    if resolved.dialect == "bg":
        action = entry.get("soap_action") or BG_ACTION + op.element
    else:
        action = entry.get("soap_action") or (
            ZDS_ACTION + op.element if resolved.dialect == "zds" else f"{ZKN_ACTION}{op.name}_{op.berichtcode}")
    return Request(name, op, action, request.envelope, request.version, entry)


# -- filling in ---------------------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now()


def new_referentienummer() -> str:
    return f"SEND{_now():%Y%m%d%H%M%S}{uuid.uuid4().hex[:8]}"


def fill(request: Request, placeholders: dict[str, str], values: dict[str, str]) -> None:
    """Fresh stuurgegevens, today's dates, and ``values`` (zaak, document, ...) where their placeholder is."""
    now = _now()
    moment = f"{now:%Y%m%d%H%M%S%f}"[:17]
    body = request.envelope
    for sg in body.iter():
        if not isinstance(sg.tag, str) or ns.local(sg.tag) != "stuurgegevens":
            continue
        for child in sg:
            if not isinstance(child.tag, str):
                continue
            if ns.local(child.tag) == "referentienummer":
                child.text = new_referentienummer()
            elif ns.local(child.tag) == "tijdstipBericht":
                child.text = moment
    replace = {str(placeholders[k]): v for k, v in values.items() if placeholders.get(k)}
    if placeholders.get("initiator") and "initiator" in values:  # also as a BTR identificatie: "11" + BSN
        replace[f"11{placeholders['initiator']}"] = f"11{values['initiator']}"
    if placeholders.get("tijdstipBericht"):
        replace[str(placeholders["tijdstipBericht"])] = moment
    if placeholders.get("date"):
        replace[str(placeholders["date"])] = f"{now:%Y%m%d}"
    for el in body.iter():
        if isinstance(el.tag, str) and el.text is not None and len(el) == 0 and el.text.strip() in replace:
            el.text = replace[el.text.strip()]


def present(request: Request, placeholders: dict[str, str], keys: list[str]) -> set[str]:
    """Which of ``keys`` have their placeholder value in the request (so that a value given replaces it)."""
    leaves = {(el.text or "").strip() for el in request.envelope.iter()
              if isinstance(el.tag, str) and len(el) == 0 and el.text}
    found = {k for k in keys if placeholders.get(k) and str(placeholders[k]) in leaves}
    if "initiator" in keys and placeholders.get("initiator") and f"11{placeholders['initiator']}" in leaves:
        found.add("initiator")
    return found


def contents(envelope: etree._Element) -> list[etree._Element]:
    """The ``inhoud`` elements that carry content (not nil, not empty)."""
    return [el for el in envelope.iter(ns.q(ns.ZKN, "inhoud"))
            if el.get(ns.q(ns.XSI, "nil")) not in ("true", "1") and (el.text or "").strip()]


def put_document(envelope: etree._Element, document: Path) -> None:
    data = document.read_bytes()
    ctype = mimetypes.guess_type(document.name)[0] or "application/octet-stream"
    for el in contents(envelope):
        el.text = base64.b64encode(data).decode("ascii")
        el.set(ns.q(ns.STUF, "bestandsnaam"), document.name)
        el.set(ns.q(ns.XMIME, "contentType"), ctype)
        parent = el.getparent()
        formaat = parent.find(ns.q(ns.ZKN, "formaat")) if parent is not None else None
        if formaat is not None and formaat.get(ns.q(ns.XSI, "nil")) is None and document.suffix:
            formaat.text = document.suffix.lstrip(".").lower()[:85]


# -- sending ------------------------------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    payload: etree._Element  # the StUF message in the body, or the Fo-bericht of a Fault
    fault: bool
    content: bytes


def post(client: httpx.Client, url: str, request: Request, use_mtom: bool) -> Answer:
    soap_type = "text/xml" if request.version == "1.1" else "application/soap+xml"
    headers: dict[str, str] = {}
    if use_mtom and contents(request.envelope):
        body, ctype = mtom.serialize(request.envelope, contents(request.envelope), soap_type)
    else:
        body, ctype = soap.to_bytes(request.envelope), f"{soap_type}; charset=utf-8"
    if request.version == "1.1":
        headers["SOAPAction"] = f'"{request.soap_action}"'
    else:
        ctype += f'; action="{request.soap_action}"'
    headers["Content-Type"] = ctype
    endpoint = url.rstrip("/") + endpoint_path(request.operation)
    response = client.post(endpoint, content=body, headers=headers)
    return read_answer(response)


def read_answer(response: httpx.Response) -> Answer:
    ctype = response.headers.get("content-type", "")
    try:
        if mtom.is_multipart(ctype):
            envelope, _ = mtom.parse(response.content, ctype)
        else:
            envelope = xmlsafe.parse(response.content)
        soap_body = next(c for c in envelope if isinstance(c.tag, str) and ns.local(c.tag) == "Body")
        first = next(c for c in soap_body if isinstance(c.tag, str))
    except (StufError, StopIteration) as exc:
        excerpt = response.text[:300].strip()
        raise UsageProblem(f"HTTP {response.status_code} without a SOAP answer: {excerpt or exc}") from None
    if ns.local(first.tag) == "Fault":
        detail = next((c for c in first.iter() if isinstance(c.tag, str) and ns.local(c.tag) in ("detail", "Detail")),
                      None)
        fo = next((c for c in detail if isinstance(c.tag, str)), None) if detail is not None else None
        return Answer(response.status_code, fo if fo is not None else first, True, response.content)
    return Answer(response.status_code, first, False, response.content)


def text_at(el: etree._Element, path: str) -> str | None:
    for part in path.split("/"):
        found = next((c for c in el if isinstance(c.tag, str) and ns.local(c.tag) == part), None)
        if found is None:
            return None
        el = found
    return (el.text or "").strip()


def generate(client: httpx.Client, url: str, what: str, manifest: dict[str, Any]) -> str:
    """A new identificatie for ``what`` (zaak, document, besluit) from the broker's genereer*Identificatie."""
    request = find_request(GENERATORS[what], "zds12", manifest)
    fill(request, manifest.get("placeholders") or {}, {})
    answer = post(client, url, request, use_mtom=False)
    ident = None if answer.fault else text_at(answer.payload, f"{what}/identificatie")
    if not ident:
        raise UsageProblem(f"the broker handed out no {what} identificatie: {describe_fault(answer.payload)}")
    return ident


# -- printing -----------------------------------------------------------------------------------------
def describe_fault(fo: etree._Element) -> str:
    code = text_at(fo, "body/code") or "?"
    plek = text_at(fo, "body/plek") or "?"
    omschrijving = text_at(fo, "body/omschrijving") or ""
    return f"{ns.local(fo.tag).replace('Bericht', '')} {code} (plek {plek}): {omschrijving}"


def _leaves(el: etree._Element, prefix: str, out: list[str]) -> None:
    for child in el:
        if not isinstance(child.tag, str):
            continue
        path = f"{prefix}{ns.local(child.tag)}"
        if child.get(ns.q(ns.XSI, "nil")) in ("true", "1"):
            continue
        if ns.local(child.tag) == "inhoud":
            size = len(base64.b64decode((child.text or "").strip() or b""))
            name = child.get(ns.q(ns.STUF, "bestandsnaam")) or "?"
            ctype = child.get(ns.q(ns.XMIME, "contentType"))
            out.append(f"{path}: {name}, {size} bytes" + (f" ({ctype})" if ctype else ""))
        elif len(child):
            _leaves(child, path + "/", out)
        elif (child.text or "").strip():
            out.append(f"{path}: {(child.text or '').strip()}")


def summary(answer: Answer) -> list[str]:
    payload = answer.payload
    code = text_at(payload, "stuurgegevens/berichtcode") or ns.local(payload.tag)
    lines = [f"{code} ({ns.local(payload.tag)})"]
    ref = text_at(payload, "stuurgegevens/crossRefnummer")
    if ref:
        lines[0] += f", crossRefnummer {ref}"
    if ns.namespace(payload.tag) == ns.BG and code == "La01":
        return send_persons.summary(payload, lines[0])
    if code in ("Bv02", "Bv03"):
        return lines
    body = next((c for c in payload if isinstance(c.tag, str) and ns.local(c.tag) in ("antwoord",)), None)
    if body is not None:
        objects = [c for c in body if isinstance(c.tag, str)]
        lines[0] += f": {len(objects)} object" + ("s" if len(objects) != 1 else "")
        for i, obj in enumerate(objects, 1):
            lines.append(f"  {ns.local(obj.tag)} {i}:")
            inner: list[str] = []
            _leaves(obj, "", inner)
            lines.extend(f"    {line}" for line in inner)
        return lines
    if code == "La01":
        lines[0] += ": no objects (nothing found)"
        return lines
    inner = []
    for child in payload:
        if isinstance(child.tag, str) and ns.local(child.tag) != "stuurgegevens":
            _leaves(child, ns.local(child.tag) + "/", inner)
    lines.extend(f"  {line}" for line in inner)
    return lines


def save_content(answer: Answer, out: Path) -> str | None:
    found = contents(answer.payload)
    if not found:
        return None
    data = base64.b64decode((found[0].text or "").strip())
    out.write_bytes(data)
    return f"saved {len(data)} bytes to {out}"


@click.command()
@click.argument("what", metavar="OPERATION|FILE")
@click.option("--url", default="http://127.0.0.1:8080", envvar="STUF_BROKER_URL", show_default=True,
              help="the broker's base URL (or $STUF_BROKER_URL)")
@click.option("--zds11", is_flag=True, help="send the ZDS 1.1 shape (StUF-ZKN namespace) of OPERATION")
@click.option("--zaak", help="identificatie of the zaak (a new one for creeerZaak when not given)")
@click.option("--document-id", help="identificatie of the document (new for voegZaakdocumentToe/maakZaakdocument)")
@click.option("--besluit", help="identificatie of the besluit (new for voegBesluitToe when not given)")
@click.option("--checkout", help="the checkedOutId geefZaakdocumentbewerken answered")
@click.option("--document", "document", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="file to send as the document's content")
@click.option("--mtom", is_flag=True, help="send the document content as an MTOM part instead of inline base64")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="write the document content of the answer (geefZaakdocumentLezen) to this file")
@click.option("--bsn", help="the BSN to ask for (npsLv01) or to place an afnemerindicatie on (npsLk01); ZDS: of "
              "the zaak's initiator (creeerZaak) or whose zaken to ask for (geefZaakdetails --zds11)")
@click.option("--geslachtsnaam", help="StUF-BG npsLv01: ask by geslachtsnaam (with --geboortedatum)")
@click.option("--geboortedatum", help="StUF-BG npsLv01: the geboortedatum (JJJJMMDD) with --geslachtsnaam")
@click.option("--postcode", help="StUF-BG npsLv01: ask by postcode (with --huisnummer)")
@click.option("--huisnummer", help="StUF-BG npsLv01: the huisnummer with --postcode")
@click.option("--xml", "show_xml", is_flag=True, help="print the answer as it came")
@click.option("--timeout", type=float, default=30, show_default=True, help="seconds to wait for the answer")
def send(what: str, url: str, zds11: bool, zaak: str | None, document_id: str | None, besluit: str | None,
         checkout: str | None, document: Path | None, mtom: bool, out: Path | None, bsn: str | None,
         geslachtsnaam: str | None, geboortedatum: str | None, postcode: str | None, huisnummer: str | None,
         show_xml: bool, timeout: float) -> None:
    """Send a fixture (an operation name, see fixtures/manifest.yaml) or a request file to a running broker.

    \b
    Examples:
      stuf-broker send creeerZaak --zaak 1234QUICK0001
      stuf-broker send voegZaakdocumentToe --zaak 1234QUICK0001 --document brief.pdf --mtom
      stuf-broker send geefZaakdocumentLezen --document-id 1234DOC01 --out kopie.pdf
      stuf-broker send npsLv01 --bsn 999993653
      stuf-broker send npsLv01 --postcode 9725AD --huisnummer 22
      stuf-broker send geefZaakdetails --zds11 --bsn 111222333   (the zaken of a person)
    """
    manifest = load_manifest()
    placeholders = manifest.get("placeholders") or {}
    given = {"zaak": zaak, "document": document_id, "besluit": besluit, "checkout": checkout}
    persons = {k: v for k, v in (("bsn", bsn), ("geslachtsnaam", geslachtsnaam), ("geboortedatum", geboortedatum),
                                 ("postcode", postcode), ("huisnummer", huisnummer)) if v}
    if "postcode" in persons:
        persons["postcode"] = persons["postcode"].replace(" ", "").upper()
    try:
        questions = sorted({QUESTION_OF[k] for k in persons})
        if len(questions) > 1:
            raise UsageProblem("ask one question at a time: --bsn, or --geslachtsnaam and --geboortedatum, "
                               "or --postcode and --huisnummer")
        request = find_request(what, "zds11" if zds11 else "zds12", manifest,
                               question=questions[0] if questions else None)
        if "bsn" in persons and not present(request, placeholders, ["bsn"]):
            persons["initiator"] = persons.pop("bsn")  # ZDS: the BSN of the zaak's initiator
        unused = sorted(set(persons) - present(request, placeholders, list(persons)))
        if unused:
            raise UsageProblem(f"{request.name} has no {' or '.join(PERSON_OPTIONS[k] for k in unused)} to replace")
        needs = list(request.entry.get("needs") or [])
        creates = list(request.entry.get("creates") or [])
        missing = [OPTION_OF[n] for n in needs if not given.get(n)]
        if missing:
            raise UsageProblem(f"{request.operation.name} needs {' and '.join(missing)} (an existing one)")
        with httpx.Client(timeout=timeout) as client:
            values = {k: v for k, v in given.items() if v}
            for thing in creates:
                if thing in GENERATORS and not values.get(thing):
                    values[thing] = generate(client, url, thing, manifest)
            fill(request, placeholders, {**values, **persons})
            if document is not None:
                if not contents(request.envelope):
                    raise UsageProblem(f"{request.name} has no document content to replace (--document)")
                put_document(request.envelope, document)
            click.echo(f"{request.operation.name} ({request.name}) -> {url.rstrip('/')}{endpoint_path(request.operation)}")
            for thing in ("zaak", "document", "besluit"):
                if thing in values and (thing in needs or thing in creates):
                    click.echo(f"  {thing}: {values[thing]}")
            answer = post(client, url, request, use_mtom=mtom)
    except UsageProblem as exc:
        _usage(str(exc))
    except httpx.HTTPError as exc:
        _usage(f"could not reach the broker at {url}: {exc}")
    if show_xml:
        click.echo(answer.content.decode("utf-8", "replace"))
    if answer.fault:
        click.echo(describe_fault(answer.payload))
        details = text_at(answer.payload, "body/details")
        if details:
            click.echo(f"  details: {details}")
        sys.exit(1)
    lines = summary(answer)
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"  ... {len(lines) - MAX_LINES} more lines (--xml shows the whole answer)"]
    for line in lines:
        click.echo(line)
    if out is not None:
        saved = save_content(answer, out)
        click.echo(saved or "the answer holds no document content; nothing saved")
