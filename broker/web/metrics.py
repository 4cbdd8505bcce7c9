"""``/metrics`` in the Prometheus text format.

Two kinds of numbers:

- observed where each SOAP request finishes (a listener on the intake pipeline): requests by
  operation and outcome (``stuf_broker_requests_total``) and their latency
  (``stuf_broker_request_duration_seconds``, a histogram per operation);
- observed where each delivery attempt finishes (a listener on the queue): attempts by target and
  outcome (``stuf_broker_delivery_attempts_total``: delivered, retry, dead) and their duration
  (``stuf_broker_delivery_duration_seconds``, a histogram per target);
- read from the database at scrape time with cheap grouped queries, so every process reports the
  same truth: deliveries by target and state, queue depth per target, the age of the oldest waiting
  delivery per target (``stuf_broker_queue_oldest_age_seconds``), circuit state and failures.

docs/ops/ holds a Grafana dashboard and Prometheus alert rules built on exactly these names
(tests/test_observability.py checks both against a running broker).

``stuf-broker serve --workers N`` runs N processes. They share their observations through
prometheus_client's multiprocess mode: ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
``<data dir>/prometheus/<host>-<pid>`` before any process imports prometheus_client,
each process writes its own files there, and a scrape of any process sums them all. Counters are
cumulative since the last start of ``serve``; Prometheus handles the reset. A broker inside another
program (the tests) keeps its numbers in its own registry. For that reason prometheus_client is
imported only inside the functions here.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from broker.bg.operations import OPERATIONS as BG_OPERATIONS
from broker.queue import tables as qt
from broker.queue.tables import Circuit, Delivery
from broker.zds.operations import OPERATIONS

if TYPE_CHECKING:  # prometheus_client is imported only once the multiprocess folder is set (see above)
    from prometheus_client.metrics_core import Metric

    from broker.runtime import Broker

log = structlog.get_logger("broker.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CIRCUIT_STATES = ("closed", "open", "half_open")


def prepare_multiprocess_dir(data_dir: Path) -> Path:
    """A fresh ``<data dir>/prometheus/<host>-<pid>`` for this ``serve``, exported; call before
    prometheus_client is imported. Each ``serve`` has its own folder, so two of them may share a data
    directory; the folders of ``serve`` commands on this host that are no longer running are removed."""
    root = data_dir / "prometheus"
    root.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname()
    for old in root.iterdir():
        name, _, pid = old.name.rpartition("-")
        if old.is_file() and old.suffix == ".db":  # the layout of earlier versions: one shared folder
            old.unlink(missing_ok=True)
        elif name == host and pid.isdigit() and not running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    path = root / f"{host}-{os.getpid()}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir()
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def running(pid: int) -> bool:
    """Whether a process of this pid exists (also someone else's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class DatabaseCollector:
    """Gauges read from the database at scrape time (the same in every process)."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily
        from sqlalchemy import func, select


        up = GaugeMetricFamily("stuf_broker_database_up", "1 when the last scrape could read the database")
        try:
            with self.broker.db.read() as s:
                counts = list(s.execute(select(Delivery.target, Delivery.state, func.count())
                                        .group_by(Delivery.target, Delivery.state)))
                circuits = list(s.execute(select(Circuit.target, Circuit.state, Circuit.failures)))
                oldest = dict(s.execute(select(Delivery.target, func.min(Delivery.created_at))
                                        .where(Delivery.state.in_(qt.OPEN_STATES)).group_by(Delivery.target)).all())
        except Exception:  # a scrape reports the database as down instead of failing
            log.warning("metrics: database not readable")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        deliveries = GaugeMetricFamily("stuf_broker_deliveries", "Deliveries by target and state",
                                       labels=["target", "state"])
        depth = GaugeMetricFamily("stuf_broker_queue_depth",
                                  "Deliveries waiting for a target (pending, in progress or retrying)",
                                  labels=["target"])
        waiting: dict[str, int] = {}
        targets = set(self.broker.targets)
        seen: set[tuple[str, str]] = set()
        for target, state, n in counts:
            deliveries.add_metric([target, state], n)
            seen.add((target, state))
            targets.add(target)
            if state in qt.OPEN_STATES:
                waiting[target] = waiting.get(target, 0) + n
        for target in sorted(targets):
            for state in qt.STATES:
                if (target, state) not in seen:
                    deliveries.add_metric([target, state], 0)
            depth.add_metric([target], waiting.get(target, 0))
        yield deliveries
        yield depth
        age = GaugeMetricFamily("stuf_broker_queue_oldest_age_seconds",
                                "Age of the oldest delivery waiting for a target (pending, in progress or "
                                "retrying); 0 when none waits", labels=["target"])
        now = datetime.now(UTC)
        for target in sorted(targets):
            created = oldest.get(target)
            if created is not None and created.tzinfo is None:  # SQLite hands back naive UTC datetimes
                created = created.replace(tzinfo=UTC)
            age.add_metric([target], max(0.0, (now - created).total_seconds()) if created is not None else 0.0)
        yield age
        circuit_state = GaugeMetricFamily("stuf_broker_circuit_state", "1 for the circuit breaker's current state",
                                          labels=["target", "state"])
        failures = GaugeMetricFamily("stuf_broker_circuit_failures", "Consecutive failures counted by the circuit",
                                     labels=["target"])
        for target, current, n in circuits:
            for s_name in CIRCUIT_STATES:
                circuit_state.add_metric([target, s_name], 1 if current == s_name else 0)
            failures.add_metric([target], n or 0)
        yield circuit_state
        yield failures


def preload() -> None:
    """Import prometheus_client where ``serve`` forks its workers from, once the multiprocess folder is
    set (each worker would otherwise import it itself, about 20 ms); without that folder, nothing."""
    if os.environ.get(MULTIPROC_ENV):
        import prometheus_client.exposition
        import prometheus_client.multiprocess  # noqa: F401  (what a worker's Metrics and /metrics use)


class Metrics:
    def __init__(self, broker: Broker) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry()
        own = None if self.multiprocess else self.registry  # multiprocess values live in files
        self.requests = Counter("stuf_broker_requests", "SOAP requests answered, by operation and outcome",
                                ["operation", "outcome"], registry=own)
        self.latency = Histogram("stuf_broker_request_duration_seconds",
                                 "Time from receiving a SOAP request to its answer, by operation",
                                 ["operation"], buckets=BUCKETS, registry=own)
        self.invalid_answers = Counter("stuf_broker_invalid_answers",
                                       "Answers of the broker that did not conform to the schema, by operation",
                                       ["operation"], registry=own)
        for operation in (*OPERATIONS, *BG_OPERATIONS):  # at 0 from the start: a rule on it sees the series before the first one
            self.invalid_answers.labels(operation.name)
        self.delivery_attempts = Counter("stuf_broker_delivery_attempts",
                                         "Delivery attempts that ended, by target and outcome (delivered, retry, dead)",
                                         ["target", "outcome"], registry=own)
        self.delivery_latency = Histogram("stuf_broker_delivery_duration_seconds",
                                          "Time a delivery attempt took, by target", ["target"], buckets=BUCKETS,
                                          registry=own)
        self.tolerated = Counter("stuf_broker_tolerated", "Messages accepted under a tolerance for a known "
                                 "client (applications.yaml), by tolerance", ["tolerance"], registry=own)
        self.database = DatabaseCollector(broker)
        if not self.multiprocess:
            self.registry.register(self.database)

    def observe(self, operation: str | None, outcome: str, seconds: float) -> None:
        op = operation or "unknown"
        self.requests.labels(op, outcome).inc()
        self.latency.labels(op).observe(seconds)

    def observe_delivery(self, target: str, outcome: str, seconds: float) -> None:
        self.delivery_attempts.labels(target, outcome).inc()
        self.delivery_latency.labels(target).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if not self.multiprocess:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(self.database)
        return generate_latest(registry), CONTENT_TYPE_LATEST


def install(broker: Broker) -> Metrics:
    """Metrics for this broker, fed by the listeners of the intake pipeline and the queue."""
    metrics = Metrics(broker)
    broker.pipeline.listeners.append(metrics.observe)
    broker.pipeline.invalid_answer_listeners.append(
        lambda operation: metrics.invalid_answers.labels(operation or "unknown").inc())
    broker.pipeline.tolerance_listeners.append(lambda name: metrics.tolerated.labels(name).inc())
    broker.queue.listeners.append(metrics.observe_delivery)
    return metrics
