"""What a refused message costs the broker: schema-invalid creeerZaken (each with its own
referentienummer) sent by wrk to a queued-intake ``serve --workers 2`` on SQLite, every answer a Fo03.

    python bench/faults.py [--seconds 8] [--rounds 2] [--connections 16]

Prints, per round, the faults answered per second and the server CPU per fault (user + system of all
the server's processes, /proc/<pid>/stat), beside the same for valid creeerZaken in the same run, so
the two costs are compared on one machine in one minute (docs/performance.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import intake  # noqa: E402
import messages as msgs  # noqa: E402
import procstat  # noqa: E402


def _expecting_status(lua: str) -> str:
    """bench/intake.py's wrk script, with the expected status as its seventh argument instead of 200
    (a 500 is what is expected here, so it no longer counts as an error)."""
    edits = [("if status ~= 200 or", "if status ~= tonumber(args_status) or"),
             ("  modulus = tonumber(args[6])", "  modulus = tonumber(args[6])\n  args_status = args[7]"),
             ("e.write + e.status + e.timeout", "e.write + e.timeout")]
    for old, new in edits:
        if old not in lua:
            raise SystemExit(f"bench/intake.py's wrk script changed: {old!r} not found")
        lua = lua.replace(old, new)
    return lua


LUA = _expecting_status(intake.WRK_LUA)


def invalid(template: bytes) -> bytes:
    """The creeerZaak with an element its schema does not allow in the zaak (StUF055 after validation)."""
    marker = b"<ZKN:omschrijving>"
    assert marker in template
    return template.replace(marker, b"<ZKN:geenElementVanZKN>x</ZKN:geenElementVanZKN>" + marker, 1)


def run(server: intake.Server, lua: Path, template: bytes, tag: str, status: int, expect: str,
        seconds: float, connections: int) -> tuple[float, float]:
    prefix, middle, suffix = msgs.split(template)
    pids = server.pids()
    before = procstat.cpu_seconds(pids)
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--timeout", "30s", "-s", str(lua),
                          server.url, "--", prefix + tag, middle + tag, suffix, f'"{msgs.CREEER_ACTION}"', expect,
                          "0", str(status)], capture_output=True, text=True, check=True).stdout
    cpu = procstat.cpu_delta(before, procstat.cpu_seconds(pids))
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    fields = dict(kv.split("=") for kv in line.split()[1:])
    if int(fields["failures"]) or int(fields["errors"]):
        raise RuntimeError(f"wrk saw other answers: {out}")
    n = int(fields["requests"])
    return n / float(fields["seconds"]), cpu / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="faultbench-"))
    lua = tmp / "faults.lua"
    lua.write_text(LUA)
    good = msgs.creeer_zaak()
    bad = invalid(good)
    server, _, _ = intake.start_broker(tmp, "faults", "queued", f"sqlite:///{tmp / 'faults.db'}")
    try:
        server.first_answer(good, msgs.CREEER_ACTION, "Bv03Bericht", "WARM")
        run(server, lua, bad, "WARMF", 500, "Fo03Bericht", 2, args.connections)
        print("| round | faults/s | server CPU µs/fault | accepted/s | server CPU µs/accepted |")
        print("|---|---:|---:|---:|---:|")
        for r in range(args.rounds):
            f_rate, f_cpu = run(server, lua, bad, f"F{r}X", 500, "Fo03Bericht", args.seconds, args.connections)
            a_rate, a_cpu = run(server, lua, good, f"A{r}X", 200, "Bv03Bericht", args.seconds, args.connections)
            print(f"| {r + 1} | {f_rate:,.0f} | {f_cpu:,.0f} | {a_rate:,.0f} | {a_cpu:,.0f} |", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
