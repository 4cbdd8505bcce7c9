"""A claim's select stays cheap with a backlog (issue 9: the drain at least as fast as the intake).

The claim reads due deliveries one state at a time in the order of the (state, next_attempt_at, id)
index and stops at its limit (it used to read and sort every due delivery: on PostgreSQL until
migration 0009, whose index has the ``id`` of the claim's order). On PostgreSQL, with no statistics
yet on a freshly filled table, the check for an earlier open delivery of the same zaak must use the
index of open deliveries (migration 0008; since 0009 the planner prices the (target, state) index
higher), not read every delivery of the target for each due one. The plans are asked of the
databases themselves, for a backlog of 2,000 deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert

from broker.queue import tables as t
from broker.queue.engine import Queue
from broker.queue.tables import Delivery
from broker.routing.config import DeliveryPolicy
from broker.store.db import Database
from broker.store.tables import Message

BACKLOG = 2000


def _backlog(db: Database) -> datetime:
    now = datetime.now(UTC)
    with db.write_connection() as conn:
        conn.execute(insert(Message.__table__), [
            {"id": i, "received_at": now, "port": "OntvangAsynchroon", "operation": "creeerZaak", "outcome": "ok", "http_status": 200,
             "state": "queued"}
            for i in range(1, BACKLOG + 1)])
        conn.execute(insert(Delivery.__table__), [
            {"message_id": i, "target": "zs", "mode": "queued", "primary": True, "operation": "creeerZaak",
             "ordering_key": f"Z{i:05d}", "state": t.PENDING, "attempts": 0, "created_at": now, "age_from": now,
             "next_attempt_at": now - timedelta(seconds=BACKLOG - i), "steps": {}}
            for i in range(1, BACKLOG + 1)])
    return now


def _claim_and_plan(db: Database, queue: Queue) -> tuple[list[int], str]:
    """A claim, and the database's plan of the select it ran for the pending deliveries (the SQL and
    parameters as the claim sent them, caught on their way to the driver)."""
    sent: list[tuple[str, object]] = []

    def catch(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().startswith("SELECT deliveries.id, deliveries.target, deliveries.next_attempt_at"):
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", catch)
    try:
        claimed = queue.claim("w", limit=25)
    finally:
        event.remove(db.engine, "before_cursor_execute", catch)
    statement, parameters = next((st, p) for st, p in sent if "'pending'" in st)
    with db.engine.connect() as conn:
        if db.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)  # type: ignore[arg-type]
            return claimed, "\n".join(str(row[-1]) for row in rows)
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters)  # type: ignore[arg-type]
        return claimed, "\n".join(row[0] for row in rows)


def test_a_claim_reads_the_due_index_in_order_and_checks_the_zaak_order_on_open_deliveries(db: Database) -> None:
    _backlog(db)
    queue = Queue(db, DeliveryPolicy(), {}, requests=None)  # type: ignore[arg-type]  # claims only
    claimed, plan = _claim_and_plan(db, queue)
    assert claimed == list(range(1, 26))  # the longest due first
    if db.is_sqlite:
        assert "ix_deliveries_due" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # no sort of every due delivery
        assert "ordering_key=? AND id<?" in plan, plan  # the zaak-order check: one probe of an index
    else:
        assert "Sort" not in plan, plan  # the index gives the claim's order: the scan stops at the limit
        lines = plan.splitlines()
        check = lines[next(i for i, line in enumerate(lines) if line.strip() == "SubPlan 1") + 1:]
        assert "Index" in check[0] and "Index Cond" in check[1], plan
        assert "ordering_key" in check[1] and "id <" in check[1], plan  # one probe, no filter over the target
        assert "ix_deliveries_open_order" in check[0], plan
        assert "ix_deliveries_target_state" not in plan, plan
    assert queue.claim("w", limit=25) == list(range(26, 51))
