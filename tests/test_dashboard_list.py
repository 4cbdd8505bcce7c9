"""The message list: every filter, keyset pages that neither skip nor repeat a message (ties on the
timestamp included), in both directions, on SQLite and PostgreSQL; the list never reads payloads,
and on SQLite each single-column filter walks its index in order (no sort of the filtered set)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, insert, text

from broker.store import migrate
from broker.store.db import Database
from broker.store.tables import Message
from broker.web.dashboard import messagelist
from broker.web.dashboard.messagelist import MessageFilters

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
OPS = [("creeerZaak", "Lk01"), ("updateZaak", "Lk01"), ("geefZaakdetails", "Lv01"), ("genereerZaakIdentificatie", "Di02")]


def fill(db: Database, n: int = 157) -> list[dict]:
    """n messages; every third shares its timestamp with the one before (ties for the keyset)."""
    rows = []
    for i in range(n):
        op, code = OPS[i % len(OPS)]
        rows.append({
            "received_at": T0 + timedelta(seconds=i - (i % 3 == 2)), "port": "OntvangAsynchroon",
            "operation": op, "berichtcode": code, "zender_applicatie": ["FORMS", "KCC", "GIS"][i % 3],
            "zaak_identificatie": f"1234Z{i // 5:05d}", "referentienummer": f"R{i:06d}",
            "state": ["done", "queued", "dead", "done", "done"][i % 5], "outcome": "ok" if i % 7 else "fault",
            "http_status": 200, "attempts": 1, "replays": 0,
        })
    with db.write() as s:
        s.execute(insert(Message.__table__), rows)
    with db.read() as s:
        ids = [r[0] for r in s.execute(text("SELECT id FROM messages ORDER BY id"))]
    for row, ident in zip(rows, ids):
        row["id"] = ident
    return rows


def newest_first(rows: list[dict]) -> list[int]:
    return [r["id"] for r in sorted(rows, key=lambda r: (r["received_at"], r["id"]), reverse=True)]


def walk(db: Database, filters: MessageFilters, limit: int) -> tuple[list[int], list[int]]:
    """All ids going to older pages, then all ids coming back through newer pages."""
    forward, pages = [], []
    after = None
    with db.read() as s:
        while True:
            page = messagelist.page(s, filters, after=after, limit=limit)
            forward.extend(r["id"] for r in page.rows)
            pages.append(page)
            if page.next_cursor is None:
                break
            after = page.next_cursor
        backward = [r["id"] for r in pages[-1].rows]
        before = pages[-1].prev_cursor
        while before is not None:
            page = messagelist.page(s, filters, before=before, limit=limit)
            backward = [r["id"] for r in page.rows] + backward
            before = page.prev_cursor
    return forward, backward


def test_paging_through_everything_yields_each_message_once_newest_first_in_both_directions(db: Database) -> None:
    rows = fill(db)
    forward, backward = walk(db, MessageFilters(), limit=20)
    assert forward == newest_first(rows)
    assert backward == forward


@pytest.mark.parametrize(("field", "value", "keep"), [
    ("state", "dead", lambda r: r["state"] == "dead"),
    ("operation", "updateZaak", lambda r: r["operation"] == "updateZaak"),
    ("berichtcode", "Lv01", lambda r: r["berichtcode"] == "Lv01"),
    ("zender", "KCC", lambda r: r["zender_applicatie"] == "KCC"),
    ("zaak", "1234Z00007", lambda r: r["zaak_identificatie"] == "1234Z00007"),
    ("referentienummer", "R000042", lambda r: r["referentienummer"] == "R000042"),
    ("outcome", "fault", lambda r: r["outcome"] == "fault"),
    ("since", "2026-11-01T12:01:00Z", lambda r: r["received_at"] >= T0 + timedelta(minutes=1)),
    ("until", "2026-11-01T13:00:30+01:00", lambda r: r["received_at"] < T0 + timedelta(seconds=30)),
])
def test_each_filter_selects_exactly_its_messages(db: Database, field: str, value: str, keep) -> None:
    rows = fill(db)
    forward, backward = walk(db, MessageFilters(**{field: value}), limit=7)
    assert forward == newest_first([r for r in rows if keep(r)]) and forward
    assert backward == forward


def test_filters_combine(db: Database) -> None:
    rows = fill(db)
    forward, _ = walk(db, MessageFilters(zender="GIS", state="done", operation="creeerZaak"), limit=5)
    assert forward == newest_first([r for r in rows if r["zender_applicatie"] == "GIS" and r["state"] == "done"
                                    and r["operation"] == "creeerZaak"])


def test_a_bad_cursor_means_the_first_page(db: Database) -> None:
    rows = fill(db, 10)
    with db.read() as s:
        page = messagelist.page(s, MessageFilters(), after="not-a-cursor", limit=3)
    assert [r["id"] for r in page.rows] == newest_first(rows)[:3] and page.prev_cursor is None


def test_the_list_never_reads_payloads(db: Database) -> None:
    fill(db, 30)
    seen: list[str] = []

    def spy(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        with db.read() as s:
            page = messagelist.page(s, MessageFilters(state="done"), limit=10)
            messagelist.page(s, MessageFilters(), after=page.next_cursor, limit=10)
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert seen and not any("message_payloads" in q for q in seen)
    assert not any("count(" in q.lower() for q in seen)


@pytest.mark.parametrize("filters", [MessageFilters(), MessageFilters(state="dead"), MessageFilters(operation="creeerZaak"),
                                     MessageFilters(zender="KCC"), MessageFilters(since="2026-11-01")],
                         ids=["none", "state", "operation", "zender", "since"])
def test_on_sqlite_a_page_walks_an_index_in_order_without_sorting(tmp_path: Path, filters: MessageFilters) -> None:
    database = Database(f"sqlite:///{tmp_path / 'plan.db'}")
    migrate.upgrade(database)
    fill(database, 50)
    cursor = messagelist.encode_cursor(T0 + timedelta(seconds=30), 10**9)
    stmt = messagelist.query(filters, after=cursor, limit=50)
    with database.engine.connect() as conn:
        compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
        plan = " | ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    database.dispose()
    assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan
