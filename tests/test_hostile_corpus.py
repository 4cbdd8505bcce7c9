"""A hostile corpus, generated here, sent to one live broker by a few clients at once: every request
gets an HTTP 4xx or a well-formed SOAP answer (a schema-valid Fo02/Fo03 when it is a fault) within
2 s, while another client keeps getting /healthz and a genereerZaakIdentificatie answered quickly,
and the process's memory stays bounded.

Kinds: XXE and entity expansion, other DOCTYPEs, oversize and odd bodies, wide and deep structures,
encodings, SOAP versions and content types, SOAPAction, MTOM/XOP abuse, odd field contents.
"""

from __future__ import annotations

import gzip
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support.document_messages import ACTION as DOC_ACTION
from tests.support.document_messages import voeg_zaakdocument_toe, xop_inhoud
from tests.support.edge_live import Edge, running
from tests.support.hostile import Prober, Reply, judge, p99, percentile, post, raw_exchange, vm_hwm_kb

LIMIT = 256 * 1024  # limits.max_body_bytes of this module's broker
XML = "text/xml; charset=utf-8"
SOAP12_TYPE = "application/soap+xml; charset=utf-8"
PORTS = (e.SYNC_VRIJ, e.ASYNC, e.VRAAG)
XOP_NS = "http://www.w3.org/2004/08/xop/include"
CLOSE_ENV = "</ZDS:genereerZaakIdentificatie_Di02>"
RNG = random.Random(20261206)


@dataclass
class Case:
    kind: str
    name: str
    port: str = e.SYNC_VRIJ
    body: bytes = b""
    headers: dict[str, str] | list[tuple[str, str]] | None = None
    raw: bytes | None = None  # a whole HTTP request, sent as it is


def xml(kind: str, name: str, body: bytes, port: str = e.SYNC_VRIJ, content_type: str = XML, **hdrs: str) -> Case:
    return Case(kind, name, port, body, {"Content-Type": content_type, **hdrs})


def raw(kind: str, name: str, head: str, body: bytes = b"") -> Case:
    return Case(kind, name, raw=head.replace("\n", "\r\n").encode("latin-1") + body)


def di02() -> str:
    return m.genereer_zaak_identificatie()


def di02_with(inner: str) -> str:
    return di02().replace(CLOSE_ENV, inner + CLOSE_ENV)


def with_sg(message: str, name: str, value: str) -> str:
    """The message with StUF:<name> holding ``value`` as it is (markup included)."""
    pattern = re.compile(rf"<StUF:{name}>(?:(?!</StUF:{name}>).)*</StUF:{name}>", re.DOTALL)
    assert pattern.search(message), name
    return pattern.sub(lambda _: f"<StUF:{name}>{value}</StUF:{name}>", message, count=1)


def zaak_id() -> str:
    return f"1234{m.ref()}"


# -- XXE and entity expansion -------------------------------------------------------------------
def _laughs(depth: int, fan: int) -> tuple[str, str]:
    ents = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * fan}">' for i in range(1, depth + 1)]
    return f"<!DOCTYPE Envelope [{''.join(ents)}]>", f"&l{depth};"


def xxe_cases() -> Iterator[Case]:
    decls = {
        "file": ('<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
        "file-relative": ('<!DOCTYPE e [<!ENTITY x SYSTEM "../../../../etc/passwd">]>', "&x;"),
        "http-loopback": ('<!DOCTYPE e [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', "&x;"),
        "public": ('<!DOCTYPE e [<!ENTITY x PUBLIC "-//X//Y" "file:///etc/passwd">]>', "&x;"),
        "parameter": ('<!DOCTYPE e [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>', ""),
        "parameter-nested": ('<!DOCTYPE e [<!ENTITY % a "<!ENTITY &#37; b SYSTEM \'file:///etc/passwd\'>"> %a; %b;]>', ""),
        "external-dtd": ('<!DOCTYPE Envelope SYSTEM "file:///etc/passwd">', ""),
        "external-dtd-http": ('<!DOCTYPE Envelope PUBLIC "-//A//B" "http://127.0.0.1:9/a.dtd">', ""),
        "unparsed-ndata": ('<!DOCTYPE e [<!NOTATION n SYSTEM "x"><!ENTITY u SYSTEM "file:///etc/passwd" NDATA n>]>', ""),
        "laughs-9x10": _laughs(9, 10),
        "laughs-20x2": _laughs(20, 2),
        "laughs-4x100": _laughs(4, 100),
        "quadratic": (f'<!DOCTYPE e [<!ENTITY a "{"a" * 50_000}">]>', "&a;" * 4000),
        "recursive": ('<!DOCTYPE e [<!ENTITY a "&b;"><!ENTITY b "&a;">]>', "&a;"),
    }
    for name, (decl, ref) in decls.items():
        doc = di02_with(f"<ZDS:x>{ref}</ZDS:x>" if ref else "")
        body = f'<?xml version="1.0"?>\n{decl}\n'.encode() + e.envelope(doc)
        yield xml("xxe", name, body)
        yield xml("xxe", f"{name}-utf16", '<?xml version="1.0" encoding="UTF-16"?>'.encode("utf-16")
                  + f"\n{decl}\n".encode("utf-16-le") + e.envelope(doc).decode().encode("utf-16-le"))
    for port in PORTS:  # the entity used inside a stuurgegeven, on each port
        decl = '<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        doc = with_sg(di02(), "referentienummer", "&x;")
        yield xml("xxe", f"in-referentienummer-{port}", decl.encode() + e.envelope(doc), port)
    xinclude = ('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>')
    yield xml("xxe", "xinclude", e.envelope(di02_with(xinclude)))
    yield xml("xxe", "xinclude-in-referentienummer",
              e.envelope(with_sg(di02(), "referentienummer", xinclude)))
    yield xml("xxe", "xsi-schemaLocation", e.envelope(di02().replace(
        "<ZDS:genereerZaakIdentificatie_Di02 ",
        '<ZDS:genereerZaakIdentificatie_Di02 xsi:schemaLocation="urn:x file:///etc/passwd" ', 1)))
    yield xml("xxe", "doctype-after-comment", b"<!-- c -->\n<!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
              + e.envelope(di02_with("<ZDS:x>&x;</ZDS:x>")))
    yield xml("xxe", "doctype-after-pi", b'<?xml version="1.0"?><?pi x?><!DOCTYPE e [<!ENTITY x "y">]>'
              + e.envelope(di02_with("<ZDS:x>&x;</ZDS:x>")))


def doctype_cases() -> Iterator[Case]:
    env = e.envelope(di02())
    for name, decl in {
        "name-only": "<!DOCTYPE Envelope>",
        "empty-subset": "<!DOCTYPE Envelope []>",
        "attlist-default": "<!DOCTYPE soapenv:Envelope [<!ATTLIST soapenv:Body injected CDATA 'yes'>]>",
        "attlist-xmlns": f"<!DOCTYPE soapenv:Envelope [<!ATTLIST ZDS:genereerZaakIdentificatie_Di02 xmlns:q CDATA '{m.ZKN}'>]>",
        "element-decl": "<!DOCTYPE Envelope [<!ELEMENT Envelope ANY>]>",
        "internal-entity": '<!DOCTYPE Envelope [<!ENTITY x "KING">]>',
        "comment-in-subset": "<!DOCTYPE Envelope [<!-- hi -->]>",
        "pi-in-subset": "<!DOCTYPE Envelope [<?x y?>]>",
        "conditional": "<!DOCTYPE Envelope [<![INCLUDE[<!ENTITY x 'y'>]]>]>",
        "lowercase": "<!doctype Envelope>",
        "huge-subset": "<!DOCTYPE Envelope [" + "<!-- x -->" * 20_000 + "]>",
        "two-doctypes": "<!DOCTYPE a><!DOCTYPE b>",
    }.items():
        yield xml("doctype", name, decl.encode() + env)
        yield xml("doctype", f"{name}-soap12", decl.encode() + e.envelope(di02(), "1.2", "env"), e.VRAAG, SOAP12_TYPE)
    yield xml("doctype", "in-body", e.envelope("<!DOCTYPE x><a/>"))
    yield xml("doctype", "in-cdata", e.envelope(di02_with("<ZDS:x><![CDATA[<!DOCTYPE x [<!ENTITY a SYSTEM 'file:///etc/passwd'>]>]]></ZDS:x>")))


# -- oversize and odd bodies ----------------------------------------------------------------------
def _head(port: str, extra: str, content_type: str = XML) -> str:
    return f"POST /zds/{port} HTTP/1.1\nHost: 127.0.0.1\nContent-Type: {content_type}\nConnection: close\n{extra}\n"


def body_cases() -> Iterator[Case]:
    for port in PORTS:
        big = e.envelope(di02_with("<ZDS:x>" + "x" * (LIMIT + 100) + "</ZDS:x>"))
        yield raw("body", f"oversize-content-length-{port}", _head(port, f"Content-Length: {len(big)}\n"), big)
        yield raw("body", f"oversize-declared-only-{port}", _head(port, f"Content-Length: {LIMIT * 1000}\n"), b"<soapenv:Envelope")
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in [big[i:i + 8192] for i in range(0, len(big), 8192)])
        yield raw("body", f"oversize-chunked-{port}", _head(port, "Transfer-Encoding: chunked\n"), chunks + b"0\r\n\r\n")
        yield xml("body", f"empty-{port}", b"", port)
        yield xml("body", f"whitespace-{port}", b" \r\n\t " * 1000, port)
        yield xml("body", f"random-bytes-{port}", RNG.randbytes(4096), port)
        yield xml("body", f"nul-bytes-{port}", b"\x00" * 1000, port)
    env = e.envelope(di02())
    yield xml("body", "just-under-limit-of-padding", env.replace(b"<soapenv:Header/>", b"<soapenv:Header/>" + b" " * (LIMIT - len(env) - 1)))
    yield xml("body", "xml-declaration-only", b'<?xml version="1.0"?>')
    yield xml("body", "bom-only", b"\xef\xbb\xbf")
    yield xml("body", "comment-only", b"<!-- nothing -->")
    yield xml("body", "pi-only", b"<?x y?>")
    yield xml("body", "text-after-root", env + b"trailing text")
    yield xml("body", "two-roots", env + env)
    yield xml("body", "cdata-at-top", b"<![CDATA[" + env + b"]]>")
    yield xml("body", "truncated-in-tag", env[: len(env) // 3])
    yield xml("body", "unclosed-comment", env.replace(b"<soapenv:Header/>", b"<soapenv:Header/><!--"))
    yield xml("body", "gzip-as-content-encoding", gzip.compress(env), content_type=XML, **{"Content-Encoding": "gzip"})
    yield xml("body", "gzip-unannounced", gzip.compress(env))
    yield xml("body", "element-name-100k", e.envelope(f"<{'a' * 100_000}/>"))
    yield xml("body", "attribute-value-200k", e.envelope(f'<a b="{"v" * 200_000}"/>'))
    yield xml("body", "comments-10k", e.envelope("<!--x-->" * 10_000 + di02()))
    yield xml("body", "char-refs-50k", e.envelope(di02_with("<ZDS:x>" + "&#x41;" * 40_000 + "</ZDS:x>")))
    yield raw("body", "content-length-short", _head(e.SYNC_VRIJ, f"Content-Length: {len(env) // 2}\n"), env)
    yield raw("body", "content-length-negative", _head(e.SYNC_VRIJ, "Content-Length: -5\n"), env)
    yield raw("body", "content-length-not-a-number", _head(e.SYNC_VRIJ, "Content-Length: abc\n"), env)
    yield raw("body", "content-length-twice", _head(e.SYNC_VRIJ, f"Content-Length: {len(env)}\nContent-Length: 3\n"), env)
    yield raw("body", "chunk-size-garbage", _head(e.SYNC_VRIJ, "Transfer-Encoding: chunked\n"), b"zz\r\n" + env + b"\r\n0\r\n\r\n")
    yield raw("body", "chunked-and-length", _head(e.SYNC_VRIJ, f"Transfer-Encoding: chunked\nContent-Length: {len(env)}\n"),
              b"%x\r\n%s\r\n0\r\n\r\n" % (len(env), env))
    yield raw("body", "no-length-no-chunks", _head(e.SYNC_VRIJ, ""), env)
    yield raw("body", "http-1.0", _head(e.SYNC_VRIJ, f"Content-Length: {len(env)}\n").replace("HTTP/1.1", "HTTP/1.0"), env)
    yield raw("body", "header-injection-like", _head(e.SYNC_VRIJ, f"SOAPAction: x\rInjected: 1\nContent-Length: {len(env)}\n"), env)


# -- wide and deep ------------------------------------------------------------------------------
def shape_cases() -> Iterator[Case]:
    for n in (1000, 10_000, 50_000):
        yield xml("wide", f"siblings-in-message-{n}", e.envelope(di02_with("<ZDS:x/>" * n)))
        yield xml("wide", f"siblings-in-body-{n}", e.envelope("<a/>" * n), e.ASYNC)
        yield xml("wide", f"header-blocks-{n}", e.envelope(di02()).replace(b"<soapenv:Header/>",
                  b"<soapenv:Header>" + b'<h xmlns="urn:h">1</h>' * n + b"</soapenv:Header>"))
    for n in (100, 5000):
        yield xml("wide", f"repeated-zender-{n}", e.envelope(di02().replace(
            "</StUF:zender>", "</StUF:zender>" + m.systeem("zender", "KING", "STP") * n, 1)))
        yield xml("wide", f"repeated-stuurgegevens-{n}", e.envelope(di02_with(
            m.stuurgegevens("ZDS", "Di02", functie="genereerZaakidentificatie") * n)))
        yield xml("wide", f"text-nodes-{n}", e.envelope(di02_with("<ZDS:x>" + "t<!---->" * n + "</ZDS:x>")))
    yield xml("wide", "attributes-200", e.envelope(di02().replace(
        "<ZDS:genereerZaakIdentificatie_Di02 ", "<ZDS:genereerZaakIdentificatie_Di02 " + " ".join(f'a{i}="1"' for i in range(200)) + " ", 1)))
    yield xml("wide", "attributes-over-limit", e.envelope(di02().replace(
        "<ZDS:genereerZaakIdentificatie_Di02 ", "<ZDS:genereerZaakIdentificatie_Di02 " + " ".join(f'a{i}="1"' for i in range(300)) + " ", 1)))
    yield xml("wide", "namespaces-over-limit", e.envelope(di02_with(
        "".join(f'<ZDS:x xmlns:n{i}="urn:n{i}"/>' for i in range(1100)))))
    yield xml("wide", "namespaces-per-element-under-limit", e.envelope(di02_with(
        "".join(f'<ZDS:x xmlns:n="urn:n{i}"/>' for i in range(900)))))
    for depth in (50, 255, 256, 257, 300, 1000, 5000, 20_000):
        yield xml("deep", f"depth-{depth}-in-message", e.envelope(di02_with("<ZDS:x>" * depth + "</ZDS:x>" * depth)))
    for depth in (300, 10_000):
        yield xml("deep", f"depth-{depth}-in-header", e.envelope(di02()).replace(
            b"<soapenv:Header/>", b"<soapenv:Header>" + b"<h>" * depth + b"</h>" * depth + b"</soapenv:Header>"))
        yield xml("deep", f"depth-{depth}-in-referentienummer", e.envelope(
            with_sg(di02(), "referentienummer", "<a>" * depth + "</a>" * depth)), e.ASYNC)
        yield xml("deep", f"depth-{depth}-unclosed", e.envelope(di02_with("<ZDS:x>" * depth)))
        yield xml("deep", f"depth-{depth}-namespaced", e.envelope(di02_with(
            "".join(f'<q:x xmlns:q="urn:{i % 7}">' for i in range(depth)) + "</q:x>" * depth)), e.VRAAG)
        yield xml("deep", f"depth-{depth}-soap12", e.envelope("<a>" * depth + "</a>" * depth, "1.2", "env"),
                  e.VRAAG, SOAP12_TYPE)


# -- encodings ------------------------------------------------------------------------------------
def encoding_cases() -> Iterator[Case]:
    doc = e.envelope(m.creeer_zaak(zaak_id(), omschrijving="Aanvraag één ß ü")).decode()

    def declared(enc: str) -> str:
        return f'<?xml version="1.0" encoding="{enc}"?>' + doc

    for codec, label in (("utf-16", "UTF-16"), ("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE"),
                         ("utf-32", "UTF-32"), ("latin-1", "ISO-8859-1"), ("cp1252", "windows-1252")):
        yield xml("encoding", f"{codec}-declared", declared(label).encode(codec), e.ASYNC)
        yield xml("encoding", f"{codec}-undeclared", doc.encode(codec), e.ASYNC)
        yield xml("encoding", f"{codec}-declared-utf8", declared("UTF-8").encode(codec), e.ASYNC)
        yield xml("encoding", f"utf8-declared-{codec}", declared(label).encode("utf-8"), e.ASYNC)
        yield xml("encoding", f"{codec}-charset-header-only", doc.encode(codec), e.ASYNC, f"text/xml; charset={label}")
    yield xml("encoding", "utf16-no-bom", declared("UTF-16").encode("utf-16-le"), e.ASYNC)
    for name, enc in {"unknown": "x-bogus", "ebcdic": "EBCDIC-CP-US", "utf7": "UTF-7", "empty": "",
                      "very-long": "u" * 5000, "shift-jis": "Shift_JIS"}.items():
        yield xml("encoding", f"declared-{name}", declared(enc).encode(), e.ASYNC)
    yield xml("encoding", "utf7-script", b'<?xml version="1.0" encoding="UTF-7"?>+ADw-soapenv:Envelope+AD4-')
    env = e.envelope(di02())
    yield xml("encoding", "bom-utf8", b"\xef\xbb\xbf" + env)
    yield xml("encoding", "bom-twice", b"\xef\xbb\xbf\xef\xbb\xbf" + env)
    yield xml("encoding", "bom-utf16-then-utf8", b"\xff\xfe" + env)
    yield xml("encoding", "bom-utf8-declared-utf16", b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-16"?>' + env)
    for name, bad in {"lone-ff": b"\xff", "overlong-slash": b"\xc0\xaf", "overlong-nul": b"\xc0\x80",
                      "surrogate": b"\xed\xa0\x80", "truncated-3byte": b"\xe2\x82", "above-unicode": b"\xf4\x90\x80\x80",
                      "continuation-only": b"\x80\x80", "five-byte": b"\xf8\x88\x80\x80\x80"}.items():
        yield xml("encoding", f"invalid-utf8-{name}-in-value",
                  e.envelope(with_sg(di02(), "referentienummer", "X")).replace(b">X<", b">" + bad + b"<"))
        yield xml("encoding", f"invalid-utf8-{name}-in-name", env.replace(b"soapenv:Body", b"soapenv:B" + bad + b"dy", 1))


# -- SOAP versions, content types, SOAPAction ---------------------------------------------------------
def soap_cases() -> Iterator[Case]:
    msg = di02()
    for port in PORTS:
        yield xml("soap", f"11-as-soap12-type-{port}", e.envelope(msg), port, SOAP12_TYPE)
        yield xml("soap", f"12-as-text-xml-{port}", e.envelope(msg, "1.2", "env"), port)
        yield xml("soap", f"12-default-ns-{port}", e.envelope(msg, "1.2", None), port, SOAP12_TYPE)
    for i, ctype in enumerate(("", "application/json", "text/plain", "text/html", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x", "application/octet-stream", "TEXT/XML", "text/xml;;;",
                  "text/xml; charset=", "text/xml; charset=\"utf-8", "application/xml", "application/soap+xml; action",
                  "text/xml; " + "p=1; " * 2000 + "q=2", "*/*", "text/*", "application/xop+xml; type=\"text/xml\"",
                  "multipart/related", "multipart/related; boundary=", "\x7f")):
        yield xml("content-type", f"ctype-{i}-{ctype[:30]!r}", e.envelope(msg), content_type=ctype)
    wrong_ns = [
        ("soap-1.0-ns", "http://schemas.xmlsoap.org/soap/envelope"),
        ("other-ns", "urn:not-soap"),
        ("empty-ns", ""),
        ("w3c-2001-draft", "http://www.w3.org/2001/12/soap-envelope"),
    ]
    for name, uri in wrong_ns:
        yield xml("soap", f"envelope-{name}", e.envelope(msg).replace(e.SOAP11.encode(), uri.encode()))
    env11 = f'xmlns:soapenv="{e.SOAP11}"'
    odd = {
        "two-bodies": f"<soapenv:Envelope {env11}><soapenv:Body>{msg}</soapenv:Body><soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>",
        "two-headers": f"<soapenv:Envelope {env11}><soapenv:Header/><soapenv:Header/><soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>",
        "header-after-body": f"<soapenv:Envelope {env11}><soapenv:Body>{msg}</soapenv:Body><soapenv:Header/></soapenv:Envelope>",
        "extra-child": f"<soapenv:Envelope {env11}><soapenv:Body>{msg}</soapenv:Body><x/></soapenv:Envelope>",
        "text-in-envelope": f"<soapenv:Envelope {env11}>hallo<soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>",
        "text-in-body": f"<soapenv:Envelope {env11}><soapenv:Body>hallo</soapenv:Body></soapenv:Envelope>",
        "fault-in-request": f"<soapenv:Envelope {env11}><soapenv:Body><soapenv:Fault><faultcode>x</faultcode></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
        "body-not-in-envelope": f"<soapenv:Body {env11}>{msg}</soapenv:Body>",
        "mixed-versions": f'<soapenv:Envelope {env11}><env:Body xmlns:env="{e.SOAP12}">{msg}</env:Body></soapenv:Envelope>',
        "encoding-style": f'<soapenv:Envelope {env11} soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>',
        "must-understand-1": f'<soapenv:Envelope {env11}><soapenv:Header><x:h xmlns:x="urn:x" soapenv:mustUnderstand="1"/></soapenv:Header><soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>',
        "must-understand-true": f'<soapenv:Envelope {env11}><soapenv:Header><x:h xmlns:x="urn:x" soapenv:mustUnderstand="true"/></soapenv:Header><soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>',
        "must-understand-0": f'<soapenv:Envelope {env11}><soapenv:Header><x:h xmlns:x="urn:x" soapenv:mustUnderstand="0"/></soapenv:Header><soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>',
        "must-understand-garbage": f'<soapenv:Envelope {env11}><soapenv:Header><x:h xmlns:x="urn:x" soapenv:mustUnderstand="{"9" * 1000}"/></soapenv:Header><soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>',
        "wsse-garbage": f'<soapenv:Envelope {env11}><soapenv:Header><w:Security xmlns:w="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" soapenv:mustUnderstand="1"><w:UsernameToken><w:Username>{"a" * 10000}</w:Username><w:Password>\'OR 1=1--</w:Password></w:UsernameToken></w:Security></soapenv:Header><soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>',
        "wsa-garbage": f'<soapenv:Envelope {env11}><soapenv:Header><a:Action xmlns:a="http://www.w3.org/2005/08/addressing" soapenv:mustUnderstand="1">../../x</a:Action></soapenv:Header><soapenv:Body>{msg}</soapenv:Body></soapenv:Envelope>',
        "stuf-in-header": f"<soapenv:Envelope {env11}><soapenv:Header>{msg}</soapenv:Header><soapenv:Body/></soapenv:Envelope>",
        "body-attrs": f'<soapenv:Envelope {env11}><soapenv:Body id="1" soapenv:x="y">{msg}</soapenv:Body></soapenv:Envelope>',
        "relative-namespace": m.creeer_zaak(zaak_id()).replace("<ZKN:object ", '<ZKN:object xmlns:q="rel/ative" ', 1),
        "relative-default-namespace": f'<soapenv:Envelope {env11}><soapenv:Body><a xmlns="rel">{msg}</a></soapenv:Body></soapenv:Envelope>',
        "prefix-rebound": f'<soapenv:Envelope {env11}><soapenv:Body><q xmlns:soapenv="urn:evil"><soapenv:Envelope/></q></soapenv:Body></soapenv:Envelope>',
    }
    for name, text in odd.items():
        yield xml("soap", name, text.encode())
    for port in PORTS:  # the SOAP-action: unknown, of another operation, odd shapes
        ops = {e.SYNC_VRIJ: (di02(), m.ZDS_ACTION + "genereerZaakIdentificatie_Di02"),
               e.ASYNC: (m.creeer_zaak(zaak_id()), m.ZDS_ACTION + "creeerZaak_ZakLk01"),
               e.VRAAG: (m.geef_zaakdetails(zaak_id()), m.ZDS_ACTION + "geefZaakdetails_ZakLv01")}
        body, right = ops[port]
        others = [a for p, (_, a) in ops.items() if p != port]
        actions = {"unknown": m.ZDS_ACTION + "bestaatNiet", "other-op": others[0], "other-op-2": others[1],
                   "empty": "", "quotes-only": '""', "unbalanced": f'"{right}', "single-quoted": f"'{right}'",
                   "long-4k": right + "x" * 4000, "traversal": "../../../etc/passwd", "sql": "' OR 1=1 --",
                   "url-encoded": right.replace("/", "%2F")}
        for name, action in actions.items():
            yield xml("soapaction", f"{name}-{port}", e.envelope(body), port, SOAPAction=action)
        env = e.envelope(body)
        for name, action in {"spaces": f"   {right}   ", "utf8": right + "é".encode().decode("latin-1"),
                             "latin1": right + "\xe9", "tab": f"\t{right}\t"}.items():
            yield raw("soapaction", f"{name}-{port}", _head(port, f"SOAPAction: {action}\nContent-Length: {len(env)}\n")
                      .replace(f"/zds/{e.SYNC_VRIJ}", f"/zds/{port}"), env)
        yield Case("soapaction", f"twice-{port}", port, e.envelope(body),
                   [("Content-Type", XML), ("SOAPAction", right), ("SOAPAction", others[0])])
        yield xml("soapaction", f"soap12-action-param-other-{port}", e.envelope(body, "1.2", "env"), port,
                  f'{SOAP12_TYPE}; action="{others[0]}"')
        yield xml("soapaction", f"soap12-action-header-and-param-{port}", e.envelope(body, "1.2", "env"), port,
                  f'{SOAP12_TYPE}; action="{right}"', SOAPAction=others[1])
    yield raw("soapaction", "header-over-head-limit", _head(e.SYNC_VRIJ, f"SOAPAction: {'a' * 40_000}\nContent-Length: 2\n"), b"<x")


# -- MTOM / XOP ---------------------------------------------------------------------------------
def _part(headers: dict[str, str], data: bytes) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n" + data


def _multipart(parts: list[bytes], boundary: str = "grens", close: bool = True, preamble: bytes = b"") -> bytes:
    out = preamble + b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    return out + (b"--" + boundary.encode() + b"--\r\n" if close else b"")


ROOT_HDRS = {"Content-Type": 'application/xop+xml; charset=UTF-8; type="text/xml"', "Content-ID": "<root>"}
MTOM = 'multipart/related; type="application/xop+xml"; boundary="{b}"; start="<root>"; start-info="text/xml"'


def mtom_cases() -> Iterator[Case]:
    def include(cid: str) -> str:
        return f'<xop:Include xmlns:xop="{XOP_NS}" href="cid:{cid}"/>'

    def doc(inhoud: str | None = None, cid: str = "p1") -> bytes:
        return e.envelope(voeg_zaakdocument_toe(f"DOC{m.ref()}", zaak_id(), inhoud_xml=inhoud or xop_inhoud(cid)))

    att = _part({"Content-Type": "application/pdf", "Content-ID": "<p1>"}, b"%PDF-1.4 x")
    ctype = MTOM.format(b="grens")
    act = {"SOAPAction": DOC_ACTION["voegZaakdocumentToe"]}

    def case(name: str, body: bytes, content_type: str = ctype, port: str = e.ASYNC) -> Case:
        return xml("mtom", name, body, port, content_type, **act)

    yield case("well-formed", _multipart([_part(ROOT_HDRS, doc()), att]))
    yield case("missing-part", _multipart([_part(ROOT_HDRS, doc(cid="nope"))]))
    yield case("start-missing", _multipart([_part(ROOT_HDRS, doc()), att]), ctype.replace('start="<root>"', 'start="<elders>"'))
    yield case("no-start", _multipart([_part(ROOT_HDRS, doc()), att]), ctype.replace('; start="<root>"', ""))
    yield case("no-boundary-param", _multipart([_part(ROOT_HDRS, doc()), att]), 'multipart/related; type="application/xop+xml"')
    yield case("boundary-mismatch", _multipart([_part(ROOT_HDRS, doc()), att], "anders"))
    yield case("no-closing-boundary", _multipart([_part(ROOT_HDRS, doc()), att], close=False))
    yield case("garbage-preamble", _multipart([_part(ROOT_HDRS, doc()), att], preamble=RNG.randbytes(2000)))
    yield case("boundary-in-content", _multipart([_part(ROOT_HDRS, doc()), _part({"Content-ID": "<p1>"}, b"--grens\r\n--grens--")]))
    yield case("boundary-200-chars", _multipart([_part(ROOT_HDRS, doc()), att], "b" * 200), MTOM.format(b="b" * 200))
    yield case("boundary-odd-chars", _multipart([_part(ROOT_HDRS, doc()), att], "a'()+_,-./:=?"), MTOM.format(b="a'()+_,-./:=?"))
    yield case("lf-line-ends", _multipart([_part(ROOT_HDRS, doc()), att]).replace(b"\r\n", b"\n"))
    yield case("empty-body", b"")
    yield case("only-closing", b"--grens--\r\n")
    yield case("root-empty", _multipart([_part(ROOT_HDRS, b""), att]))
    yield case("root-text-plain", _multipart([_part({"Content-Type": "text/plain", "Content-ID": "<root>"}, doc()), att]))
    yield case("root-not-xml", _multipart([_part(ROOT_HDRS, b"%PDF-1.4 not xml"), att]))
    yield case("root-utf16", _multipart([_part(ROOT_HDRS, doc().decode().encode("utf-16")), att]))
    yield case("duplicate-content-ids", _multipart([_part(ROOT_HDRS, doc()), att, att]))
    yield case("duplicate-root-ids", _multipart([_part(ROOT_HDRS, doc()), _part(ROOT_HDRS, doc()), att]))
    yield case("part-bad-base64", _multipart([_part(ROOT_HDRS, doc()), _part(
        {"Content-ID": "<p1>", "Content-Transfer-Encoding": "base64"}, b"!!!not base64@@@")]))
    yield case("part-quoted-printable", _multipart([_part(ROOT_HDRS, doc()), _part(
        {"Content-ID": "<p1>", "Content-Transfer-Encoding": "quoted-printable"}, b"=ZZ=\r\n=3D")]))
    yield case("part-unknown-transfer-encoding", _multipart([_part(ROOT_HDRS, doc()), _part(
        {"Content-ID": "<p1>", "Content-Transfer-Encoding": "x-evil"}, b"abc")]))
    yield case("part-header-30k", _multipart([_part(ROOT_HDRS, doc()), _part({"Content-ID": "<p1>", "X-Big": "h" * 30_000}, b"x")]))
    yield case("part-no-headers", _multipart([_part(ROOT_HDRS, doc()), b"\r\nno headers"]))
    yield case("parts-101", _multipart([_part(ROOT_HDRS, doc())] + [_part({"Content-ID": f"<q{i}>"}, b"") for i in range(101)]))
    yield case("parts-1000", _multipart([_part(ROOT_HDRS, doc())] + [_part({"Content-ID": f"<q{i}>"}, b"") for i in range(1000)]))
    inner = _multipart([_part(ROOT_HDRS, doc()), att], "binnen")
    yield case("nested-multipart-root", _multipart([_part({"Content-Type": 'multipart/related; boundary="binnen"', "Content-ID": "<root>"}, inner)]))
    yield case("nested-multipart-part", _multipart([_part(ROOT_HDRS, doc()), _part({"Content-Type": 'multipart/related; boundary="binnen"', "Content-ID": "<p1>"}, inner)]))
    nest = _part(ROOT_HDRS, doc())
    for i in range(50):
        nest = _part({"Content-Type": f'multipart/related; boundary="n{i}"', "Content-ID": "<root>"}, _multipart([nest], f"n{i}"))
    yield case("nested-50-deep", _multipart([nest]))
    yield case("multipart-mixed", _multipart([_part(ROOT_HDRS, doc()), att]), ctype.replace("multipart/related", "multipart/mixed"))
    yield case("multipart-body-as-text-xml", _multipart([_part(ROOT_HDRS, doc()), att]), XML)
    yield case("xml-body-as-multipart", doc())
    outside = {
        "include-in-stuurgegevens": e.envelope(with_sg(di02(), "referentienummer", include("p1"))),
        "include-in-header": e.envelope(di02()).replace(b"<soapenv:Header/>", b"<soapenv:Header>" + include("p1").encode() + b"</soapenv:Header>"),
        "include-as-body-child": e.envelope(include("p1")),
        "include-as-envelope": include("p1").encode(),
        "include-in-identificatie": e.envelope(m.creeer_zaak(include("p1"))),
        "include-in-omschrijving": e.envelope(m.creeer_zaak(zaak_id(), omschrijving=include("p1"))),
        "include-with-children": doc(f'<ZKN:inhoud StUF:bestandsnaam="a.pdf"><xop:Include xmlns:xop="{XOP_NS}" href="cid:p1"><x/>text</xop:Include></ZKN:inhoud>'),
        "include-no-href": doc(f'<ZKN:inhoud StUF:bestandsnaam="a.pdf"><xop:Include xmlns:xop="{XOP_NS}"/></ZKN:inhoud>'),
        "include-href-file": doc(f'<ZKN:inhoud StUF:bestandsnaam="a.pdf"><xop:Include xmlns:xop="{XOP_NS}" href="file:///etc/passwd"/></ZKN:inhoud>'),
        "include-href-http": doc(f'<ZKN:inhoud StUF:bestandsnaam="a.pdf"><xop:Include xmlns:xop="{XOP_NS}" href="http://127.0.0.1:9/x"/></ZKN:inhoud>'),
        "include-href-encoded": doc(f'<ZKN:inhoud StUF:bestandsnaam="a.pdf"><xop:Include xmlns:xop="{XOP_NS}" href="cid:%70%31"/></ZKN:inhoud>'),
        "include-twice": doc(f'<ZKN:inhoud StUF:bestandsnaam="a.pdf">{include("p1")}{include("p1")}</ZKN:inhoud>'),
        "include-next-to-base64": doc(f'<ZKN:inhoud StUF:bestandsnaam="a.pdf">QUJD{include("p1")}</ZKN:inhoud>'),
        "include-traversal-filename": doc(f'<ZKN:inhoud StUF:bestandsnaam="../../../etc/passwd">{include("p1")}</ZKN:inhoud>'),
    }
    for name, root in outside.items():
        yield case(name, _multipart([_part(ROOT_HDRS, root), att]))
    yield xml("mtom", "include-without-mtom", doc(), e.ASYNC, XML, **act)


# -- odd field contents -------------------------------------------------------------------------------
ODD_VALUES = {
    "long-10k": "x" * 10_000,
    "long-200k": "y" * 200_000,
    "control-char-ref": "a&#1;b",
    "nul-char-ref": "a&#0;b",
    "raw-control-chars": "a\x01\x02\x1bb",
    "raw-del-and-c1": "a\x7f\x85\x9fb",
    "tabs-newlines": "\t\n\r a \r\n",
    "rtl-override": "\u202egnp.exe",
    "bidi-mix": "שלום مرحبا abc",
    "zero-width": "\u200b\u200d\ufeff",
    "astral-emoji": "\U0001f4a9" * 100,
    "combining": "e" + "\u0301" * 500,
    "fffe-noncharacter": "a&#xFFFE;b",
    "surrogate-ref": "a&#xD800;b",
    "sql-quote": "' OR '1'='1",
    "sql-drop": "1'; DROP TABLE zs_zaak; --",
    "sql-union": "x\" UNION SELECT * FROM messages --",
    "path-traversal": "../../../../etc/passwd",
    "path-windows": "..\\..\\windows\\win.ini",
    "path-encoded": "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "path-nul": "/etc/passwd%00.pdf",
    "format-string": "%s%s%n%x{0}{__class__}",
    "log-injection": "ok\r\nlevel=error msg=forged",
    "markup-escaped": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "cdata": "<![CDATA[<a>]]>",
    "jndi": "${jndi:ldap://127.0.0.1/a}",
    "whitespace-only": "   ",
    "empty": "",
}
FIELDS = ("referentienummer", "organisatie", "applicatie", "tijdstipBericht", "berichtcode", "functie")


def field_cases() -> Iterator[Case]:
    for i, (vname, value) in enumerate(ODD_VALUES.items()):
        # in a stuurgegeven (one per value, round-robin over fields and ports) ...
        fname = FIELDS[i % len(FIELDS)]
        port = PORTS[i % len(PORTS)]
        base = {e.SYNC_VRIJ: di02(), e.ASYNC: m.creeer_zaak(zaak_id()), e.VRAAG: m.geef_zaakdetails(zaak_id())}[port]
        if f"<StUF:{fname}>" not in base:
            base, port = di02(), e.SYNC_VRIJ
        yield xml("fields", f"sg-{fname}-{vname}", e.envelope(with_sg(base, fname, value)), port)
        # ... the referentienummer always (it is stored and echoed in every answer) ...
        yield xml("fields", f"referentienummer-{vname}",
                  e.envelope(with_sg(di02(), "referentienummer", value)), e.SYNC_VRIJ)
        # ... and in the identificaties and free text of zaken
        yield xml("fields", f"creeer-identificatie-{vname}", e.envelope(m.creeer_zaak(value)), e.ASYNC,
                  SOAPAction=m.ZDS_ACTION + "creeerZaak_ZakLk01")
        yield xml("fields", f"creeer-omschrijving-{vname}", e.envelope(m.creeer_zaak(zaak_id(), omschrijving=value)), e.ASYNC)
        yield xml("fields", f"geefZaakdetails-{vname}", e.envelope(m.geef_zaakdetails(value)), e.VRAAG)
    for name, value in {"bsn-sql": "1' OR '1'='1", "bsn-long": "1" * 5000, "bsn-traversal": "../../x"}.items():
        yield xml("fields", f"creeer-{name}", e.envelope(m.creeer_zaak(zaak_id()).replace("111222333", value)), e.ASYNC)
    for who in ("zender", "ontvanger"):  # mirrored in a Fo03: clipped to the schema's lengths
        for length in (51, 201, 10_000):
            for name, sysdef in {"organisatie": ("O" * length, "STP"), "applicatie": ("KING", "A" * length)}.items():
                yield xml("fields", f"fo03-{who}-{name}-{length}", e.envelope(m.creeer_zaak(zaak_id(), **{who: sysdef})), e.ASYNC)
        long_system = m.systeem(who, "KING", "STP").replace(
            f"</StUF:{who}>", f"<StUF:administratie>{'a' * 300}</StUF:administratie><StUF:gebruiker>{'g' * 300}</StUF:gebruiker></StUF:{who}>")
        yield xml("fields", f"fo03-{who}-administratie-gebruiker-300", e.envelope(
            m.creeer_zaak(zaak_id()).replace(m.systeem(who, *(("KING", "STP") if who == "zender" else ("ORG", "TTA"))), long_system)), e.ASYNC)
    yield xml("fields", "zender-unknown", e.envelope(m.genereer_zaak_identificatie(zender=("EVIL", "../../x"))))
    yield xml("fields", "ontvanger-unknown", e.envelope(m.genereer_zaak_identificatie(ontvanger=("'; --", "x" * 1000))))
    yield xml("fields", "bestandsnaam-traversal", e.envelope(voeg_zaakdocument_toe(
        f"DOC{m.ref()}", zaak_id(), bestandsnaam="../../../../tmp/evil.sh")), e.ASYNC)
    yield xml("fields", "bestandsnaam-nul", e.envelope(voeg_zaakdocument_toe(
        f"DOC{m.ref()}", zaak_id(), bestandsnaam="brief.pdf&#0;.sh")), e.ASYNC)


GENERATORS = (xxe_cases, doctype_cases, body_cases, shape_cases, encoding_cases, soap_cases, mtom_cases, field_cases)


def corpus() -> list[Case]:
    return [case for gen in GENERATORS for case in gen()]


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas) -> Iterator[Edge]:
    with running(tmp_path_factory.mktemp("corpus"), schemas, limits__max_body_bytes=LIMIT) as edge:
        yield edge


def _send(edge: Edge, http: httpx.Client, case: Case) -> Reply:
    if case.raw is not None:
        return raw_exchange(edge.url, case.raw)
    return post(http, f"{edge.url}/zds/{case.port}", case.body, case.headers or {})


#: a zender applicatie of only spaces passes the schema (minLength 3) and the checks, but is read as
#: absent, so the La01 that mirrors it as ontvanger is not schema-valid and the broker answers StUF058
KNOWN_SERVER_FAULTS: set[str] = set()
ROUNDS = 2  # the corpus twice, each time with fresh referentienummers and identificaties
CLIENTS = 2  # corpus clients at once, besides the prober


@pytest.mark.usefixtures("settled_heap")
def test_the_hostile_corpus_gets_bounded_answers_while_others_are_served(edge: Edge) -> None:
    first = corpus()
    kinds = Counter(c.kind for c in first)
    assert len(first) >= 300, kinds
    assert len({(c.kind, c.name) for c in first}) == len(first), "case names are unique"
    cases = first + [c for _ in range(ROUNDS - 1) for c in corpus()]
    for _ in range(5):  # warm: the prober's first answers measure start-up, not the corpus
        edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie())
    local = threading.local()
    clients: list[httpx.Client] = []

    def run(case: Case) -> tuple[Case, Reply | None, str | None]:
        if not hasattr(local, "http"):
            local.http = httpx.Client(timeout=10)
            clients.append(local.http)
        try:
            return case, _send(edge, local.http, case), None
        except Exception as exc:
            return case, None, f"no answer: {exc!r}"

    hwm_before = vm_hwm_kb()
    started = time.perf_counter()
    try:
        with Prober(edge.url, edge.soap, pause=0.005) as prober, ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            results = list(pool.map(run, cases))
    finally:
        for client in clients:
            client.close()
    wall = time.perf_counter() - started
    hwm_after = vm_hwm_kb()

    # judged after the run: the client's own checks take no CPU from the broker while it is measured
    problems = [f"{c.kind}/{c.name}: {why or judge(edge.soap, r)}" for c, r, why in results
                if why or (r is not None and judge(edge.soap, r))]
    statuses = Counter(r.status for _, r, _ in results if r is not None)
    server_faults = [f"{c.kind}/{c.name}" for c, r, _ in results if r is not None and b"StUF058" in r.content]
    print(f"\nStUF058 (server) faults: {server_faults}")
    slowest = max((r.elapsed, f"{c.kind}/{c.name}") for c, r, _ in results if r is not None)
    print(f"\n{len(cases)} requests ({len(first)} per round) in {wall:.1f} s, kinds {dict(kinds)}, statuses {dict(statuses)}, slowest {slowest}, "
          f"/healthz p99 {p99(prober.health) * 1000:.0f} ms of {len(prober.health)}, "
          f"Di02 p95 {percentile(prober.di02, 0.95) * 1000:.0f} ms, p99 {p99(prober.di02) * 1000:.0f} ms of {len(prober.di02)}, VmHWM +{(hwm_after - hwm_before) // 1024} MB, "
          f"Di02 slowest {[round(x * 1000) for x in sorted(prober.di02)[-5:]]}")
    assert not problems, "\n".join(problems[:40])
    # hostile input is the sender's error: no StUF058 (the broker's own), except one known case
    assert set(server_faults) <= KNOWN_SERVER_FAULTS, server_faults
    assert not prober.errors, prober.errors[:5]
    assert len(prober.health) >= 20 and len(prober.di02) >= 20
    assert p99(prober.health) < 0.1, f"/healthz p99 {p99(prober.health):.3f} s"
    # a Di02 also waits for its commit's fsync (synchronous=FULL, group commit), shared with the corpus's
    # own log writes: on a busy 2-core machine its slowest 1% ranged 34-134 ms, so the bound on the 99th
    # percentile is looser than on the 95th; neither may come near the corpus's 2 s
    assert percentile(prober.di02, 0.95) < 0.1, f"Di02 p95 {percentile(prober.di02, 0.95):.3f} s"
    assert p99(prober.di02) < 0.25, f"Di02 p99 {p99(prober.di02):.3f} s"
    assert hwm_after - hwm_before < 200 * 1024, f"peak memory grew {(hwm_after - hwm_before) // 1024} MB"
    # the broker is still whole: the tables the SQL-like strings named are there, and it answers
    assert e.zaak_count(edge.broker) >= 0
    assert edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).berichtcode == "Du02"


def test_no_file_a_request_pointed_at_reached_the_message_log(edge: Edge) -> None:
    """Runs after the corpus: nothing of /etc/passwd in any stored request or answer."""
    for row in e.log_rows(edge.broker):
        stored = e.log_payload(edge.broker, row.id)
        if stored is not None:
            assert b"root:x:0:0" not in (stored.request or b"") + (stored.answer or b""), row.id
