"""Time filters as operators type them: ISO and Dutch notation, local time, offsets; never ignored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broker.web.dashboard.messagelist import FilterError, MessageFilters, parse_time


@pytest.mark.parametrize(("typed", "utc"), [
    ("2026-12-06", datetime(2026, 12, 5, 23, 0, tzinfo=UTC)),  # local midnight (CET, UTC+1)
    ("06-12-2026", datetime(2026, 12, 5, 23, 0, tzinfo=UTC)),
    ("6-12-2026 05:32", datetime(2026, 12, 6, 4, 32, tzinfo=UTC)),
    ("06/12/2026 05:32:10", datetime(2026, 12, 6, 4, 32, 10, tzinfo=UTC)),
    ("06.12.2026", datetime(2026, 12, 5, 23, 0, tzinfo=UTC)),
    ("2026-12-06T05:32", datetime(2026, 12, 6, 4, 32, tzinfo=UTC)),
    ("2026-12-06 05:32", datetime(2026, 12, 6, 4, 32, tzinfo=UTC)),
    ("2026-12-06T05:32:00Z", datetime(2026, 12, 6, 5, 32, tzinfo=UTC)),
    ("2026-12-06T05:32+03:00", datetime(2026, 12, 6, 2, 32, tzinfo=UTC)),
    ("2026-12-06T05:32 03:00", datetime(2026, 12, 6, 2, 32, tzinfo=UTC)),  # "+" lost in a typed URL
    ("2026-07-01 12:00", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),  # summer time (CEST, UTC+2)
])
def test_readable_times(typed: str, utc: datetime) -> None:
    assert parse_time(typed) == utc


def test_a_bare_date_as_the_end_includes_that_whole_day() -> None:
    assert parse_time("06-12-2026", end=True) == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    assert parse_time("06-12-2026 05:32", end=True) == datetime(2026, 12, 6, 4, 32, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["gisteren", "2026-13-45", "31-02-2026", "06-12-2026 24:30", "6 december",
                                   "2026-12-06T05:32+25:00", "--"])
def test_unreadable_times_are_errors(typed: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_time(typed)
    assert typed in caught.value.message and "06-12-2026" in caught.value.message


def test_a_filter_with_an_error_cannot_be_applied() -> None:
    filters = MessageFilters(since="06-12-2026 05:32", until="gisteren", state="kapot")
    assert set(filters.errors()) == {"until", "state"}
    with pytest.raises(FilterError):
        filters.apply(None)


def test_an_empty_range_is_an_error_not_an_empty_list() -> None:
    assert "until" in MessageFilters(since="07-12-2026", until="06-12-2026").errors()
    assert MessageFilters(since="06-12-2026", until="06-12-2026").errors() == {}
