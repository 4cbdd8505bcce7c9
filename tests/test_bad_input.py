"""Bad input gets a well-formed SOAP fault with a StUF foutcode (HTTP 413 for an oversize body), quickly;
it is logged as a fault or a rejection, nothing of it reaches the zaaksysteem, and the broker keeps serving.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from broker.intake.pipeline import GARBAGE_EXCERPT
from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support.edge_live import Edge, running
from tests.support.soapcall import SoapAnswer

LIMIT = 20_000  # limits.max_body_bytes of this module's broker
XML = "text/xml; charset=utf-8"
PASSWD_MARKER = "root:"

def _utf16(document: bytes) -> bytes:
    """The same document in UTF-16 (with BOM): a byte-level search for <!DOCTYPE no longer finds it."""
    return document.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode() for i in range(1, 10)
    )
    + b"]>\n" + e.envelope("<lolz>&lol9;</lolz>")
)
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       + e.envelope(m.genereer_zaak_identificatie().replace("</ZDS:genereerZaakIdentificatie_Di02>",
                                                           "<ZDS:x>&xxe;</ZDS:x></ZDS:genereerZaakIdentificatie_Di02>")))
XXE_PARAMETER = (b'<?xml version="1.0"?>\n<!DOCTYPE e [<!ENTITY % dtd SYSTEM "http://127.0.0.1:9/evil.dtd"> %dtd;]>\n'
                 + e.envelope("<e/>"))
EXTERNAL_DTD = b'<!DOCTYPE Envelope SYSTEM "file:///etc/passwd">' + e.envelope(m.genereer_zaak_identificatie())
ENTITY_IN_BODY = e.envelope('<!ENTITY x "y"><a/>')  # an entity declaration outside the prolog is no XML either
DEEP = e.envelope("<a>" * 2000 + "</a>" * 2000)
MTOM_TYPE = 'multipart/related; type="application/xop+xml"; boundary="grens"; start="<root>"; start-info="text/xml"'
MTOM_XXE = (b"--grens\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"text/xml\"\r\n"
            b"Content-ID: <root>\r\n\r\n" + XXE + b"\r\n--grens--\r\n")
MTOM_NO_PARTS = b"this is not a multipart body"
HALF_CREEER = e.envelope(m.creeer_zaak(f"1234{m.ref()}"))


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas):
    with running(tmp_path_factory.mktemp("bad"), schemas, limits__max_body_bytes=LIMIT) as edge:
        yield edge


def _still_serves(edge: Edge) -> None:
    assert edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).berichtcode == "Du02"


BAD = {
    # name: (port, body, content type, foutcode, http status)
    "not-well-formed": (e.SYNC_VRIJ, e.envelope("<a><b></a>"), XML, "StUF055", 500),
    "half-a-message": (e.ASYNC, HALF_CREEER[: len(HALF_CREEER) // 2], XML, "StUF055", 500),
    "invalid-utf8": (e.SYNC_VRIJ, e.envelope("<a>NOT-UTF8</a>").replace(b"NOT-UTF8", b"\xff\xfe"), XML, "StUF055", 500),
    "billion-laughs": (e.SYNC_VRIJ, BILLION_LAUGHS, XML, "StUF055", 500),
    "billion-laughs-utf16": (e.SYNC_VRIJ, _utf16(BILLION_LAUGHS), XML, "StUF055", 500),
    "xxe-file": (e.SYNC_VRIJ, XXE, XML, "StUF055", 500),
    "xxe-file-utf16": (e.SYNC_VRIJ, _utf16(XXE), XML, "StUF055", 500),
    "xxe-parameter-entity": (e.ASYNC, XXE_PARAMETER, XML, "StUF055", 500),
    "external-dtd": (e.VRAAG, EXTERNAL_DTD, XML, "StUF055", 500),
    "entity-declaration-in-body": (e.VRAAG, ENTITY_IN_BODY, XML, "StUF055", 500),
    "too-deep": (e.VRAAG, DEEP, XML, "StUF055", 500),
    "mtom-root-with-xxe": (e.SYNC_VRIJ, MTOM_XXE, MTOM_TYPE, "StUF055", 500),
    "mtom-without-parts": (e.ASYNC, MTOM_NO_PARTS, MTOM_TYPE, "StUF055", 500),
    "json-content-type": (e.SYNC_VRIJ, e.envelope(m.genereer_zaak_identificatie()), "application/json", "StUF055", 415),
    "plain-text": (e.ASYNC, b"hallo", "text/plain", "StUF055", 415),
    "empty-body": (e.SYNC_VRIJ, b"", XML, "StUF055", 500),
    "empty-body-async": (e.ASYNC, b"", XML, "StUF055", 500),
    "no-envelope": (e.SYNC_VRIJ, m.genereer_zaak_identificatie().encode(), XML, "StUF055", 500),
    "envelope-without-body": (e.SYNC_VRIJ, f'<s:Envelope xmlns:s="{e.SOAP11}"><s:Header/></s:Envelope>'.encode(),
                              XML, "StUF055", 500),
    "empty-soap-body": (e.SYNC_VRIJ, e.envelope(""), XML, "StUF055", 500),
    "two-body-elements": (e.SYNC_VRIJ, e.envelope(m.genereer_zaak_identificatie() * 2), XML, "StUF055", 500),
    "unknown-zds-operation": (e.VRAAG, e.envelope(f'<ZDS:geefAlles_ZakLv01 xmlns:ZDS="{m.ZDS}"/>'), XML,
                              "StUF055", 500),
    "unknown-zkn-message": (e.VRAAG, e.envelope(f'<ZKN:sdcLv01 xmlns:ZKN="{m.ZKN}"/>'), XML, "StUF025", 500),
    "non-stuf-body": (e.SYNC_VRIJ, e.envelope('<foo xmlns="urn:x"/>'), XML, "StUF055", 500),
    "stuf-bg-body": (e.VRAAG, e.envelope(
        f'<BG:npsLv01 xmlns:BG="{m.BG}" xmlns:StUF="{m.STUF}">'
        f"{m.stuurgegevens('BG', 'Lv01', entiteittype='NPS')}"
        "</BG:npsLv01>"), XML, "StUF004", 500),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_gets_a_quick_well_formed_fault_and_is_logged_without_processing(edge: Edge, name: str) -> None:
    """Each kind of bad input gets a SOAP fault with its foutcode within a second; the broker keeps serving."""
    port, body, content_type, code, status = BAD[name]
    zaken = e.zaak_count(edge.broker)
    rows = len(e.log_rows(edge.broker))
    started = time.perf_counter()
    response = edge.soap.post_raw(port, body, {"Content-Type": content_type})
    elapsed = time.perf_counter() - started
    answer = edge.soap.check(response)  # well-formed envelope, schema-valid Fo-bericht
    assert elapsed < 1.0, f"{name} took {elapsed:.2f} s"
    assert (answer.status, answer.foutcode) == (status, code), answer.content
    assert answer.berichtcode == ("Fo03" if port == e.ASYNC else "Fo02")
    assert PASSWD_MARKER not in response.text
    row = e.last_row(edge.broker)
    assert len(e.log_rows(edge.broker)) == rows + 1
    assert row.outcome in ("fault", "rejected") and row.foutcode == code and row.http_status == status
    stored = e.log_payload(edge.broker, row.id)
    # what could not be read is kept as metadata and its first 4 KB (broker.intake.pipeline.GARBAGE_EXCERPT)
    assert stored.request == body[:GARBAGE_EXCERPT], "the log holds the request as received (up to the excerpt)"
    assert row.request_size == len(body)
    assert stored.answer == response.content
    assert e.zaak_count(edge.broker) == zaken
    _still_serves(edge)


def test_a_message_with_an_entity_reference_is_not_expanded_into_the_log_or_answer(edge: Edge) -> None:
    """The XXE request is stored as sent; the file it points at appears nowhere in the broker's answer or log."""
    response = edge.soap.post_raw(e.SYNC_VRIJ, XXE, {"Content-Type": XML})
    stored = e.log_payload(edge.broker, e.last_row(edge.broker).id)
    assert PASSWD_MARKER.encode() not in stored.answer + stored.request
    assert PASSWD_MARKER not in response.text


