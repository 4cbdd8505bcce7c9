"""Where a `serve` worker's interpreter time goes under HTTP load: the breakdown in docs/performance.md.

    python bench/profile_server.py [--seconds 8] [--out profile.txt]

Starts ``stuf-broker serve --workers 2`` as bench/intake.py does (queued creeerZaak into the embedded
zaaksysteem, SQLite), warms it up with wrk, then loads it for ``--seconds`` while py-spy (``pip
install py-spy``; it needs ptrace rights over the worker) samples one worker at 200 Hz: each of its
threads while it runs (``--sampling cpu``, the default), or only the one holding the interpreter
(``--sampling gil``, which leaves out the C work of lxml's parsing and validation: they release it).
Prints the server CPU per request and the share of each cost category, by the innermost frame of a
sample that belongs to one; the raw samples stay in ``--out`` for a flame graph.

``--http-only``: the same server, but every SOAP request is answered with a fixed Bv03 as soon as its body
is read (bench/http_only/sitecustomize.py on the workers' path): what HTTP alone costs, apart from the
broker's work on a message (measured without HTTP by bench/profile_loop.py).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import intake as bench  # noqa: E402  (bench/ is not a package)
import messages as msgs  # noqa: E402
import procstat  # noqa: E402

from broker.stuf.berichten import bv03_envelope  # noqa: E402
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem  # noqa: E402

#: (category, substrings of a frame); the first category that matches a frame, from the innermost
#: frame outwards, takes the sample
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("XSD validation + date checks", ("SchemaSet.issues", "SchemaSet.assert_valid", "DateChecks", "rules/tolerate.py")),
    ("semantic rules", ("broker/intake/rules/",)),
    ("request hash (c14n)", ("body_hash", "content_hash")),
    ("SOAP envelope + safe parse", ("parse_request", "xmlsafe.py", "check_small")),
    ("stuurgegevens, dispatch, checks, authentication",
     ("stuurgegevens.py:", "dispatch.py", "checks.py", "callers.py")),
    ("Bv03, answer validation, envelope", ("bv03", "_answer_http", "envelope_bytes", "_check_answer")),
    ("database statements", ("Pipeline._write", "store_answered", "Queue.add")),
    ("database commit, fsync, write lock", ("_GroupCommitter", "do_commit", "_write_lock")),
    ("log line", ("structlog", "logging/__init__")),
    ("metrics", ("metrics.py", "prometheus_client")),
    ("thread hand-offs (pool, queues, futures)",
     ("anyio/", "queue.py", "Condition", "Event.wait", "concurrent/futures", "asyncio/futures", "Database.submit")),
    (OTHER_NAME := "other (pipeline glue, model, routing, keys)",
     ("broker/intake/pipeline.py", "broker/zds/", "broker/routing/", "broker/model/", "broker/runtime.py")),
    ("HTTP: uvicorn, Starlette, reading, writing",
     ("uvicorn/", "starlette/", "protocol.py", "_read_small", "_read_body", "soap_endpoint", "finish")),
]
OTHER = OTHER_NAME


def categorise(raw: Path) -> tuple[collections.Counter[str], int]:
    shares: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        shares[_category(stack.split(";"))] += n
    return shares, total


#: the delivery worker's threads in a `serve` worker (``--kind queued-worker``): their own category,
#: whatever they run (they parse, validate and commit too)
WORKER = "delivery worker in serve (claims, deliveries, their commits)"


def _category(frames: list[str]) -> str:
    if any("broker/queue/worker.py" in frame or "apscheduler/" in frame for frame in frames):
        return WORKER
    for frame in reversed(frames):
        for name, keys in CATEGORIES:
            if any(k in frame for k in keys):
                return name
    return OTHER


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("profile-server.txt"))
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite",
                        help="postgres: a schema of its own in the local PostgreSQL (as bench/intake.py)")
    parser.add_argument("--kind", choices=["queued", "queued-worker", "sync", "geef"], default="queued",
                        help="queued or sync creeerZaak into the embedded zaaksysteem (queued-worker: with the "
                             "delivery worker in serve, the default), or geefZaakdetails of "
                             f"{bench.GEEF_ZAKEN} zaken created first (as bench/intake.py)")
    parser.add_argument("--sampling", choices=["cpu", "gil"], default="cpu",
                        help="cpu: every thread of the worker while it runs (lxml's parsing and validation "
                             "release the interpreter, so they count here); gil: only the thread holding "
                             "the interpreter, which leaves out that C work")
    parser.add_argument("--http-only", action="store_true",
                        help="answer every request with a fixed Bv03 once its body is read: HTTP's own cost")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists() or shutil.which("wrk") is None:
        sys.exit("needs py-spy (pip install py-spy) and wrk (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="profile-server-"))
    load = bench.Load(argparse.Namespace(generator="wrk", threads=1, connections=16), tmp)
    pg = bench.Postgres(tmp.name[-6:].replace("-", "_"), "profile") if args.database == "postgres" else None
    url = pg.url if pg is not None else f"sqlite:///{tmp / 'queued.db'}"
    if args.http_only:  # the workers import the broker with the pipeline's begin answering at once
        answer = tmp / "bv03.xml"
        answer.write_bytes(bv03_envelope(Stuurgegevens(
            "Bv03", Systeem("1234", "STUFBROKER"), Systeem("1234", "PERSPECTIEF"), "HTTPONLY1", "20261207120000000",
            "S00001"), "1.1"))
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH / "http_only"),
                                                                 os.environ.get("PYTHONPATH")]))
        os.environ["STUF_BENCH_HTTP_ONLY"] = str(answer)
    server, _config, _env = bench.start_broker(tmp, args.kind, args.kind, url)
    creeer = msgs.creeer_zaak()
    send = dict(url=server.url, template=creeer, action=msgs.CREEER_ACTION, expect="Bv03Bericht")
    try:
        server.first_answer(creeer, msgs.CREEER_ACTION, "Bv03Bericht", "S")
        if args.kind == "geef":
            bench.post_sequential(server.url, creeer, msgs.CREEER_ACTION, "Bv03Bericht", "P", bench.GEEF_ZAKEN,
                                  ident_tag="G")
            send = dict(url=server.url.replace("/OntvangAsynchroon", "/BeantwoordVraag"),
                        template=msgs.geef_zaakdetails(), action=msgs.GEEF_ACTION, expect="geefZaakdetails_ZakLa01",
                        modulus=bench.GEEF_ZAKEN, ident_tag="G")
        load.run(tag="W", seconds=2, **send)
        pids = server.pids()
        worker = pids[1] if len(pids) > 1 else pids[0]
        sampler = subprocess.Popen([spy, "record", "-p", str(worker), "-d", str(args.seconds), "-r", "200",
                                    "-f", "raw", "-o", str(args.out), "--nonblocking",
                                    *(["--gil"] if args.sampling == "gil" else [])],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before, split = procstat.cpu_seconds(pids), procstat.cpu_split(pids)
        result = load.run(tag="M", seconds=args.seconds, **send)
        cpu = procstat.cpu_delta(before, procstat.cpu_seconds(server.pids()))
        split = tuple(b - a for a, b in zip(split, procstat.cpu_split(server.pids()), strict=True))
        sampler.wait()
    finally:
        server.stop()
        if pg is not None:
            pg.drop()
    n = result["requests"]
    print(f"{result['rate']:,.0f} msg/s, server CPU {cpu / n * 1e6:,.0f} µs per request (user {split[0] / n * 1e6:,.0f}, "
          f"system {split[1] / n * 1e6:,.0f}), {split[2] / n:,.1f} context switches per request")
    shares, total = categorise(args.out)
    for name, n in shares.most_common():
        print(f"{100 * n / max(total, 1):5.1f} %  {name}")
    print(f"({total} samples, {'with the interpreter held' if args.sampling == 'gil' else 'threads running'}; "
          f"raw samples in {args.out})")


if __name__ == "__main__":
    main()
