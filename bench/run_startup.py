"""How long `scripts/run` takes to serve on a checkout that is already set up (issue 15: within 5 s).

    python bench/run_startup.py [--runs 5] [--out FILE]

Runs the README's command (`scripts/run --port P`, its set-up check included) ``--runs`` times on this
checkout, each with a data folder of its own (a new SQLite database, migrated at start-up), and counts
from starting the command to the first 200 of ``/healthz``. Prints one table and writes it to
bench/results/run-startup-<date>.md. The checkout must have been set up once (`scripts/run` or
`scripts/setup`): the first set-up installs the virtualenv and is not what this measures.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import machine  # noqa: E402  (bench/ is not a package)

GOAL_SECONDS = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def one_start(timeout: float) -> float:
    """Seconds from `scripts/run` to its first good /healthz."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    with tempfile.TemporaryDirectory(prefix="run-startup-") as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BROKER_")}
        env["STUF_BROKER_DATA_DIR"] = data
        started = time.perf_counter()
        server = subprocess.Popen(["scripts/run", "--port", str(port)], cwd=REPO, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            while not serving(url):
                if server.poll() is not None:
                    sys.exit(f"scripts/run ended with {server.returncode} before it served")
                if time.perf_counter() - started > timeout:
                    sys.exit(f"scripts/run did not serve within {timeout:.0f} s")
                time.sleep(0.02)
            return time.perf_counter() - started
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not (REPO / ".venv" / "bin" / "stuf-broker").exists():
        sys.exit("set the checkout up first (scripts/setup): this measures a later start")
    load_before = os.getloadavg()[0]
    seconds = [one_start(args.timeout) for _ in range(args.runs)]
    worst = max(seconds)
    when = datetime.now(UTC)
    text = "\n".join([
        f"# `scripts/run` start-up, {when:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine.describe()}. Load average at the start {load_before:.2f}.",
        f"{args.runs} starts of `scripts/run --port P` on a checkout that is set up, each with a new data folder;",
        "from starting the command to the first 200 of /healthz.",
        "",
        "| what | median s | fastest s | slowest s | goal |",
        "|---|---:|---:|---:|---|",
        f"| `scripts/run` to serving | {statistics.median(seconds):.2f} | {min(seconds):.2f} | {worst:.2f} | "
        f"≤ {GOAL_SECONDS:.0f} s: {'met' if worst <= GOAL_SECONDS else 'NOT met'} |",
        "",
        "Each start: " + ", ".join(f"{s:.2f}" for s in seconds) + " s.",
        "",
    ])
    print(text)
    out = args.out or HERE / "results" / f"run-startup-{when:%Y-%m-%d}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
