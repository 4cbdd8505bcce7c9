"""A delivery worker: APScheduler runs the periodic work of the queue in the background.

Jobs: ``deliver`` (claim due deliveries and run them until none are due; several instances run at
once up to ``concurrency``), ``leases`` (renew this worker's leases, release expired ones of others),
``circuits`` (let open circuits probe again) and ``retention`` (purge old payloads). The SQLite WAL is
checkpointed by a thread of each writing process (broker.store.db._Checkpointer).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import update

from broker.queue import tables as t
from broker.queue.engine import Queue, utcnow, worker_id
from broker.queue.tables import Delivery

log = structlog.get_logger("broker.worker")


#: the longest pause after a claim while the intake is busy (a claim that took long in CPU)
MAX_PAUSE_SECONDS = 2.0
#: the most deliveries a worker in `serve` claims at once: the process also answers requests, whose
#: memory its claims share (a claim's stored messages are parsed and held until its group commit: 50
#: added 11 MB to a `serve` process's peak) and whose writes wait while a claim's group commits
SERVE_CLAIM_LIMIT = 25


class Worker:
    """``intake``: in a ``serve`` process, the count of requests its intake began. While it moves,
    each deliver job pauses after a claim for as long as the claim took of its thread's CPU, times
    (1 - share) / share, where share is delivery.worker_in_serve_share split over the jobs, so that
    the intake, which a caller waits for, comes first; when no request came in meanwhile, the job goes
    on at once."""

    def __init__(self, queue: Queue, *, concurrency: int | None = None, name: str | None = None,
                 intake: Callable[[], int] | None = None) -> None:
        self.queue = queue
        self.policy = queue.policy
        self.intake = intake
        self.concurrency = concurrency or self.policy.concurrency
        self.name = name or worker_id()
        self._stopping = threading.Event()
        #: a wake-up is on its way to the deliver job: more wake-ups until it claims are not needed
        self._woken = threading.Event()
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(self.concurrency + 4)},
            job_defaults={"coalesce": True, "misfire_grace_time": 30},
            timezone=UTC,
        )
        self.delivered = 0
        #: deliveries per claim: the policy's batch_size split over the threads (at most
        #: SERVE_CLAIM_LIMIT for a worker in `serve`)
        self.claim_limit = max(1, self.policy.batch_size // self.concurrency)
        if intake is not None:
            self.claim_limit = min(self.claim_limit, SERVE_CLAIM_LIMIT)

    def start(self) -> Worker:
        p = self.policy
        self.scheduler.add_job(self._deliver, "interval", seconds=p.poll_seconds, id="deliver",
                               max_instances=self.concurrency, next_run_time=datetime.now(UTC))
        # leases of a process that died are released at once on start-up too, not only after an interval:
        # a broker that restarts often would otherwise keep later deliveries of the same zaak waiting
        self.scheduler.add_job(self._leases, "interval", seconds=max(1.0, p.lease_seconds / 3), id="leases",
                               next_run_time=datetime.now(UTC))
        self.scheduler.add_job(self.queue.probe_circuits, "interval", seconds=max(0.5, p.circuit_open_seconds / 4),
                               id="circuits")
        self.scheduler.add_job(self.queue.purge_payloads, "interval", hours=1, id="retention")
        self.scheduler.start()
        log.info("worker started", worker=self.name, concurrency=self.concurrency)
        return self

    def wake(self) -> None:
        """Run the deliver job now (after the intake queued something), instead of at the next poll."""
        if self._stopping.is_set() or not self.scheduler.running or self._woken.is_set():
            return  # (one request of many: the job it woke claims everything committed before it runs)
        self._woken.set()
        try:
            self.scheduler.modify_job("deliver", next_run_time=datetime.now(UTC))
        except Exception:  # a missed wake-up only costs one poll interval
            pass

    def stop(self, wait: bool = True) -> None:
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        log.info("worker stopped", worker=self.name, delivered=self.delivered)

    # -- jobs ----------------------------------------------------------------------------------
    def _deliver(self) -> None:
        while not self._stopping.is_set():
            self._woken.clear()  # a wake-up from here on runs the job again
            seen, cpu = (self.intake(), time.thread_time()) if self.intake is not None else (0, 0.0)
            ids = self.queue.claim(self.name, limit=self.claim_limit)
            if not ids:
                return
            # once stopping, the rest of the claim is left: leases run out, another worker (or this one,
            # restarted) picks them up
            for outcome in self.queue.run_many(ids, self.name, self._stopping.is_set):
                if outcome.result == "delivered":
                    self.delivered += 1
            if self.intake is not None and self.intake() != seen:
                self._stopping.wait(self.pause(time.thread_time() - cpu))

    def pause(self, cpu_seconds: float) -> float:
        """How long a deliver job waits after a claim that took ``cpu_seconds`` of its thread while the
        intake was busy."""
        share = self.queue.policy.worker_in_serve_share / self.concurrency  # the process's share, split
        return min(MAX_PAUSE_SECONDS, cpu_seconds * (1 - share) / share)

    def _leases(self) -> None:
        from datetime import timedelta

        with self.queue.db.write() as s:
            s.execute(update(Delivery).where(Delivery.lease_owner == self.name, Delivery.state == t.IN_PROGRESS)
                      .values(lease_expires_at=utcnow() + timedelta(seconds=self.policy.lease_seconds)))
        self.queue.release_expired()
