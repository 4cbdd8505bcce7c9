"""Sending hostile requests to a live broker and judging its answers (tests/test_hostile_corpus.py,
tests/test_hostile_mutations.py).

The rule every answer must keep: an HTTP 4xx, or a well-formed SOAP envelope whose payload is
schema-valid (:meth:`SoapCaller.check`); a 5xx only as a SOAP Fault with a Fo-bericht; quickly; and
nothing of a file the request pointed at in it.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass, field

import httpx

from tests.support import messages as m
from tests.support.soapcall import SoapCaller

PASSWD_MARKER = b"root:x:0:0"
SOAPISH = ("text/xml", "application/soap+xml", "multipart/related")


@dataclass
class Reply:
    status: int
    content: bytes
    content_type: str
    elapsed: float


def judge(caller: SoapCaller, reply: Reply, max_seconds: float = 2.0) -> str | None:
    """None when the answer keeps the rule, else what is wrong with it."""
    if reply.elapsed >= max_seconds:
        return f"took {reply.elapsed:.2f} s"
    if PASSWD_MARKER in reply.content:
        return "the answer holds /etc/passwd"
    if 400 <= reply.status < 500:
        if reply.content_type.lower().startswith(SOAPISH) and reply.content:
            try:  # a 4xx that claims to be SOAP must be a valid one
                caller.check(httpx.Response(reply.status, content=reply.content,
                                            headers={"content-type": reply.content_type}))
            except Exception as exc:
                return f"HTTP {reply.status} with a broken SOAP body: {exc!r}"
        return None
    if reply.status not in (200, 202, 500):
        return f"HTTP {reply.status}"
    try:
        answer = caller.check(httpx.Response(reply.status, content=reply.content,
                                             headers={"content-type": reply.content_type}))
    except Exception as exc:
        return f"HTTP {reply.status}, not a well-formed schema-valid SOAP answer: {exc!r}: {reply.content[:300]!r}"
    if reply.status >= 500 and not (answer.is_fault and answer.berichtcode in ("Fo02", "Fo03")):
        return f"HTTP {reply.status} without a StUF fault ({answer.berichtcode})"
    if reply.status < 300 and answer.is_fault:
        return f"a fault with HTTP {reply.status}"
    return None


def post(http: httpx.Client, url: str, body: bytes, headers: dict[str, str] | list[tuple[str, str]]) -> Reply:
    started = time.perf_counter()
    response = http.post(url, content=body, headers=headers)
    return Reply(response.status_code, response.content, response.headers.get("content-type", ""),
                 time.perf_counter() - started)


def raw_exchange(base_url: str, request: bytes, *, piece: int = 65536, timeout: float = 5.0) -> Reply:
    """Send bytes as they are on a fresh connection (``Connection: close`` expected in them); stop
    sending once the server answers early, as an HTTP client should; read the answer to EOF."""
    host, port = base_url.removeprefix("http://").split(":")
    started = time.perf_counter()
    data = b""
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        for i in range(0, len(request), piece):
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(request[i:i + piece])
            except (BrokenPipeError, ConnectionResetError):
                break
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
    elapsed = time.perf_counter() - started
    head, _, rest = data.partition(b"\r\n\r\n")
    if not head:
        return Reply(0, b"", "", elapsed)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if "content-length" in headers:
        rest = rest[: int(headers["content-length"])]
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        rest = _dechunk(rest)
    return Reply(status, rest, headers.get("content-type", ""), elapsed)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return out


@dataclass
class Prober:
    """Another client that keeps asking /healthz and a genereerZaakIdentificatie while the test runs."""

    base_url: str
    caller: SoapCaller
    pause: float = 0.02
    health: list[float] = field(default_factory=list)
    di02: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _done: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Prober:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        assert self._thread is not None
        self._thread.join(timeout=30)

    def _run(self) -> None:
        from tests.support.edge_messages import SYNC_VRIJ, envelope

        answers: list[httpx.Response] = []  # checked against the schemas after the run
        with httpx.Client(timeout=10) as http:
            while not self._done.is_set():
                try:
                    t = time.perf_counter()
                    r = http.get(self.base_url + "/healthz")
                    self.health.append(time.perf_counter() - t)
                    if r.status_code != 200:
                        self.errors.append(f"/healthz HTTP {r.status_code}")
                    t = time.perf_counter()
                    r = http.post(f"{self.base_url}/zds/{SYNC_VRIJ}", content=envelope(m.genereer_zaak_identificatie()),
                                  headers={"Content-Type": "text/xml; charset=utf-8"})
                    self.di02.append(time.perf_counter() - t)
                    if r.status_code != 200 or b"Du02" not in r.content:
                        self.errors.append(f"Di02 answered HTTP {r.status_code}: {r.content[:300]!r}")
                    else:
                        answers.append(r)
                except Exception as exc:  # reported by the test, never lost in the thread
                    self.errors.append(repr(exc))
                self._done.wait(self.pause)
        for r in answers:
            try:
                self.caller.check(r)
            except Exception as exc:
                self.errors.append(repr(exc))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def p99(samples: list[float]) -> float:
    return percentile(samples, 0.99)


def vm_hwm_kb() -> int:
    """The process's peak resident set (VmHWM) in kB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/self/status")
