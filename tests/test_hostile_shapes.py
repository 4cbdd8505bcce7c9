"""Requests shaped to make the broker work hard are refused early, in bounded time, while another
client keeps getting answers: many attributes or namespace declarations, many MIME parts, an MTOM
part referred to many times."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support.edge_live import Edge, running

ENV = '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>{}</soapenv:Body></soapenv:Envelope>'
MTOM_TYPE = 'multipart/related; type="application/xop+xml"; boundary="grens"; start="<root>"; start-info="text/xml"'
ROOT_HEAD = b'--grens\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\nContent-ID: <root>\r\n\r\n'


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas) -> Iterator[Edge]:
    with running(tmp_path_factory.mktemp("hostile"), schemas) as edge:
        yield edge


def _with_on_body(extra: str) -> bytes:
    body = m.genereer_zaak_identificatie()
    return ENV.format(body.replace("<ZDS:genereerZaakIdentificatie_Di02 ", f"<ZDS:genereerZaakIdentificatie_Di02 {extra} ", 1)).encode()


def _mtom(root: bytes, parts: list[tuple[str, bytes]]) -> bytes:
    out = ROOT_HEAD + root
    for cid, data in parts:
        out += b"\r\n--grens\r\nContent-Type: application/octet-stream\r\nContent-ID: <" + cid.encode() + b">\r\n\r\n" + data
    return out + b"\r\n--grens--\r\n"


def _repeated_include() -> bytes:
    doc = m.genereer_zaak_identificatie()
    include = '<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:p1"/>'
    root = ENV.format(doc.replace("</ZDS:genereerZaakIdentificatie_Di02>",
                                  f"<x>{include}</x>" * 60 + "</ZDS:genereerZaakIdentificatie_Di02>")).encode()
    return _mtom(root, [("p1", b"x" * 1024)])


CASES = {
    "100k-attributes": (_with_on_body(" ".join(f'a{i}="1"' for i in range(100_000))), "text/xml"),
    "30k-namespaces": (_with_on_body(" ".join(f'xmlns:n{i}="urn:x{i}"' for i in range(30_000))), "text/xml"),
    "5k-mime-parts": (_mtom(ENV.format(m.genereer_zaak_identificatie()).encode(),
                            [(f"p{i}", b"") for i in range(5000)]), MTOM_TYPE),
    "mtom-root-100k-attributes": (_mtom(_with_on_body(" ".join(f'a{i}="1"' for i in range(100_000))), []), MTOM_TYPE),
    "one-part-included-60-times": (_repeated_include(), MTOM_TYPE),
}


@pytest.mark.usefixtures("settled_heap")
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_hostile_shape_is_refused_quickly_while_others_are_answered(edge: Edge, name: str) -> None:
    body, content_type = CASES[name]
    latencies: list[float] = []
    done = threading.Event()

    def other_client() -> None:
        with httpx.Client(timeout=10) as http:
            while not done.is_set():
                t = time.perf_counter()
                assert http.get(edge.url + "/healthz").status_code == 200
                latencies.append(time.perf_counter() - t)
                time.sleep(0.02)

    thread = threading.Thread(target=other_client)
    thread.start()
    try:
        started = time.perf_counter()
        response = edge.soap.post_raw(e.SYNC_VRIJ, body, {"Content-Type": content_type})
        elapsed = time.perf_counter() - started
    finally:
        done.set()
        thread.join()
    answer = edge.soap.check(response)
    assert answer.foutcode == "StUF055", answer.content[:500]
    assert elapsed < 2.0, f"{name} took {elapsed:.2f} s"
    assert max(latencies, default=0) < 0.5, f"another client waited {max(latencies):.2f} s"
