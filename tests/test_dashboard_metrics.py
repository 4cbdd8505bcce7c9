"""``/metrics`` after a known sequence of messages: requests per operation and outcome, the latency
histogram, queue depth, deliveries by target and state, and the circuit state. The queue is driven
by hand (no worker in the broker), so every number is exact."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from broker.queue.tables import Delivery
from broker.web.metrics import BUCKETS
from tests.support import edge_messages as e
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.dashboard_site import CREEER, Site, start_site
from tests.support.target import CountingTarget

REPO = Path(__file__).resolve().parents[1]


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = httpx.get(url + "/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(got: dict, name: str, **labels: str) -> float:
    return got[(name, tuple(sorted(labels.items())))]


def test_metrics_after_a_known_sequence_of_messages(tmp_path: Path, schemas, target: CountingTarget) -> None:
    site: Site = start_site(tmp_path, schemas, target, worker_in_serve=False, circuit_failure_threshold=1,
                            circuit_open_seconds=3600)
    try:
        q = site.lb.broker.queue
        site.creeer("1234MET01")                     # ok; archief delivery 1
        site.creeer("1234MET02")                     # ok; archief delivery 2
        site.soap.call("BeantwoordVraag", m.geef_zaakdetails("1234MET01"))           # ok
        invalid = m.creeer_zaak("1234MET03").replace("<ZKN:zaakniveau>1</ZKN:zaakniveau>", "")
        assert site.soap.call("OntvangAsynchroon", invalid, soap_action=CREEER).is_fault   # fault (schema)
        garbage = site.soap.post_raw("OntvangAsynchroon", b"<not-xml", {"Content-Type": "text/xml"})
        assert garbage.status_code >= 400                                                # rejected

        target.fail_next = ["client"]  # delivery 1: a permanent error, dead at once
        [first] = q.claim("test", limit=1)
        assert q.run(first, "test").result == "dead"
        target.down = True             # delivery 2: retryable; the circuit (threshold 1) opens
        [second] = q.claim("test", limit=1)
        assert q.run(second, "test").result == "retry"

        got = samples(site.url)
        assert value(got, "stuf_broker_requests_total", operation="creeerZaak", outcome="ok") == 2
        assert value(got, "stuf_broker_requests_total", operation="creeerZaak", outcome="fault") == 1
        assert value(got, "stuf_broker_requests_total", operation="geefZaakdetails", outcome="ok") == 1
        assert value(got, "stuf_broker_requests_total", operation="unknown", outcome="rejected") == 1

        hist = "stuf_broker_request_duration_seconds"
        assert value(got, hist + "_count", operation="creeerZaak") == 3
        buckets = [value(got, hist + "_bucket", operation="creeerZaak", le=str(b)) for b in BUCKETS]
        assert buckets == sorted(buckets) and value(got, hist + "_bucket", operation="creeerZaak", le="+Inf") == 3
        assert 0 < value(got, hist + "_sum", operation="creeerZaak") < 30

        assert value(got, "stuf_broker_queue_depth", target="archief") == 1   # delivery 2, retrying
        assert value(got, "stuf_broker_deliveries", target="archief", state="dead") == 1
        assert value(got, "stuf_broker_deliveries", target="archief", state="retrying") == 1
        assert value(got, "stuf_broker_deliveries", target="archief", state="delivered") == 0
        with site.lb.broker.db.read() as s:
            embedded = s.execute(select(func.count()).select_from(Delivery).where(
                Delivery.target == "zaaksysteem", Delivery.state == "delivered")).scalar_one()
        assert embedded >= 2
        assert value(got, "stuf_broker_deliveries", target="zaaksysteem", state="delivered") == embedded
        assert value(got, "stuf_broker_queue_depth", target="zaaksysteem") == 0

        assert value(got, "stuf_broker_circuit_state", target="archief", state="open") == 1
        assert value(got, "stuf_broker_circuit_state", target="archief", state="closed") == 0
        assert value(got, "stuf_broker_circuit_failures", target="archief") == 1
        assert value(got, "stuf_broker_circuit_state", target="zaaksysteem", state="closed") == 1
        assert value(got, "stuf_broker_database_up") == 1
    finally:
        site.stop()


@pytest.mark.slow
def test_serve_with_two_workers_reports_the_requests_of_both_processes(tmp_path: Path) -> None:
    """``stuf-broker serve --workers 2``: every scrape, answered by either process, counts all requests."""
    config = write_config(tmp_path, routes={
        "targets": {"zaaksysteem": {"adapter": "embedded"}},
        "routes": [{"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]}],
        "delivery": fast_delivery(worker_in_serve=False),
    })
    port = live.free_port()
    data = tmp_path / "var"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    stale = data / "prometheus" / f"{socket.gethostname()}-{gone}"  # of a serve that is no longer running
    stale.mkdir(parents=True)
    (stale / "counter_999999.db").write_bytes(b"left over from an earlier run")
    (data / "prometheus" / "counter_888888.db").write_bytes(b"the layout of earlier versions")
    env = dict(os.environ, STUF_BROKER_DATABASE_URL=f"sqlite:///{tmp_path / 'broker.db'}",
               STUF_BROKER_DATA_DIR=str(data))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "broker", "serve", "--config", str(config), "--port", str(port),
                                 "--workers", "2"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        for _ in range(12):  # a new connection per request: the kernel spreads them over both processes
            r = httpx.post(url + "/zds/VerwerkSynchroonVrijBericht", content=e.envelope(m.genereer_zaak_identificatie()),
                           headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30)
            assert r.status_code == 200, r.text
        for _ in range(6):
            got = samples(url)
            assert value(got, "stuf_broker_requests_total", operation="genereerZaakIdentificatie", outcome="ok") == 12
            assert value(got, "stuf_broker_request_duration_seconds_count", operation="genereerZaakIdentificatie") == 12
        assert not stale.exists() and not list((data / "prometheus").glob("*.db"))  # removed at start
        own = data / "prometheus" / f"{socket.gethostname()}-{proc.pid}"
        assert list(own.glob("counter_*.db"))  # this serve's processes count in a folder of its own
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_metrics_need_no_sign_in_and_carry_no_personal_data(tmp_path: Path, schemas) -> None:
    site = start_site(tmp_path, schemas)
    try:
        site.creeer("1234MET09", person=True)
        text = httpx.get(site.url + "/metrics").text
        assert "stuf_broker_requests_total" in text and "111222333" not in text and "Vermeulen" not in text
    finally:
        site.stop()



def test_each_serve_has_its_own_metrics_folder_and_stale_ones_go(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ``serve`` commands may share a data directory: neither empties the other's counters."""
    from broker.web.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    # set, then removed: so that monkeypatch removes what prepare_multiprocess_dir sets below (a
    # PROMETHEUS_MULTIPROC_DIR left behind put later tests' in-process metrics in this folder)
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path / "unused"))
    monkeypatch.delenv(MULTIPROC_ENV)
    root = tmp_path / "prometheus"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        alive = root / f"{socket.gethostname()}-{other.pid}"
        alive.mkdir(parents=True)
        (alive / "counter_1.db").write_bytes(b"x")
        gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
        stale = root / f"{socket.gethostname()}-{gone.stdout.strip()}"
        stale.mkdir()
        mine = prepare_multiprocess_dir(tmp_path)
        assert mine == root / f"{socket.gethostname()}-{os.getpid()}" and mine.is_dir()
        assert os.environ[MULTIPROC_ENV] == str(mine)
        assert (alive / "counter_1.db").exists()  # the running serve keeps its numbers
        assert not stale.exists()
    finally:
        other.kill()
        other.wait()
