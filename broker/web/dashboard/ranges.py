"""Time ranges of the charts: fixed ones (15 min to 7 days) and a custom from/until.

A range is cut into about 30-60 buckets of a round size (a minute, five minutes, an hour, ...), in
Dutch local time for the labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from broker.web.dashboard.messagelist import LOCAL, FilterError, parse_time

#: name -> (length, bucket)
FIXED = {
    "15m": (timedelta(minutes=15), timedelta(seconds=30)),
    "1h": (timedelta(hours=1), timedelta(minutes=1)),
    "6h": (timedelta(hours=6), timedelta(minutes=10)),
    "24h": (timedelta(hours=24), timedelta(minutes=30)),
    "7d": (timedelta(days=7), timedelta(hours=4)),
}
STEPS = [timedelta(seconds=s) for s in (10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)]
#: the longest custom range
LONGEST = timedelta(days=92)


@dataclass
class Range:
    name: str  # a key of FIXED or "custom"
    start: datetime  # UTC, on a bucket boundary
    end: datetime
    step: timedelta
    since: str = ""  # the custom bounds as typed
    until: str = ""

    @property
    def buckets(self) -> int:
        return max(1, int((self.end - self.start) / self.step))

    @property
    def label_format(self) -> str:
        if self.step >= timedelta(days=1):
            return "%d-%m"
        if self.end - self.start > timedelta(days=1):
            return "%d-%m %H:%M"
        return "%H:%M:%S" if self.step < timedelta(minutes=1) else "%H:%M"

    def labels(self) -> list[str]:
        return [(self.start + self.step * i).astimezone(LOCAL).strftime(self.label_format)
                for i in range(self.buckets)]

    def params(self) -> dict[str, str]:
        if self.name == "custom":
            return {"range": "custom", "from": self.since, "until": self.until}
        return {"range": self.name}


def _floor(moment: datetime, step: timedelta) -> datetime:
    seconds = step.total_seconds()
    epoch = moment.timestamp()
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def choose(params: Mapping[str, str], default: str = "1h", now: datetime | None = None) -> tuple[Range, dict[str, str]]:
    """The range a page asks for (``range``, and ``from``/``until`` for a custom one) and the errors of
    its fields; an unreadable custom bound is an error, never silently replaced."""
    now = now or datetime.now(UTC)
    name = params.get("range", "") or default
    errors: dict[str, str] = {}
    if name == "custom":
        since, until = params.get("from", "").strip()[:40], params.get("until", "").strip()[:40]
        start = end = None
        try:
            start = parse_time(since)
        except FilterError as exc:
            errors["from"] = exc.message
        try:
            end = parse_time(until, end=True) if until else now
        except FilterError as exc:
            errors["until"] = exc.message
        if start is None and "from" not in errors:
            errors["from"] = "a custom range needs a start"
        if not errors and start is not None and end is not None:
            if start >= end:
                errors["until"] = "lies before (or at) From"
            elif end - start > LONGEST:
                errors["until"] = f"a range is at most {LONGEST.days} days"
            else:
                step = next((s for s in STEPS if (end - start) / s <= 60), STEPS[-1])
                first = _floor(start, step)
                return Range("custom", first, end, step, since, until), {}
        length, step = FIXED[default]
        return Range(default, _floor(now - length, step) + step, now, step, since, until), errors
    if name not in FIXED:
        errors["range"] = f"unknown range {name!r}; one of {', '.join(FIXED)} or custom"
        name = default
    length, step = FIXED[name]
    start = _floor(now - length, step) + step
    return Range(name, start, now, step), errors
