"""What a creeerZaak's steps cost as ``serve`` runs them, without HTTP: each step left out in turn.

    python bench/profile_loop.py [--repo PATH] [--mode queued|sync] [--without rules,dates,...]
                                 [--rounds 12] [--count 250] [--concurrency 8]

Builds a broker in this process as ``serve`` builds it (bench/inprocess.py: SQLite in a temporary
folder, JSON log lines to a file) and drives ``Pipeline.begin`` on a uvloop event loop as the web edge
does (``on_loop``: a queued message is parsed, checked, validated and answered on the loop, and its rows
committed by the loop itself), ``--concurrency`` requests at a time, each a different 11.5 KB
creeerZaak. Every round runs ``--count`` messages with each variant, in a shuffled order: ``base``,
``base2`` (the same again: the spread between the two is the noise), and for each name in
``--without`` the broker with that step replaced by nothing:

- ``rules``: the semantic rules (broker.intake.rules.check);
- ``dates``: the dates and moments checked beyond the schema (DateChecks.problems);
- ``xsd``: the schema validation, dates included (SchemaSet.issues);
- ``log``: the log lines (the root logger at WARNING);
- ``write``: the group commit (``Database.submit`` answered at once: no statement, no commit; queued only).

In the ``sync`` mode the embedded zaaksysteem's work runs on the committer thread, as in ``serve``: it
counts in the process's CPU, not in the loop thread's.

Prints, per variant, the event loop thread's CPU per message (``time.thread_time``: neither waits nor
other threads count, so the machine's other load and the interpreter lock do not blur it), the median
and the least of the rounds, the process's CPU (the checkpointer's thread too), and the difference of
the medians from ``base``: what that step costs in place. A step measured alone (timeit) costs less:
here it runs between the others, as in the server. ``--repo`` measures another checkout with the same
script (a ``git worktree`` of an earlier commit, its ``xsd/installed`` linked to this one's).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STEPS = ("rules", "dates", "xsd", "log", "write")

Undo = Callable[[], None]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=HERE.parent)
    ap.add_argument("--mode", default="queued", choices=["queued", "sync"])
    ap.add_argument("--without", default="rules,dates,xsd,log,write",
                    help=f"comma-separated steps to leave out in turn, from {', '.join(STEPS)} (or none)")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--count", type=int, default=250, help="messages per variant and round")
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    steps = [s for s in args.without.split(",") if s and s != "none"]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        ap.error(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    if args.mode == "sync" and "write" in steps:
        ap.error("write: a sync message's write is its delivery; leave it out only in the queued mode")
    sys.path.insert(0, str(args.repo))
    sys.path.insert(1, str(HERE))
    import inprocess  # bench/inprocess.py
    import messages as msgs  # bench/messages.py
    import uvloop

    broker, _tmp = inprocess.build(args.repo, args.mode, "profile-loop-")
    pipeline = broker.pipeline
    template, action = msgs.creeer_zaak(), '"' + msgs.CREEER_ACTION + '"'
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    sent = 0

    async def one() -> None:
        nonlocal sent
        sent += 1
        body = msgs.fill(template, f"L{sent:08d}", f"L{sent:08d}")
        answer = await pipeline.begin("OntvangAsynchroon", body, "text/xml; charset=utf-8", action).drive(
            asyncio.to_thread)  # as the web edge drives it (its handler pool for what blocks)
        assert answer.status == 200, answer.body[:300]

    async def run(count: int) -> None:
        slots = asyncio.Semaphore(args.concurrency)

        async def limited() -> None:
            async with slots:
                await one()
        await asyncio.gather(*(limited() for _ in range(count)))

    variants: dict[str, Callable[[], Undo]] = {"base": lambda: lambda: None, "base2": lambda: lambda: None}
    variants.update({name: _leave_out(name, broker) for name in steps})
    loop.run_until_complete(run(500))  # warm-up
    cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    order = list(variants)
    shuffle = random.Random(1).shuffle
    for _ in range(args.rounds):
        shuffle(order)
        for name in order:
            undo = variants[name]()
            thread, process = time.thread_time(), time.process_time()
            loop.run_until_complete(run(args.count))
            cpu[name].append(((time.thread_time() - thread) / args.count * 1e6,
                              (time.process_time() - process) / args.count * 1e6))
            undo()
    package = Path(sys.modules["broker"].__file__ or "").parent
    print(f"{package}: {args.mode}, {args.rounds} rounds of {args.count} messages per variant, "
          f"{args.concurrency} at a time; CPU µs per message")
    base = statistics.median(t for t, _ in cpu["base"])
    print(f"  {'variant':14s} {'loop thread':>11s} {'least':>7s} {'process':>8s} {'Δ from base':>12s}")
    for name, values in cpu.items():
        median = statistics.median(t for t, _ in values)
        label = name if name.startswith("base") else f"without {name}"
        print(f"  {label:14s} {median:11,.0f} {min(t for t, _ in values):7,.0f} "
              f"{statistics.median(p for _, p in values):8,.0f} {median - base:+12,.0f}")
    broker.close()


def _leave_out(name: str, broker: Any) -> Callable[[], Undo]:
    """A variant: the broker with step ``name`` replaced by nothing; calling it applies the change and
    returns what undoes it."""
    def replace(owner: object, attribute: str, value: object) -> Undo:
        original = getattr(owner, attribute)
        setattr(owner, attribute, value)
        return lambda: setattr(owner, attribute, original)

    def apply() -> Undo:
        if name == "rules":
            import broker.intake.rules as rules
            return replace(rules, "check", lambda *args, **kwargs: None)
        if name == "dates":
            return replace(broker.pipeline.schemas.dates, "problems", lambda element: [])
        if name == "xsd":
            return replace(broker.pipeline.schemas, "issues", lambda element: [])
        if name == "log":
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.WARNING)
            return lambda: root.setLevel(level)
        assert name == "write"
        written = 10**9  # message ids no stored message has

        def submit(work: object, **_: object) -> asyncio.Future[int]:
            nonlocal written
            written += 1
            done = asyncio.get_running_loop().create_future()
            done.set_result(written)
            return done
        return replace(broker.pipeline.db, "submit", submit)
    return apply


if __name__ == "__main__":
    main()
