"""What a delivery to the embedded zaaksysteem costs when the queue drains (issue 9: the drain at least
as fast as the intake), in one process, without HTTP.

    python bench/profile_drain.py [--repo PATH] [--count 1500] [--database-url URL] [--statements] [--spy FILE]
                                  [--cprofile FILE]

Builds a broker as ``serve`` would (SQLite in a temporary folder unless ``--database-url`` names
another database, e.g. a schema of the machine's PostgreSQL; JSON log lines to a file), queues
``--count`` + 200 different 11.5 KB creeerZaken through ``Pipeline.handle`` (8 threads), delivers the
first 200 as a warm-up, then drains the rest as a worker does (``Queue.claim`` of 50, then
``Queue.run_many``) and prints deliveries per second, wall and process CPU per delivery, and the time
of the claims and of the runs apart. ``--statements`` adds the SQL statements that took the most time
(as sent to the driver); ``--spy FILE`` writes py-spy's samples of the drain alone (the thread holding
the interpreter, after the warm-up) for a breakdown by function, ``--cprofile FILE`` cProfile's
statistics (call counts; the time of freeing a call's objects goes to its caller). The garbage
collector's time per delivery is printed too. ``--repo`` measures another checkout
(a ``git worktree`` of an earlier commit, its ``xsd/installed`` linked to this one's) with the same
script.
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLAIM = 50  # as a worker of the default delivery policy claims (batch_size 100, concurrency 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=HERE.parent)
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--statements", action="store_true")
    ap.add_argument("--spy", type=Path, default=None,
                    help="py-spy's raw samples of the drain (after the warm-up; only the thread holding the "
                         "interpreter) written to this file")
    ap.add_argument("--cprofile", type=Path, default=None,
                    help="cProfile's statistics of the drain (after the warm-up) written to this file")
    args = ap.parse_args()
    sys.path.insert(0, str(args.repo))
    sys.path.insert(1, str(HERE))
    import inprocess  # bench/inprocess.py
    import messages as msgs  # bench/messages.py
    from sqlalchemy import event

    broker, _ = inprocess.build(args.repo, "queued", "profile-drain-", args.database_url)
    template = msgs.creeer_zaak()
    action = '"' + msgs.CREEER_ACTION + '"'

    def send(body: bytes) -> None:
        answer = broker.pipeline.handle("OntvangAsynchroon", body, "text/xml; charset=utf-8", action)
        assert answer.status == 200, answer.body[:500]

    tag = f"D{os.getpid() % 1000:03d}"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, [msgs.fill(template, f"{tag}{i:07d}", f"{tag}{i:07d}")
                             for i in range(args.count + 200)]))

    queue = broker.queue
    spent = {"claim": 0.0, "run": 0.0}

    def drain(limit: int | None = None) -> int:
        done = 0
        while limit is None or done < limit:
            t = time.perf_counter()
            ids = queue.claim("profile", limit=CLAIM)
            spent["claim"] += time.perf_counter() - t
            if not ids:
                break
            t = time.perf_counter()
            outcomes = queue.run_many(ids, "profile")
            spent["run"] += time.perf_counter() - t
            for outcome in outcomes:
                assert outcome.result == "delivered", outcome
            done += len(outcomes)
        return done

    drain(200)  # warm-up
    gc.collect()  # as `stuf-broker worker` does once its broker is built
    gc.freeze()
    spent = {"claim": 0.0, "run": 0.0}
    statements: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    if args.statements:
        @event.listens_for(broker.db.engine, "before_cursor_execute")
        def _start(conn, cursor, statement, parameters, context, executemany):
            conn.info["profile_drain_t0"] = time.perf_counter()

        @event.listens_for(broker.db.engine, "after_cursor_execute")
        def _end(conn, cursor, statement, parameters, context, executemany):
            entry = statements[" ".join(statement.split())[:100]]
            entry[0] += 1
            entry[1] += time.perf_counter() - conn.info["profile_drain_t0"]

    spy = None
    if args.spy:
        spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--gil", "-r", "1000",
                                "-f", "raw", "-o", str(args.spy), "--pid", str(os.getpid())],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # py-spy attached
    gcs = {"t": 0.0, "n": [0, 0, 0], "t0": 0.0}

    def _gc(phase, info):
        if phase == "start":
            gcs["t0"] = time.perf_counter()
        else:
            gcs["t"] += time.perf_counter() - gcs["t0"]
            gcs["n"][info["generation"]] += 1
    gc.callbacks.append(_gc)
    prof = None
    if args.cprofile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    n = drain()
    if prof is not None:
        prof.disable()
        prof.dump_stats(args.cprofile)
    print(f"GC: {gcs['t'] / n * 1e6:.0f} µs per delivery, collections {gcs['n']}")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
    package = Path(sys.modules["broker"].__file__ or "").parent
    print(f"{package}: {n} deliveries, {n / wall:,.0f}/s, {wall / n * 1e6:,.0f} µs wall and {cpu / n * 1e6:,.0f} µs "
          f"CPU per delivery; claims {spent['claim'] / n * 1e6:,.0f} µs and runs {spent['run'] / n * 1e6:,.0f} µs "
          "(wall) per delivery")
    for text, (count, seconds) in sorted(statements.items(), key=lambda kv: -kv[1][1])[:10]:
        print(f"  {seconds * 1e3:9.1f} ms {int(count):6d}×  {text}")
    broker.close()


if __name__ == "__main__":
    main()
