"""Durable delivery: queued intake, fan-out, retries, dead letters, per-zaak order, circuits, leases.

Each test runs on SQLite and on the machine's PostgreSQL (a private schema per test). The target is
a real StUF endpoint on loopback (tests.support.target.CountingTarget) that, like a real zaaksysteem,
applies a (zender, referentienummer) only once.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from broker.queue.tables import Circuit, Delivery, DeliveryAttempt
from broker.store.tables import Message, MessagePayload
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget
from tests.support.waiting import wait_until

ZDS = m.ZDS_ACTION


def routes(target: CountingTarget, deliver: list[dict], operations: list[str] | None = None, **policy) -> dict:
    return {
        "targets": {"zaaksysteem": {"adapter": "embedded"}, "archief": {"adapter": "stuf", "url": target.url, "timeout": 5}},
        "routes": [
            {"operations": operations or ["creeerZaak", "updateZaak"], "deliver": deliver},
            {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]},
        ],
        "delivery": fast_delivery(**policy),
    }


@pytest.fixture
def start_broker(tmp_path: Path, db_url: str, schemas):
    started = []

    def start(route_config: dict) -> tuple[live.LiveBroker, SoapCaller]:
        config = write_config(tmp_path, routes=route_config)
        lb = live.start(live.make_settings(tmp_path, config_dir=config, database_url=db_url))
        caller = SoapCaller(lb.url, schemas)
        started.append((lb, caller))
        return lb, caller

    yield start
    for lb, caller in started:
        caller.close()
        lb.stop()


def deliveries(lb: live.LiveBroker, target_name: str | None = None) -> list[Delivery]:
    with lb.broker.db.read() as s:
        stmt = select(Delivery).order_by(Delivery.id)
        if target_name:
            stmt = stmt.where(Delivery.target == target_name)
        return list(s.execute(stmt).scalars())


def creeer(soap: SoapCaller, ident: str, **sg) -> None:
    answer = soap.call("OntvangAsynchroon", m.creeer_zaak(ident, **sg), soap_action=ZDS + "creeerZaak_ZakLk01")
    assert answer.berichtcode == "Bv03", answer.content


def test_a_queued_message_is_acknowledged_before_delivery_and_then_delivered(start_broker, target):
    target.down = True  # the target is away: the sender must still get its Bv03 at once
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}]))
    creeer(soap, "1234Q0001")
    [d] = deliveries(lb, "archief")
    assert d.mode == "queued" and d.state in ("pending", "in_progress", "retrying")
    with lb.broker.db.read() as s:
        assert s.execute(select(Message.state)).scalar_one() == "queued"
    target.down = False
    wait_until(lambda: deliveries(lb, "archief")[0].state == "delivered")
    assert target.applied_count == 1
    with lb.broker.db.read() as s:
        assert s.execute(select(Message.state)).scalar_one() == "done"


def test_a_message_fans_out_to_a_sync_primary_and_a_queued_secondary(start_broker, target):
    lb, soap = start_broker(routes(target, [{"target": "zaaksysteem", "mode": "sync"},
                                            {"target": "archief", "mode": "queued"}]))
    creeer(soap, "1234Q0002")
    la01 = soap.call("BeantwoordVraag", m.geef_zaakdetails("1234Q0002"))
    assert la01.text("antwoord/object/identificatie") == "1234Q0002"  # the primary had it before the Bv03
    wait_until(lambda: deliveries(lb, "archief")[0].state == "delivered")
    assert target.applied_count == 1
    states = {d.target: (d.state, d.primary) for d in deliveries(lb)}
    assert states == {"zaaksysteem": ("delivered", True), "archief": ("delivered", False)}


def test_a_permanent_error_goes_dead_at_once_keeping_the_answer_and_retry_revives_it(start_broker, target):
    target.fail_next = ["client"]  # Fo03 with a client-side code: trying again cannot help
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}]))
    creeer(soap, "1234Q0003")
    wait_until(lambda: deliveries(lb, "archief")[0].state == "dead")
    [d] = deliveries(lb, "archief")
    assert d.attempts == 1
    assert "StUF055" in (d.last_error or "") and "Fo03Bericht" in (d.target_answer or "")
    with lb.broker.db.read() as s:
        assert s.execute(select(Message.state)).scalar_one() == "dead"  # visible on the message too
    assert lb.broker.queue.retry([d.id]) == 1
    wait_until(lambda: deliveries(lb, "archief")[0].state == "delivered")
    assert target.applied_count == 1


def test_a_server_side_fault_is_retried_until_it_succeeds(start_broker, target):
    target.fail_next = ["server", "http500", "server"]
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}]))
    creeer(soap, "1234Q0004")
    wait_until(lambda: deliveries(lb, "archief")[0].state == "delivered")
    [d] = deliveries(lb, "archief")
    assert d.attempts == 4
    with lb.broker.db.read() as s:
        outcomes = list(s.execute(select(DeliveryAttempt.outcome).where(DeliveryAttempt.delivery_id == d.id)
                                  .order_by(DeliveryAttempt.id)).scalars())
    assert outcomes == ["retry", "retry", "retry", "delivered"]


def test_retries_end_in_a_dead_letter_after_the_maximum_attempts(start_broker, target):
    target.down = True
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}], max_attempts=3))
    creeer(soap, "1234Q0005")
    wait_until(lambda: deliveries(lb, "archief")[0].state == "dead")
    [d] = deliveries(lb, "archief")
    assert d.attempts == 3 and "3 attempts" in (d.note or "")


def test_a_target_that_was_down_receives_every_message_in_per_zaak_order(start_broker, target):
    target.down = True
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}]))
    sent: dict[str, list[str]] = {}
    for z in range(4):
        ident = f"1234QORD{z}"
        ref = m.ref()
        creeer(soap, ident, referentienummer=ref)
        sent[ident] = [ref]
        for n in range(4):
            ref = m.ref()
            answer = soap.call("OntvangAsynchroon", m.update_zaak(ident, f"v{n}", f"v{n + 1}", referentienummer=ref),
                               soap_action=ZDS + "updateZaak_ZakLk01")
            assert answer.berichtcode == "Bv03"
            sent[ident].append(ref)
    time.sleep(0.5)  # several failed attempts while the target is down
    assert target.applied_count == 0
    target.down = False
    wait_until(lambda: all(d.state == "delivered" for d in deliveries(lb, "archief")), timeout=30)
    assert target.applied_count == 20
    assert {z: target.order[z] for z in sent} == sent


def test_a_later_delivery_of_a_zaak_waits_behind_a_dead_one_when_holding(start_broker, target):
    target.fail_next = ["client"]
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}], on_dead="hold"))
    creeer(soap, "1234QHOLD")
    wait_until(lambda: deliveries(lb, "archief")[0].state == "dead")
    soap.call("OntvangAsynchroon", m.update_zaak("1234QHOLD", "a", "b"), soap_action=ZDS + "updateZaak_ZakLk01")
    time.sleep(0.5)
    first, second = deliveries(lb, "archief")
    assert second.state == "pending" and target.applied_count == 0  # held behind the dead letter
    from broker.queue import admin

    with lb.broker.db.read() as s:
        assert admin.show(s, second.id)["waiting_behind"] == {"id": first.id, "state": "dead"}
    lb.broker.queue.retry([first.id])
    wait_until(lambda: target.applied_count == 2)
    assert target.order["1234QHOLD"][0] == target.received[-2].referentienummer or len(target.order["1234QHOLD"]) == 2


def test_a_later_delivery_of_a_zaak_passes_a_dead_one_when_skipping(start_broker, target):
    target.fail_next = ["client"]
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}], on_dead="skip"))
    creeer(soap, "1234QSKIP")
    wait_until(lambda: deliveries(lb, "archief")[0].state == "dead")
    soap.call("OntvangAsynchroon", m.update_zaak("1234QSKIP", "a", "b"), soap_action=ZDS + "updateZaak_ZakLk01")
    wait_until(lambda: deliveries(lb, "archief")[1].state == "delivered")
    assert deliveries(lb, "archief")[0].state == "dead"


def test_the_circuit_opens_after_repeated_failures_and_closes_after_a_good_probe(start_broker, target):
    target.down = True
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}],
                                   circuit_failure_threshold=3, circuit_open_seconds=3.0))
    for i in range(3):
        creeer(soap, f"1234QCIRC{i}")

    def circuit() -> str | None:
        with lb.broker.db.read() as s:
            c = s.get(Circuit, "archief")
            return c.state if c else None

    wait_until(lambda: circuit() == "open")
    # attempts begun before it opened (another worker thread's) may still arrive; none begins after
    wait_until(lambda: not [d for d in deliveries(lb) if d.state == "in_progress"])
    seen = len(target.received)
    # while open, the target is left alone; the circuit stays open for 3 s so that a test process slowed
    # by a busy machine still looks well inside that time (with 1 s, a late look once saw the probe)
    time.sleep(0.5)
    assert len(target.received) == seen
    target.down = False
    wait_until(lambda: target.applied_count == 3, timeout=20)
    assert circuit() == "closed"


def test_a_delivery_claimed_before_its_circuit_opened_is_put_back_unattempted(start_broker, target):
    """Two workers: one claims a delivery while another's failure opens the target's circuit. The
    claimed delivery is not sent; it waits in the queue, its attempt not counted."""
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}], worker_in_serve=False,
                                   circuit_open_seconds=60))
    creeer(soap, "1234QBACK")
    queue = lb.broker.queue
    [claimed] = queue.claim("w1")
    with lb.broker.db.write() as s:  # what another worker's failures did meanwhile
        circuit = s.get(Circuit, "archief")
        circuit.state, circuit.failures = "open", 3
    assert queue.run(claimed, "w1").result == "skipped"
    assert target.received == []
    [row] = deliveries(lb, "archief")
    assert (row.state, row.attempts, row.lease_owner) == ("pending", 0, None)
    assert queue.claim("w1") == []  # not while the circuit is open


def test_a_claim_stops_calling_a_target_once_its_circuit_opens(start_broker, target):
    """Five deliveries to a target that is down, in one claim, the circuit opening at two failures:
    the target is called twice, the other three go back to the queue unattempted."""
    target.down = True
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}], worker_in_serve=False,
                                   circuit_failure_threshold=2, circuit_open_seconds=60))
    for i in range(5):
        creeer(soap, f"1234QSTOP{i}")
    queue = lb.broker.queue
    claimed = queue.claim("w1", limit=10)
    assert len(claimed) == 5
    outcomes = [o.result for o in queue.run_many(claimed, "w1")]
    assert len(target.received) == 2
    assert outcomes.count("skipped") == 3
    rows = deliveries(lb, "archief")
    assert sorted((r.state, r.attempts) for r in rows) == [("pending", 0)] * 3 + [("retrying", 1)] * 2


def test_payloads_older_than_the_retention_are_purged_and_metadata_stays(start_broker, target):
    lb, soap = start_broker(routes(target, [{"target": "zaaksysteem", "mode": "sync"}]))
    creeer(soap, "1234QPURGE")
    assert lb.broker.queue.purge_payloads(older_than_days=0) == 1
    with lb.broker.db.read() as s:
        msg = s.execute(select(Message)).scalar_one()
        assert msg.payload_purged_at is not None and msg.operation == "creeerZaak"
        assert s.get(MessagePayload, msg.id) is None


def test_a_purge_also_drops_the_targets_answers_and_says_how_many(start_broker, target, caplog):
    """A target's answer may quote the message (personal data): it goes with the payload."""
    target.fail_next = ["client"]
    lb, soap = start_broker(routes(target, [{"target": "archief", "mode": "queued"}]))
    creeer(soap, "1234QPURG2")
    wait_until(lambda: deliveries(lb, "archief")[0].state == "dead")
    with caplog.at_level("INFO"), capture_logs() as events:
        assert lb.broker.queue.purge_payloads(older_than_days=0) == 1
    with lb.broker.db.read() as s:
        assert [d.target_answer for d in s.execute(select(Delivery)).scalars()] == [None]
        assert [a.target_answer for a in s.execute(select(DeliveryAttempt)).scalars()] == [None]
        assert all(d.last_error for d in s.execute(select(Delivery)).scalars())  # the error stays
    # structlog's capture, or the stdlib records once broker.logging configured cached loggers
    logged = [e for e in events if e.get("event") == "payloads purged"] or [
        r.msg for r in caplog.records if "payloads purged" in str(r.msg)]
    assert logged and "target_answers" in str(logged[0]) and "1" in str(logged[0])
