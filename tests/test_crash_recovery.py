"""A broker killed under load loses no acknowledged message and applies none twice; a SIGTERM stops
it within its grace period whatever it is doing.

Real `stuf-broker serve` processes on loopback with a SQLite database, killed with SIGKILL while two
clients send creeerZaak messages; after each restart the clients resend what got no answer (same
referentienummer, StUF 03.01 §4.4.3).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support import messages as m
from tests.support.configs import write_config
from tests.support.live import free_port
from tests.support.target import CountingTarget

REPO = Path(__file__).resolve().parents[1]
ACTION = m.ZDS_ACTION + "creeerZaak_ZakLk01"
KILLS = 6

pytestmark = pytest.mark.slow


def serve(config: Path, tmp: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, STUF_BROKER_DATABASE_URL=f"sqlite:///{tmp / 'broker.db'}",
               STUF_BROKER_DATA_DIR=str(tmp / "var"))
    log = open(tmp / "serve.log", "ab")  # the child keeps its own descriptor
    proc = subprocess.Popen([sys.executable, "-m", "broker", "serve", "--config", str(config), "--port", str(port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the broker did not start: " + (tmp / "serve.log").read_text()[-2000:])


def envelope(xml: str) -> bytes:
    return ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            f"{xml}</soapenv:Body></soapenv:Envelope>").encode()


def test_sigkill_under_load_loses_no_acknowledged_message_and_applies_none_twice(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/zds/OntvangAsynchroon"
    messages: dict[str, bytes] = {}  # zaak identificatie -> the one request for it (fixed referentienummer)
    acknowledged: set[str] = set()
    lock = threading.Lock()
    counter = iter(range(1_000_000))

    def client(stop: threading.Event) -> None:
        with httpx.Client(timeout=5) as http:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                ident = f"1234CRASH{n:06d}"
                body = envelope(m.creeer_zaak(ident, referentienummer=f"CRASH{n:08d}"))
                with lock:
                    messages[ident] = body
                try:
                    r = http.post(url, content=body, headers={"Content-Type": "text/xml", "SOAPAction": ACTION})
                except httpx.HTTPError:
                    continue
                if r.status_code == 200 and b"Bv03" in r.content:
                    with lock:
                        acknowledged.add(ident)

    for _ in range(KILLS):
        proc = serve(config, tmp_path, port)
        stop = threading.Event()
        clients = [threading.Thread(target=client, args=(stop,)) for _ in range(2)]
        for c in clients:
            c.start()
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)  # under load: requests in every stage
        proc.wait()
        stop.set()
        for c in clients:
            c.join()

    proc = serve(config, tmp_path, port)
    try:  # every message that got no answer is sent again, as a client does
        with httpx.Client(timeout=10) as http:
            for ident, body in sorted(messages.items()):
                if ident in acknowledged:
                    continue
                r = http.post(url, content=body, headers={"Content-Type": "text/xml", "SOAPAction": ACTION})
                assert r.status_code == 200 and b"Bv03" in r.content, (ident, r.content[:400])
                acknowledged.add(ident)
            # and an acknowledged one again: the stored answer, not a second zaak
            again = next(iter(sorted(acknowledged)))
            r = http.post(url, content=messages[again], headers={"Content-Type": "text/xml", "SOAPAction": ACTION})
            assert r.status_code == 200 and b"Bv03" in r.content
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    engine = create_engine(f"sqlite:///{tmp_path / 'broker.db'}")
    with engine.connect() as c:
        rows = c.execute(text("select identificatie, count(*) from zs_zaken where identificatie like '1234CRASH%' "
                              "group by identificatie")).all()
    engine.dispose()
    stored = dict(rows)
    assert len(messages) > 50, "too little load to mean anything"
    assert set(stored) == set(messages), "a message that was sent (and answered after a resend) is missing"
    assert all(n == 1 for n in stored.values()), "a zaak was created twice"


def test_sigterm_stops_the_broker_within_its_grace_period_even_while_a_target_hangs(tmp_path: Path) -> None:
    target = CountingTarget().start()
    target.delay = 60.0  # a sync target that does not answer within the grace period
    try:
        config = write_config(tmp_path, routes={
            "targets": {"traag": {"adapter": "stuf", "url": target.url, "timeout": 120}},
            "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "traag", "mode": "sync"}]},
                       {"operations": ["*"], "deliver": [{"target": "traag", "mode": "sync"}]}]})
        port = free_port()
        proc = serve(config, tmp_path, port)
        url = f"http://127.0.0.1:{port}/zds/OntvangAsynchroon"

        def hanging() -> None:
            try:
                httpx.post(url, content=envelope(m.creeer_zaak("1234TERM01")),
                           headers={"Content-Type": "text/xml", "SOAPAction": ACTION}, timeout=90)
            except httpx.HTTPError:
                pass

        thread = threading.Thread(target=hanging, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not target.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert target.received, "the request did not reach the target"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert time.monotonic() - started < 15, "SIGTERM took longer than the grace period"
    finally:
        target.stop()
