"""A paused target (an operator's choice, kept in the database): no worker of any broker process
claims its queued deliveries until it is resumed; other targets go on; operator retries and cancels are
kept on the delivery. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from broker.queue.tables import DeliveryEvent
from tests.support import live
from tests.support import messages as m
from tests.support.configs import write_config
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget
from tests.support.waiting import wait_until
from tests.test_queue import ZDS, deliveries, routes

QUEUED = [{"target": "zaaksysteem", "mode": "sync"}, {"target": "archief", "mode": "queued"}]


@pytest.fixture
def broker_for(tmp_path: Path, db_url: str, schemas, target: CountingTarget):
    started: list[tuple[live.LiveBroker, SoapCaller]] = []

    def start(name: str, **policy) -> tuple[live.LiveBroker, SoapCaller]:
        config = write_config(tmp_path / name, routes=routes(target, QUEUED, **policy))
        lb = live.start(live.make_settings(tmp_path / name, config_dir=config, database_url=db_url))
        started.append((lb, SoapCaller(lb.url, schemas)))
        return started[-1]

    yield start
    for lb, caller in started:
        caller.close()
        lb.stop()


def test_a_paused_target_is_held_by_every_process_until_resumed(broker_for, target: CountingTarget) -> None:
    lb, soap = broker_for("one")
    assert lb.broker.queue.pause("archief", "web:otto", "onderhoud")
    assert not lb.broker.queue.pause("archief", "web:otto")  # once
    for i in range(3):
        soap.call("OntvangAsynchroon", m.creeer_zaak(f"1234QPAUSE{i}"), soap_action=ZDS + "creeerZaak_ZakLk01")
    # a second broker on the same database (another process or host) sees the pause as well
    other, _ = broker_for("other")
    for queue in (lb.broker.queue, other.broker.queue):
        assert queue.claim("test-worker") == []
    assert [d.state for d in deliveries(lb, "archief")] == ["pending"] * 3
    assert target.received == []
    assert {d.state for d in deliveries(lb, "zaaksysteem")} == {"delivered"}  # the sync leg is not held

    assert other.broker.queue.resume("archief")
    assert not other.broker.queue.resume("archief")
    lb.broker.wake_worker()
    wait_until(lambda: [d.state for d in deliveries(lb, "archief")] == ["delivered"] * 3)


def test_an_operators_retry_and_cancel_are_kept_on_the_delivery(broker_for, target: CountingTarget) -> None:
    lb, soap = broker_for("one", on_dead="skip")
    target.fail_next = ["client"]
    soap.call("OntvangAsynchroon", m.creeer_zaak("1234QEVENT"), soap_action=ZDS + "creeerZaak_ZakLk01")
    wait_until(lambda: [d.state for d in deliveries(lb, "archief")] == ["dead"])
    delivery = deliveries(lb, "archief")[0].id
    lb.broker.queue.pause("archief", "web:otto")  # so that the retried delivery waits to be cancelled
    assert lb.broker.queue.retry([delivery], actor="web:otto") == 1
    assert lb.broker.queue.cancel([delivery], actor="cli:root") == 1
    with lb.broker.db.read() as s:
        events = [(e.actor, e.action, e.note) for e in s.execute(
            select(DeliveryEvent).where(DeliveryEvent.delivery_id == delivery).order_by(DeliveryEvent.id)).scalars()]
    assert events == [("web:otto", "retry", "was dead"), ("cli:root", "cancel", "was pending")]