# -- oversize bodies ----------------------------------------------------------------------------
def _assert_413(edge: Edge, status: int, content: bytes, content_type: str, port: str) -> SoapAnswer:
    assert status == 413
    answer = edge.soap.check(httpx.Response(413, content=content, headers={"content-type": content_type}))
    assert answer.foutcode == "StUF055"
    assert answer.berichtcode == ("Fo03" if port == e.ASYNC else "Fo02")
    assert str(LIMIT) in answer.text("body/details")
    return answer


def _assert_rejected_without_payload(edge: Edge, rows_before: int) -> None:
    rows = e.log_rows(edge.broker)
    assert len(rows) == rows_before + 1
    row = rows[-1]
    assert (row.outcome, row.http_status, row.foutcode, row.request_size) == ("rejected", 413, "StUF055", 0)
    stored = e.log_payload(edge.broker, row.id)
    assert stored is None or not stored.request


@pytest.mark.parametrize("port", [e.SYNC_VRIJ, e.ASYNC])
def test_oversize_body_with_content_length_is_refused_before_it_is_read(edge: Edge, port: str) -> None:
    """A Content-Length over the limit gets 413 and a SOAP fault at once, while the body is still unsent."""
    rows_before = len(e.log_rows(edge.broker))
    host, http_port = edge.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(http_port)), timeout=5) as sock:
        sock.sendall(
            f"POST /zds/{port} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {XML}\r\n"
            f"Content-Length: {LIMIT * 50}\r\n\r\n".encode() + b"<soapenv:Envelope"
        )
        status, headers, content = _read_http_response(sock)
    _assert_413(edge, status, content, headers["content-type"], port)
    _assert_rejected_without_payload(edge, rows_before)
    _still_serves(edge)


