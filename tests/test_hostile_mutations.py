"""Property-based: valid messages (tests/support builders), mutated by hypothesis (elements dropped,
duplicated, reordered, renamed or added; text, attributes and namespace declarations inserted;
bytes flipped, cut or inserted; SOAP version, content type and SOAPAction varied), posted to a live
broker. Every answer keeps the rule of tests/support/hostile.py (a 4xx, or a well-formed SOAP answer
whose Fo02/Fo03 is schema-valid; never a 5xx without a StUF fault) within 2 s, and the broker lives on.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.support import document_messages as d
from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support.edge_live import Edge, running
from tests.support.hostile import judge, post

XOP_NS = "http://www.w3.org/2004/08/xop/include"


ZAAK = "1234ZAAKVANDEZEMODULE"  # replaced by the identificatie of a zaak the module's broker holds


def _zaak() -> str:
    return f"1234{m.ref()}"


#: name: (port, SOAPAction, builder of a fresh valid message)
BASES: dict[str, tuple[str, str, Callable[[], str]]] = {
    "genereerZaakIdentificatie": (e.SYNC_VRIJ, m.ZDS_ACTION + "genereerZaakIdentificatie_Di02",
                                  m.genereer_zaak_identificatie),
    "genereerZaakIdentificatie-zkn": (e.SYNC_VRIJ, e.ZKN_ACTION + "genereerZaakIdentificatie_Di02",
                                      e.genereer_zaak_identificatie_zkn),
    "creeerZaak": (e.ASYNC, m.ZDS_ACTION + "creeerZaak_ZakLk01", lambda: m.creeer_zaak(_zaak())),
    "geefZaakdetails": (e.VRAAG, m.ZDS_ACTION + "geefZaakdetails_ZakLv01", lambda: m.geef_zaakdetails(ZAAK)),
    "updateZaak": (e.ASYNC, m.ZDS_ACTION + "updateZaak_ZakLk01", lambda: e.update_zaak(ZAAK)),
    "actualiseerZaakstatus": (e.ASYNC, m.ZDS_ACTION + "actualiseerZaakstatus_ZakLk01",
                              lambda: e.actualiseer_zaakstatus(ZAAK)),
    "voegZaakdocumentToe": (e.ASYNC, d.ACTION["voegZaakdocumentToe"],
                            lambda: d.voeg_zaakdocument_toe(f"DOC{m.ref()}", ZAAK)),
    "geefLijstZaakdocumenten": (e.VRAAG, d.ACTION["geefLijstZaakdocumenten"],
                                lambda: d.geef_lijst_zaakdocumenten(ZAAK)),
    "geefZaakdocumentLezen": (e.VRAAG, d.ACTION["geefZaakdocumentLezen"],
                              lambda: d.geef_zaakdocument_lezen(f"DOC{m.ref()}")),
}

NAMESPACES = [None, m.STUF, m.ZKN, m.ZDS, m.BG, m.XSI, e.SOAP11, XOP_NS, "urn:x", "rel/ative", ""]
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,12}", fullmatch=True)
XML_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r"),
                   max_size=40)
VALUES = XML_TEXT | st.sampled_from(["true", "1", "geenWaarde", "W", "T", "I", "V", "alles", "' OR 1=1 --",
                                     "../../etc/passwd", "x" * 300, "cid:p1"])


def _elements(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter() if isinstance(el.tag, str)]


def _pick(draw, root: etree._Element, *, with_root: bool = True) -> etree._Element | None:
    elements = _elements(root) if with_root else _elements(root)[1:]
    return elements[draw(st.integers(0, len(elements) - 1))] if elements else None


def _qname(draw) -> str:
    uri = draw(st.sampled_from(NAMESPACES))
    return f"{{{uri}}}{draw(NAMES)}" if uri else draw(NAMES)


def _tree_mutation(draw, root: etree._Element) -> str:
    op = draw(st.sampled_from(["drop", "duplicate", "reorder", "text", "tail", "attribute", "rename", "add",
                               "empty", "nil"]))
    el = _pick(draw, root, with_root=op not in ("drop", "duplicate", "tail"))
    if el is None:
        return "none"
    parent = el.getparent()
    if op == "drop" and parent is not None:
        parent.remove(el)
    elif op == "duplicate" and parent is not None:
        for _ in range(draw(st.integers(1, 3))):
            el.addnext(copy.deepcopy(el))
    elif op == "reorder" and len(el) > 1:
        order = draw(st.permutations(list(range(len(el)))))
        children = list(el)
        for child in children:
            el.remove(child)
        el.extend(children[i] for i in order)
    elif op == "text":
        el.text = draw(VALUES)
    elif op == "tail":
        el.tail = draw(VALUES)
    elif op == "attribute":
        el.set(_qname(draw), draw(VALUES))
    elif op == "rename":
        el.tag = _qname(draw)
    elif op == "add":
        child = etree.Element(_qname(draw))
        child.text = draw(VALUES)
        el.insert(draw(st.integers(0, len(el))), child)
    elif op == "empty":
        for child in list(el):
            el.remove(child)
        el.text = None
    elif op == "nil":
        el.set(f"{{{m.XSI}}}nil", "true")
        el.set(f"{{{m.STUF}}}noValue", draw(st.sampled_from(["geenWaarde", "waardeOnbekend", "nietOndersteund", "x"])))
    return op


_START_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*")


def _byte_mutation(draw, body: bytes) -> bytes:
    op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "namespace", "redeclare", "entity"]))
    at = draw(st.integers(0, max(0, len(body) - 1)))
    if op == "flip" and body:
        return body[:at] + bytes([body[at] ^ draw(st.integers(1, 255))]) + body[at + 1:]
    if op == "truncate":
        return body[:at]
    if op == "insert":
        return body[:at] + draw(st.binary(min_size=1, max_size=30) | st.sampled_from(
            [b"<", b">", b"&", b"]]>", b"<!--", b"<![CDATA[", b"\x00", b"\xff", b"<?xml version='1.0'?>", b"&amp;"])) + body[at:]
    if op == "delete":
        return body[:at] + body[at + draw(st.integers(1, 40)):]
    tags = list(_START_TAG.finditer(body))
    tag = tags[draw(st.integers(0, len(tags) - 1))] if tags else None
    if tag is None:
        return body
    if op == "namespace":  # a new declaration on a start tag
        decl = f' xmlns:{draw(NAMES.filter(lambda n: not n.lower().startswith("xml")))}="{draw(st.sampled_from(NAMESPACES[1:]))}"'
    elif op == "redeclare":  # a known prefix bound to another namespace below this element
        prefix = draw(st.sampled_from(["StUF", "ZKN", "ZDS", "BG", "xsi", "soapenv", "env", ""]))
        uri = draw(st.sampled_from(NAMESPACES[1:]))
        decl = f' xmlns:{prefix}="{uri}"' if prefix else f' xmlns="{uri}"'
    else:  # an undeclared entity reference
        decl = ' a="&undeclared;"'
    return body[:tag.end()] + decl.encode() + body[tag.end():]


@st.composite
def mutated(draw) -> tuple[str, str, bytes, dict[str, str]]:
    name = draw(st.sampled_from(sorted(BASES)))
    port, action, build = BASES[name]
    root = etree.fromstring(build().encode())
    for _ in range(draw(st.integers(0, 3))):
        _tree_mutation(draw, root)
    version = draw(st.sampled_from(["1.1", "1.2"]))
    body = e.envelope(etree.tostring(root, encoding="unicode"), version, "soapenv" if version == "1.1" else "env")
    for _ in range(draw(st.integers(0, 2))):
        body = _byte_mutation(draw, body)
    ctype = draw(st.sampled_from(["right", "other", "none", "xml"]))
    right = "text/xml; charset=utf-8" if version == "1.1" else "application/soap+xml; charset=utf-8"
    other = "application/soap+xml; charset=utf-8" if version == "1.1" else "text/xml; charset=utf-8"
    headers = {"Content-Type": {"right": right, "other": other, "none": "", "xml": "application/xml"}[ctype]}
    how = draw(st.sampled_from(["right", "none", "other", "garbage"]))
    if how != "none":
        other_action = BASES[draw(st.sampled_from(sorted(BASES)))][1]
        headers["SOAPAction"] = {"right": f'"{action}"', "other": f'"{other_action}"',
                                 "garbage": draw(st.from_regex(r"[ -~]{0,60}", fullmatch=True)).strip()}[how]
    return name, port, body, headers


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas) -> Iterator[Edge]:
    with running(tmp_path_factory.mktemp("mutations"), schemas, limits__max_body_bytes=256 * 1024) as edge:
        yield edge


@pytest.fixture(scope="module")
def zaak(edge: Edge) -> str:
    """A zaak in the module's broker, so that unmutated messages about a zaak succeed."""
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    assert ident
    assert edge.soap.call(e.ASYNC, m.creeer_zaak(ident)).berichtcode == "Bv03"
    return ident


