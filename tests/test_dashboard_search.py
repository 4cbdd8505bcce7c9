"""The parts of the console's finding and charts that need no browser: the keyed-hash BSN index (on
SQLite and PostgreSQL; incremental, no clear-text BSN stored, a message committed late is not
skipped), substring search, chart axes in 1-2-5 steps and time ranges that refuse what they cannot read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from broker.store.db import Database
from broker.store.tables import Message, MessagePayload
from broker.web.dashboard import bsnindex, charts, messagelist, ranges
from broker.web.dashboard.messagelist import MessageFilters
from broker.web.dashboard.tables import MessageBsn, SearchWatermark

KEY = b"a key of the tests"


def add(db: Database, request: bytes, *, zaak: str = "1234ZAAK", ref: str = "R1", age: timedelta = timedelta(0),
        ident: int | None = None) -> int:
    # the time of the call, not of the import: the suite may reach this test minutes after collecting it
    values = {"received_at": datetime.now(UTC) - age, "port": "OntvangAsynchroon", "operation": "creeerZaak",
              "zaak_identificatie": zaak, "referentienummer": ref, "state": "done", "outcome": "ok",
              "http_status": 200, "attempts": 1, "replays": 0}
    if ident is not None:
        values["id"] = ident
    with db.write() as s:
        message_id = s.execute(insert(Message.__table__).returning(Message.__table__.c.id), values).scalar_one()
        s.execute(insert(MessagePayload.__table__), {"message_id": message_id, "request": request,
                                                     "request_content_type": "text/xml"})
    return message_id


def found(db: Database, bsn: str) -> list[int]:
    filters = MessageFilters(bsnhash=bsnindex.digest(KEY, bsn))
    with db.read() as s:
        return sorted(r["id"] for r in messagelist.page(s, filters).rows)


def test_the_bsn_index_finds_messages_by_bsn_and_keeps_no_bsn(db: Database) -> None:
    a = add(db, b"<inp.bsn>111222333</inp.bsn><omschrijving>ook 123456782</omschrijving>", age=timedelta(hours=1))
    b = add(db, b"<inp.bsn>123456782</inp.bsn>", age=timedelta(hours=1))
    c = add(db, b"<nummer>123456789</nummer>", age=timedelta(hours=1))  # fails the 11-proef: not a BSN
    assert bsnindex.catch_up(db, KEY)
    assert found(db, "123456782") == [a, b]
    assert found(db, "111222333") == [a]
    assert found(db, "123456789") == []
    with db.read() as s:
        rows = s.execute(select(MessageBsn.digest, MessageBsn.message_id)).all()
        mark = s.get(SearchWatermark, bsnindex.WATERMARK)
    assert not any("111222333" in d or "123456782" in d for d, _ in rows)
    assert (bsnindex.NONE_FOUND, c) in rows  # read once, nothing found: not read again
    assert mark is not None and mark.last_id == c

    late = add(db, b"<inp.bsn>111222333</inp.bsn>")  # recent: indexed, but the watermark stays below it
    assert bsnindex.catch_up(db, KEY)
    assert found(db, "111222333") == [a, late]
    with db.read() as s:
        assert s.get(SearchWatermark, bsnindex.WATERMARK).last_id == c
        assert s.execute(select(MessageBsn).where(MessageBsn.message_id == late)).scalars().all()


def test_a_bsn_as_typed_is_read_or_refused() -> None:
    assert bsnindex.normalise(" 1234.56.782 ") == "123456782"
    assert bsnindex.normalise("12345678") is None or bsnindex.normalise("12345678") == "012345678"
    assert bsnindex.normalise("123456789") is None  # the 11-proef
    assert bsnindex.normalise("gisteren") is None


def test_zaak_and_referentienummer_match_in_part_and_in_any_case(db: Database) -> None:
    one = add(db, b"", zaak="0363ZAAK-Alfa", ref="FORMS-2026-0001")
    add(db, b"", zaak="0363ZAAK-Beta", ref="FORMS-2026-0002")
    add(db, b"", zaak="0363_ZAAK%", ref="KCC-1")
    with db.read() as s:
        def ids(**kw: str) -> list[int]:
            return [r["id"] for r in messlist_page(s, MessageFilters(**kw))]

        assert ids(zaak="zaak-alfa") == [one]
        assert len(ids(zaak="0363")) == 3
        assert ids(referentienummer="2026-0001") == [one]
        assert len(ids(zaak="_zaak%")) == 1  # LIKE's wildcards are plain characters here


def messlist_page(s, filters: MessageFilters) -> list[dict]:
    return messagelist.page(s, filters).rows


@pytest.mark.parametrize(("data", "top", "step"), [
    (0, 4, 1), (3, 3, 1), (7, 8, 2), (23, 30, 10), (99, 100, 50), (101, 150, 50), (250, 300, 100),
    (1234, 1500, 500), (0.37, 0.4, 0.1),
])
def test_chart_axes_end_at_a_round_value_near_the_data(data: float, top: float, step: float) -> None:
    assert charts.nice_axis(data) == pytest.approx((top, step))


def test_a_chart_of_three_messages_has_an_axis_to_four_not_ten() -> None:
    svg = charts.bars("test", ["a", "b", "c"], [1, 3, 2])
    assert '>4</text>' in svg and '>10</text>' not in svg


def test_time_ranges_fixed_and_custom_and_their_errors() -> None:
    now = datetime(2026, 12, 6, 10, 17, 23, tzinfo=UTC)
    for name, (length, step) in ranges.FIXED.items():
        rng, errors = ranges.choose({"range": name}, now=now)
        assert not errors and rng.step == step and 25 <= rng.buckets <= 60
        assert now - length <= rng.start <= now - length + step
    rng, errors = ranges.choose({"range": "custom", "from": "01-12-2026", "until": "06-12-2026"}, now=now)
    assert not errors and rng.name == "custom" and rng.buckets <= 60
    midnight = datetime(2026, 11, 30, 23, tzinfo=UTC)  # 1 December 00:00 in Amsterdam
    assert rng.start <= midnight < rng.start + rng.step
    _rng, errors = ranges.choose({"range": "custom", "from": "gisteren"}, now=now)
    assert "cannot read 'gisteren'" in errors["from"]
    _rng, errors = ranges.choose({"range": "custom", "from": "06-12-2026", "until": "01-12-2026"}, now=now)
    assert "before" in errors["until"]
    _rng, errors = ranges.choose({"range": "3w"}, now=now)
    assert "unknown range" in errors["range"]