def test_oversize_chunked_body_is_refused_with_413(edge: Edge) -> None:
    """A chunked body that grows past the limit gets 413 with a SOAP fault; nothing of it is stored."""
    rows_before = len(e.log_rows(edge.broker))

    def chunks() -> Iterator[bytes]:
        yield b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        for _ in range(LIMIT // 1000 + 5):
            yield b"<a>" + b"x" * 1000 + b"</a>"

    host, http_port = edge.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(http_port)), timeout=5) as sock:
        sock.sendall(f"POST /zds/{e.SYNC_VRIJ} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {XML}\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        for chunk in chunks():
            # as an HTTP client should: stop sending once the server has answered early (it closes
            # the connection after the 413, so a later chunk may meet a reset)
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
        status, headers, content = _read_http_response(sock)
    _assert_413(edge, status, content, headers["content-type"], e.SYNC_VRIJ)
    _assert_rejected_without_payload(edge, rows_before)
    _still_serves(edge)


def test_oversize_soap12_body_gets_a_soap12_fault(edge: Edge) -> None:
    """An oversize SOAP 1.2 request gets its 413 fault in SOAP 1.2 (httpx client, Content-Length)."""
    body = e.envelope("<a>" + "x" * LIMIT + "</a>", "1.2", "env")
    response = edge.soap.post_raw(e.VRAAG, body, {"Content-Type": "application/soap+xml; charset=utf-8"})
    _assert_413(edge, response.status_code, response.content, response.headers["content-type"], e.VRAAG)
    assert response.headers["content-type"].startswith("application/soap+xml")
    _still_serves(edge)


def test_a_body_just_under_the_limit_is_read(edge: Edge) -> None:
    """The limit is on the body size: a normal request padded to just under it is processed."""
    body = e.envelope(m.genereer_zaak_identificatie())
    padded = body.replace(b"<soapenv:Header/>", b"<soapenv:Header/>" + b" " * (LIMIT - len(body) - 1))
    assert len(padded) == LIMIT - 1
    answer = edge.soap.check(edge.soap.post_raw(e.SYNC_VRIJ, padded, {"Content-Type": XML}))
    assert answer.berichtcode == "Du02"


def _read_http_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response with Content-Length from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        assert part, "connection closed before the response headers"
        data += part
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        part = sock.recv(65536)
        if not part:
            break
        rest += part
    return status, headers, rest[:length]


def test_a_client_that_disconnects_mid_body_leaves_one_line_not_a_traceback(tmp_path, schemas, caplog) -> None:
    """A caller that goes away while sending its body is no error of the broker's."""
    import logging
    import socket
    import time

    from tests.support.edge_live import running

    caplog.set_level(logging.INFO)
    with running(tmp_path, schemas) as edge:
        host, port = edge.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"POST /zds/OntvangAsynchroon HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                         b"Content-Length: 100000\r\n\r\n<soapenv:Envelope")
            time.sleep(0.3)
        time.sleep(0.5)
        assert edge.soap.post_raw("OntvangAsynchroon", b"<x/>", {"Content-Type": "text/xml"}).status_code >= 400
    tracebacks = [r for r in caplog.records if r.exc_info or "Exception in ASGI application" in r.getMessage()]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
