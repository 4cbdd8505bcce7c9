"""The delivery worker in ``serve`` yields to the intake of its process (delivery.worker_in_serve_share):
while requests keep coming in, it pauses after each claim for a multiple of the CPU the claim took;
when none came in, it goes on at once. A `stuf-broker worker` process never pauses.

On SQLite and on the machine's PostgreSQL; a real broker on loopback, a real SOAP client.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from broker.queue import tables as t
from broker.queue.tables import Delivery
from broker.queue.worker import MAX_PAUSE_SECONDS, SERVE_CLAIM_LIMIT, Worker
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery
from tests.support.soapcall import SoapCaller
from tests.support.waiting import wait_until
from tests.test_queue import start_broker  # noqa: F401  (the live broker of a route configuration)


def _routes(**policy) -> dict:
    return {"targets": {"zaaksysteem": {"adapter": "embedded"}},
            "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zaaksysteem", "mode": "queued"}]},
                       {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]}],
            "delivery": fast_delivery(**policy)}


@pytest.fixture
def broker_with(request, db_url: str):  # (db_url: on SQLite and on PostgreSQL)
    start = request.getfixturevalue("start_broker")  # tests.test_queue's, for these routes
    return lambda **policy: start(_routes(**policy))


def _queue(caller: SoapCaller, idents: list[str]) -> None:
    for ident in idents:
        answer = caller.call("OntvangAsynchroon", m.creeer_zaak(ident), soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01")
        assert answer.berichtcode == "Bv03", answer.content


def _delivered(lb: live.LiveBroker) -> int:
    with lb.broker.db.read() as s:
        return s.execute(select(func.count()).select_from(Delivery).where(Delivery.state == t.DELIVERED)).scalar_one()


class _Recording(Worker):
    """A worker that notes the pauses it takes (and takes them)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pauses: list[tuple[float, float]] = []

    def pause(self, cpu_seconds: float) -> float:
        seconds = super().pause(cpu_seconds)
        self.pauses.append((cpu_seconds, seconds))
        return seconds


def test_while_requests_come_in_the_worker_pauses_after_each_claim_and_delivers_everything(broker_with) -> None:
    lb, caller = broker_with(worker_in_serve=False, batch_size=2, worker_in_serve_share=0.05)
    _queue(caller, [f"1234YIELD{n:02d}" for n in range(5)])
    assert _delivered(lb) == 0
    moving = itertools.count()  # a request begun before every look: the intake is always busy
    worker = _Recording(lb.broker.queue, concurrency=1, intake=lambda: next(moving))
    worker._deliver()  # claims of two until none is due: 2, 2, 1
    assert _delivered(lb) == 5
    assert len(worker.pauses) == 3
    for cpu, seconds in worker.pauses:  # share 0.05 of one job: 19 times the claim's CPU, at most 2 s
        assert cpu > 0 and seconds == pytest.approx(min(MAX_PAUSE_SECONDS, cpu * 19))


def test_without_new_requests_the_worker_does_not_pause(broker_with) -> None:
    lb, caller = broker_with(worker_in_serve=False, batch_size=2, worker_in_serve_share=0.05)
    _queue(caller, [f"1234QUIET{n:02d}" for n in range(5)])
    quiet = _Recording(lb.broker.queue, concurrency=1, intake=lambda: 7)
    quiet._deliver()
    assert _delivered(lb) == 5 and quiet.pauses == []


def test_a_worker_process_never_pauses_and_the_share_is_split_over_its_jobs(broker_with) -> None:
    lb, caller = broker_with(worker_in_serve=False, worker_in_serve_share=0.25, concurrency=2)
    _queue(caller, [f"1234ALONE{n:02d}" for n in range(3)])
    alone = lb.broker.start_worker()  # as `stuf-broker worker` starts it
    try:
        assert alone.intake is None
        wait_until(lambda: _delivered(lb) == 3)
    finally:
        lb.broker.close()
    jobs = Worker(lb.broker.queue, concurrency=2, intake=lambda: 0)
    assert jobs.pause(0.010) == pytest.approx(0.010 * 7)  # each of 2 jobs: 0.125 of the time
    assert jobs.pause(10.0) == MAX_PAUSE_SECONDS


def test_a_worker_claims_its_share_of_the_batch_and_a_worker_in_serve_at_most_its_limit(broker_with) -> None:
    """A claim is the policy's batch_size split over the worker's threads; a worker in `serve`, whose
    process also answers requests (and shares their memory), claims at most SERVE_CLAIM_LIMIT."""
    lb, _ = broker_with(worker_in_serve=False, batch_size=200, concurrency=2)
    queue = lb.broker.queue
    assert Worker(queue).claim_limit == 100
    assert Worker(queue, concurrency=4).claim_limit == 50
    assert Worker(queue, intake=lambda: 0).claim_limit == SERVE_CLAIM_LIMIT
    assert Worker(queue, concurrency=200, intake=lambda: 0).claim_limit == 1


def test_serve_starts_its_worker_counting_the_intakes_requests(broker_with) -> None:
    lb, caller = broker_with()
    worker = lb.broker.worker
    assert worker is not None and worker.intake is not None
    before = worker.intake()
    _queue(caller, ["1234SERVE0001"])
    assert worker.intake() > before
    wait_until(lambda: _delivered(lb) == 1)
