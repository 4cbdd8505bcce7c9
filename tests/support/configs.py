"""Writing a configuration directory for a test broker (broker.yaml, catalogus, routes.yaml)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


#: what every test broker runs with: answers validated, an invalid one replaced by StUF058
STRICT_ANSWERS = {"validate_answers": True, "invalid_answers": "fault"}


def write_config(tmp: Path, *, routes: dict[str, Any] | None = None, broker: dict[str, Any] | None = None,
                 name: str = "config") -> Path:
    d = tmp / name
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "zaaktypecatalogus.yaml", d / "zaaktypecatalogus.yaml")
    base = yaml.safe_load((REPO / "config" / "broker.yaml").read_text())
    # the suite is strict about the broker's own answers, in a served process too (tests/support/live.py)
    base["checks"] = {**(base.get("checks") or {}), **STRICT_ANSWERS}
    base.update(broker or {})
    (d / "broker.yaml").write_text(yaml.safe_dump(base))
    if routes is not None:
        (d / "routes.yaml").write_text(yaml.safe_dump(routes, sort_keys=False))
    return d


def fast_delivery(**overrides: Any) -> dict[str, Any]:
    """A delivery policy that retries quickly, for tests."""
    policy = {"backoff_initial_seconds": 0.05, "backoff_max_seconds": 0.3, "poll_seconds": 0.05,
              "lease_seconds": 5, "circuit_failure_threshold": 1000, "circuit_open_seconds": 0.5,
              "max_attempts": 50, "concurrency": 2}
    policy.update(overrides)
    return policy
