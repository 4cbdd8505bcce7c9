"""Failure injection: make the next matching requests fail on purpose."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class PlannedFailure:
    remaining: int
    status: int
    path_contains: str | None
    method: str | None

    def matches(self, method: str, target: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return self.path_contains is None or self.path_contains in target


class FailurePlan:
    """Planned failures, consumed first-come first-served (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[PlannedFailure] = []
        #: requests that are carried out but whose answer is held back (status = seconds to hold)
        self._lost: list[PlannedFailure] = []
        self.down_mode: str | None = None  # None, "503" or "refuse"

    def add(self, count: int, status: int, path_contains: str | None, method: str | None) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._planned.append(PlannedFailure(count, status, path_contains, method))

    def take(self, method: str, target: str) -> int | None:
        """The status to fail this request with, or None."""
        with self._lock:
            for planned in self._planned:
                if planned.matches(method, target):
                    planned.remaining -= 1
                    if planned.remaining == 0:
                        self._planned.remove(planned)
                    return planned.status
        return None

    def add_lost(self, count: int, hold_seconds: float, path_contains: str | None, method: str | None) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._lost.append(PlannedFailure(count, hold_seconds, path_contains, method))  # type: ignore[arg-type]

    def take_lost(self, method: str, target: str) -> float | None:
        """Seconds to hold this request's answer back (it is carried out first), or None."""
        with self._lock:
            for planned in self._lost:
                if planned.matches(method, target):
                    planned.remaining -= 1
                    if planned.remaining == 0:
                        self._lost.remove(planned)
                    return float(planned.status)
        return None

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(p.remaining for p in self._planned + self._lost)

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()
            self._lost.clear()
