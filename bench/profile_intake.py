"""Where a queued creeerZaak's time goes inside the broker (no HTTP): the cost breakdown of issue 9.

    python bench/profile_intake.py [--repo PATH] [--mode queued|sync] [--count 1500] [--threads 1]
                                   [--top N [--callers NAME]]

Builds a broker as ``serve`` would (SQLite in a temporary folder, JSON log lines to a file, the
embedded zaaksysteem as the target), sends ``--count`` different 11.5 KB creeerZaken through
``Pipeline.handle`` from ``--threads`` threads, and prints:

- the rate and the process CPU time per message without a profiler;
- with cProfile (also on the group commits' threads): the inclusive time per message of each step, from
  the functions that make it up; ``--top`` the functions with the most own time, ``--callers`` who
  calls those matching a name. With other threads running (the group commit's), a function's time
  includes any wait for the interpreter that began inside it: compare with the count of calls.

``--repo`` profiles another checkout of the broker (an exported earlier commit) with the same script,
so that before and after are measured alike.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: step: (path suffix, function name) pairs whose inclusive times add up to it
STEPS: list[tuple[str, list[tuple[str, str]]]] = [
    ("SOAP envelope + safe parse", [("broker/stuf/soap.py", "parse_request")]),
    ("request hash (c14n + sha256)", [("broker/intake/messagelog.py", "body_hash"),
                                      ("broker/intake/messagelog.py", "content_hash")]),
    ("stuurgegevens, dispatch, checks", [("broker/stuf/stuurgegevens.py", "read"),
                                          ("broker/zds/dispatch.py", "resolve"),
                                          ("broker/intake/checks.py", "check"),
                                          ("broker/intake/checks.py", "check_port")]),
    ("XSD validation + date checks", [("broker/stuf/schemas.py", "assert_valid")]),
    ("request model, keys, routing", [("broker/zds/request.py", "__init__"),
                                      ("broker/zds/keys.py", "zaak_identificatie"),
                                      ("broker/zds/keys.py", "zaaktype_code"),
                                      ("broker/zds/keys.py", "object_identificatie"),
                                      ("broker/routing/router.py", "plan")]),
    ("Bv03 and its envelope", [("broker/stuf/berichten.py", "bv03"),
                               ("broker/intake/answers.py", "envelope_bytes")]),
    ("database: statements", [("broker/intake/messagelog.py", "store_answered"),
                              ("broker/queue/engine.py", "add")]),
    ("database: begin, commit (fsync), lock", [("sqlalchemy/engine/base.py", "commit"),
                                               ("sqlalchemy/engine/base.py", "begin"),
                                               ("broker/store/db.py", "_write_lock")]),
    ("log line", [("structlog/_base.py", "_proxy_to_logger")]),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=HERE.parent)
    ap.add_argument("--mode", default="queued", choices=["queued", "sync"])
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--top", type=int, default=0, help="also print the N functions with the most own time")
    ap.add_argument("--callers", default=None, help="with --top: also print who calls the functions matching this")
    args = ap.parse_args()
    sys.path.insert(0, str(args.repo))
    sys.path.insert(1, str(HERE))
    import inprocess  # bench/inprocess.py
    import messages as msgs  # bench/messages.py

    broker, tmp = inprocess.build(args.repo, args.mode, "profile-intake-")
    template = msgs.creeer_zaak()
    action = '"' + msgs.CREEER_ACTION + '"'
    n = args.count
    bodies = [msgs.fill(template, f"P{i:07d}", f"P{i:07d}") for i in range(3 * n + 200)]

    def send(body: bytes) -> None:
        answer = broker.pipeline.handle("OntvangAsynchroon", body, "text/xml; charset=utf-8", action)
        assert answer.status == 200, answer.body[:500]

    def run(batch: list[bytes]) -> None:
        if args.threads == 1:
            for body in batch:
                send(body)
        else:
            with ThreadPoolExecutor(args.threads) as pool:
                list(pool.map(send, batch))

    run(bodies[:200])  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    run(bodies[200:200 + n])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    package = Path(sys.modules["broker"].__file__ or "").parent
    print(f"{package}: {args.mode}, {n} messages, {args.threads} thread(s), no profiler: "
          f"{n / wall:,.0f} msg/s, {wall / n * 1e6:,.0f} µs wall and {cpu / n * 1e6:,.0f} µs CPU per message")

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    committer = _patch_committer(profiles, lock)
    main_profile = cProfile.Profile()
    profiles.append(main_profile)
    main_profile.enable()
    for body in bodies[200 + n:200 + 2 * n]:
        send(body)
    main_profile.disable()
    if committer is not None:
        committer()
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        stats.add(p)
    table = stats.stats  # type: ignore[attr-defined]  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = sum(ct for (f, _, name), (_, _, _, ct, _) in table.items()
                if f.endswith("broker/intake/pipeline.py") and name == "handle")
    print(f"\nwith cProfile (single thread), inclusive µs per message; handle() in all: {total / n * 1e6:,.0f}")
    accounted = 0.0
    for label, parts in STEPS:
        t = 0.0
        for suffix, fname in parts:
            t += sum(ct for (f, _, name), (_, _, _, ct, _) in table.items() if f.endswith(suffix) and name == fname)
        accounted += t
        print(f"  {label:40s} {t / n * 1e6:8,.0f}")
    waits = sum(ct for (f, _, name), (_, _, _, ct, _) in table.items() if name == "wait" and "threading" in f)
    if waits:
        print(f"  {'(waiting for the group commit)':40s} {waits / n * 1e6:8,.0f}")
    print(f"  {'rest (listed steps overlap none)':40s} {(total - accounted) / n * 1e6:8,.0f}")
    if args.top:
        print()
        stats.sort_stats("tottime").print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
    broker.close()
    shutil.rmtree(tmp, ignore_errors=True)


def _patch_committer(profiles: list[cProfile.Profile], lock: threading.Lock):  # type: ignore[no-untyped-def]
    """Profile the group commits too (their transactions run on the group-commit thread, or on the
    event loop's), when this version of the broker has them."""
    from broker.store import db as dbmodule

    original = getattr(dbmodule, "_commit", None)
    if original is None:
        return None

    def profiled(*args, **kwargs):  # type: ignore[no-untyped-def]
        p = cProfile.Profile()
        p.enable()
        try:
            return original(*args, **kwargs)
        finally:
            p.disable()
            with lock:
                profiles.append(p)

    dbmodule._commit = profiled
    return lambda: setattr(dbmodule, "_commit", original)


if __name__ == "__main__":
    main()
