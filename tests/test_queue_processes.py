"""Several broker processes sharing one PostgreSQL: exactly-once delivery, and surviving a SIGKILL.

The intake is a live broker without a worker of its own; `stuf-broker worker` processes deliver.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from broker.queue.tables import Delivery, DeliveryAttempt
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.pg import schema_url
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def pg() -> Iterator[str]:
    with schema_url() as url:
        yield url


def config_for(tmp: Path, target: CountingTarget, **policy) -> Path:
    return write_config(tmp, routes={
        "targets": {"archief": {"adapter": "stuf", "url": target.url, "timeout": 30}},
        "routes": [{"operations": ["creeerZaak", "updateZaak"], "deliver": [{"target": "archief", "mode": "queued"}]}],
        "delivery": fast_delivery(worker_in_serve=False, **policy),
    })


def start_worker(config: Path, db_url: str, tmp: Path, name: str) -> subprocess.Popen:
    env = dict(os.environ, STUF_BROKER_DATABASE_URL=db_url, STUF_BROKER_DATA_DIR=str(tmp / "var"))
    with open(tmp / f"{name}.log", "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "broker", "worker", "--config", str(config)],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def count(lb: live.LiveBroker, state: str) -> int:
    with lb.broker.db.read() as s:
        return s.execute(select(func.count()).select_from(Delivery).where(Delivery.state == state)).scalar_one()


def wait_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached within the timeout")


def test_two_workers_deliver_a_thousand_queued_messages_exactly_once(tmp_path, pg, target, schemas):
    config = config_for(tmp_path, target)
    lb = live.start(live.make_settings(tmp_path, config_dir=config, database_url=pg))
    caller = SoapCaller(lb.url, schemas)
    workers = []
    try:
        workers = [start_worker(config, pg, tmp_path, f"w{i}") for i in range(2)]

        def send(i: int) -> str:
            ident = f"1234P{i % 50:04d}"
            body = (m.creeer_zaak(ident) if i < 50 else m.update_zaak(ident, f"v{i}", f"v{i + 1}"))
            action = m.ZDS_ACTION + ("creeerZaak_ZakLk01" if i < 50 else "updateZaak_ZakLk01")
            return caller.call("OntvangAsynchroon", body, soap_action=action).berichtcode

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(send, range(1000))) == {"Bv03"}
        wait_until(lambda: count(lb, "delivered") == 1000, timeout=240)
        assert target.applied_count == 1000
        assert len(target.received) == 1000, "a message reached the target more than once"
        with lb.broker.db.read() as s:
            by_worker = dict(s.execute(select(DeliveryAttempt.worker, func.count()).group_by(DeliveryAttempt.worker)).all())
        assert len(by_worker) == 2, f"both workers should have delivered: {by_worker}"
    finally:
        for w in workers:
            stop(w)
        caller.close()
        lb.stop()


def killed_mid_delivery(caller: SoapCaller, target: CountingTarget, config: Path, pg: str, tmp: Path,
                        zaak: str) -> subprocess.Popen:
    """A creeerZaak queued, and the worker that delivers it killed while the target is still busy."""
    target.delay = 2.0  # the worker will be in the middle of the delivery when it dies
    assert caller.call("OntvangAsynchroon", m.creeer_zaak(zaak),
                       soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01").berichtcode == "Bv03"
    worker = start_worker(config, pg, tmp, "first")
    wait_until(lambda: len(target.received) == 1, timeout=30)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    target.delay = 0.0
    return worker


def test_a_delivery_survives_a_worker_killed_mid_delivery(tmp_path, pg, target, schemas):
    config = config_for(tmp_path, target, lease_seconds=3)
    lb = live.start(live.make_settings(tmp_path, config_dir=config, database_url=pg))
    caller = SoapCaller(lb.url, schemas)
    first = second = None
    try:
        first = killed_mid_delivery(caller, target, config, pg, tmp_path, "1234KILL1")
        states = {st: count(lb, st) for st in ("pending", "in_progress", "retrying", "delivered", "dead")}
        assert states["in_progress"] == 1, states  # still leased to the dead worker
        second = start_worker(config, pg, tmp_path, "second")
        wait_until(lambda: count(lb, "delivered") == 1, timeout=60)
        assert target.applied_count == 1, "the target applied the message twice"
        with lb.broker.db.read() as s:
            errors = list(s.execute(select(DeliveryAttempt.error).order_by(DeliveryAttempt.id)).scalars())
        assert any("lease expired" in (e or "") for e in errors)
    finally:
        for w in (first, second):
            if w is not None:
                stop(w)
        caller.close()
        lb.stop()


def test_a_starting_worker_releases_expired_leases_at_once(tmp_path, pg, target, schemas):
    """A lease of a killed worker that ran out while no worker was running is released on start-up,
    not only at the first lease interval (here 20 s)."""
    config = config_for(tmp_path, target, lease_seconds=60)
    lb = live.start(live.make_settings(tmp_path, config_dir=config, database_url=pg))
    caller = SoapCaller(lb.url, schemas)
    first = second = None
    try:
        first = killed_mid_delivery(caller, target, config, pg, tmp_path, "1234KILL2")
        with lb.broker.db.write() as s:  # as if the broker had been down for longer than the lease
            s.execute(update(Delivery).where(Delivery.state == "in_progress")
                      .values(lease_expires_at=datetime.now(UTC) - timedelta(minutes=5)))
        started = time.monotonic()
        second = start_worker(config, pg, tmp_path, "second")
        wait_until(lambda: count(lb, "delivered") == 1, timeout=60)
        assert time.monotonic() - started < 15, "the expired lease waited for the first interval"
        assert target.applied_count == 1
    finally:
        for w in (first, second):
            if w is not None:
                stop(w)
        caller.close()
        lb.stop()