@pytest.fixture(scope="module")
def http(edge: Edge) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _alive(edge: Edge, http: httpx.Client) -> None:
    assert edge.broker.thread.is_alive(), "the server thread died"
    assert http.get(edge.url + "/healthz").status_code == 200


PROPERTY = settings(max_examples=150, deadline=None, database=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@PROPERTY
@given(case=mutated())
def test_a_mutated_message_gets_a_well_formed_bounded_answer(edge: Edge, http: httpx.Client, zaak: str, case) -> None:
    name, port, body, headers = case
    body = body.replace(ZAAK.encode(), zaak.encode())
    reply = post(http, f"{edge.url}/zds/{port}", body, headers)
    problem = judge(edge.soap, reply)
    event(f"HTTP {reply.status}")
    assert problem is None, f"{name} on {port}: {problem}\nrequest {body[:2000]!r}\nheaders {headers}"
    _alive(edge, http)


@st.composite
def mtom_mutated(draw) -> tuple[bytes, dict[str, str]]:
    """A voegZaakdocumentToe whose inhoud is an MTOM part, with its MIME structure mutated."""
    cids = draw(st.lists(st.sampled_from(["p1", "p2", "root.x@test", "", "%70%31"]), min_size=0, max_size=3))
    message = d.voeg_zaakdocument_toe(f"DOC{m.ref()}", ZAAK, inhoud_xml=d.xop_inhoud("p1"))
    if draw(st.booleans()):  # an xop:Include somewhere else too
        root = etree.fromstring(message.encode())
        target = _pick(draw, root)
        assert target is not None
        etree.SubElement(target, f"{{{XOP_NS}}}Include").set("href", f"cid:{draw(st.sampled_from(['p1', 'p2', 'x']))}")
        message = etree.tostring(root, encoding="unicode")
    root_part = (b'Content-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\nContent-ID: <root>\r\n\r\n'
                 + e.envelope(message))
    parts = [root_part] + [f"Content-Type: application/pdf\r\nContent-ID: <{cid}>\r\n\r\n".encode()
                           + draw(st.binary(max_size=64)) for cid in cids]
    body = b"".join(b"--grens\r\n" + part + b"\r\n" for part in parts) + b"--grens--\r\n"
    headers = {"Content-Type": 'multipart/related; type="application/xop+xml"; boundary="grens"; start="<root>"; '
                               'start-info="text/xml"', "SOAPAction": f'"{d.ACTION["voegZaakdocumentToe"]}"'}
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(["boundary", "start", "bytes", "type"]))
        if op == "boundary":
            new = draw(st.sampled_from(["", "x", "y" * 100, "gren", "grens--"]))
            headers["Content-Type"] = re.sub(r'; boundary="[^"]*"', f'; boundary="{new}"' if new else "",
                                             headers["Content-Type"])
        elif op == "start":
            headers["Content-Type"] = re.sub(r'start="[^"]*"', draw(st.sampled_from(['start="<x>"', 'start=""', ""])),
                                             headers["Content-Type"])
        elif op == "type":
            headers["Content-Type"] = headers["Content-Type"].replace(
                "multipart/related", draw(st.sampled_from(["multipart/mixed", "text/xml", "multipart/related"])))
        else:
            body = _byte_mutation(draw, body)
    return body, headers


@PROPERTY
@given(case=mtom_mutated())
def test_a_mutated_mtom_message_gets_a_well_formed_bounded_answer(edge: Edge, http: httpx.Client, zaak: str,
                                                                   case) -> None:
    body, headers = case
    body = body.replace(ZAAK.encode(), zaak.encode())
    reply = post(http, f"{edge.url}/zds/{e.ASYNC}", body, headers)
    problem = judge(edge.soap, reply)
    event(f"HTTP {reply.status}")
    assert problem is None, f"{problem}\nrequest {body[:2000]!r}\nheaders {headers}"
    _alive(edge, http)
