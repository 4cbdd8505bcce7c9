"""The HTTP layer is bounded: request heads by size, count and time; stalled bodies; connections.

Raw sockets on loopback against a live broker whose limits are set low for the test."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import live


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[live.LiveBroker]:
    settings = live.make_settings(tmp_path_factory.mktemp("limits"), limits__header_timeout_seconds=1.0,
                                  limits__body_idle_timeout_seconds=1.0, limits__max_header_bytes=8192,
                                  limits__max_headers=50)
    lb = live.start(settings)
    yield lb
    lb.stop()


def connect(lb: live.LiveBroker) -> socket.socket:
    host, port = lb.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_header_larger_than_the_limit_gets_431_before_the_rest_is_read(broker: live.LiveBroker) -> None:
    with connect(broker) as sock:
        sock.sendall(b"POST /zds/OntvangAsynchroon HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]


def test_too_many_headers_get_431(broker: live.LiveBroker) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(80)) + b"\r\n"
    with connect(broker) as sock:
        sock.sendall(head)
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]


def test_a_head_that_trickles_in_is_cut_off_with_408(broker: live.LiveBroker) -> None:
    with connect(broker) as sock:
        start = time.monotonic()
        sock.sendall(b"POST /zds/OntvangAsynchroon HTTP/1.1\r\n")
        for _ in range(4):
            time.sleep(0.5)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert time.monotonic() - start < 4


def test_a_connection_that_says_nothing_is_closed(broker: live.LiveBroker) -> None:
    with connect(broker) as sock:
        start = time.monotonic()
        answer = read_all(sock)
    assert time.monotonic() - start < 4 and (answer == b"" or answer.startswith(b"HTTP/1.1 408"))


def test_a_stalled_body_closes_the_connection(broker: live.LiveBroker) -> None:
    with connect(broker) as sock:
        sock.sendall(b"POST /zds/OntvangAsynchroon HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                     b"Content-Length: 1000\r\n\r\n<soapenv:Envelope")
        start = time.monotonic()
        read_all(sock)
    assert time.monotonic() - start < 4


def test_ordinary_requests_pass(broker: live.LiveBroker, tmp_path: Path) -> None:
    import httpx

    assert httpx.get(broker.url + "/healthz", timeout=5).status_code == 200


def test_a_request_sent_in_one_piece_larger_than_the_head_limit_passes(broker: live.LiveBroker) -> None:
    """Only the head counts against the head limit, even when head and body arrive together."""
    body = b"<x>" + b"y" * 100_000 + b"</x>"
    with connect(broker) as sock:
        sock.sendall(b"POST /zds/OntvangAsynchroon HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        answer = read_all(sock)
    assert not answer.startswith(b"HTTP/1.1 431") and b"Fo03Bericht" in answer, answer[:200]
