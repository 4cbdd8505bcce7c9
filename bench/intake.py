"""Benchmark (issue 9): the broker against the parse+validate floor and a plain spyne service, in one run.

    python bench/intake.py [--seconds 10] [--connections 16] [--servers spyne,queued-sqlite,...]
                           [--sizes 2k,10k,100k,1m,10m]

Everything below is measured in the same run on this machine, every server given the same message: the
StUF Testplatform's creeerZaak_ZakLk01_13 made into an 11.5 KB SOAP 1.1 message with CR LF line ends
(bench/messages.py), with a unique referentienummer and zaak identificatie per request.

1. floor: the broker's safe lxml parse of the envelope plus XSD validation of the body, one process, no
   HTTP, no database. This machine's single-core speed drifts (up to 2x within minutes), so the floor is
   sampled before and after every server, and the median of all samples is the floor of the run;
2. spyne: a plain spyne 2.14 service on gunicorn with 2 sync workers (bench/spyne_baseline.py: parse,
   validate against the same schema, one SQLite insert, a fixed Bv03), in its own Python 3.11
   virtualenv bench/.venv-spyne, built on first use. For the same reason as the floor it is measured
   before the broker's servers and again after them; its row, and every ratio to it, is the mean of
   the two (both samples are listed under the table);
3. the broker, `stuf-broker serve --workers 2`, for each of:
   queued-sqlite / queued-postgres   creeerZaak queued for the embedded zaaksysteem, no delivery worker
                                     running; afterwards two `stuf-broker worker`s drain the queue (drain msg/s)
   queued-sqlite-worker              the same with the delivery worker in `serve` (the default) draining
                                     meanwhile; drain = what it delivered during the measurement
   sync-sqlite                       creeerZaak sync into the embedded zaaksysteem
   geef-sqlite                       geefZaakdetails of 100 zaken created beforehand, from the embedded zaaksysteem
   each with msg/s, ratio to the floor and to spyne, p50/p99 latency, p99 at half the rate reached (an
   open-loop generator on plain asyncio streams, latency counted from when each request was due), server CPU µs per request (from
   /proc/<pid>/stat of the server's processes; PostgreSQL's backends for the broker's connections
   separately), peak RSS of the largest server process, and the time from start to the first answer;
4. sizes: cost per message from 2 KB to 10 MB (a creeerZaak with ever more betrokkenen), sent one at a
   time to a queued broker and to the spyne service, next to the floor of the same message.

The table is printed and written to bench/results/intake-<date>.md with the machine it ran on.
The load generator is wrk (Debian package ``wrk``), `wrk -t1 -c16` by default, with a Lua script that
makes every request unique; without wrk, an asyncio + httpx generator, which itself costs much of a core.
Either runs on the same two cores as the servers and PostgreSQL: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import lxml
import messages as msgs
import procstat
import psycopg
import yaml
from lxml import etree
from machine import describe  # bench/ is on sys.path when a script here runs

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from broker.config import DEFAULT_XSD_DIR  # noqa: E402
from broker.stuf import ns, xmlsafe  # noqa: E402
from broker.stuf.schemas import SchemaSet  # noqa: E402

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
SPYNE_VENV = BENCH / ".venv-spyne"
SERVERS = ["spyne", "queued-sqlite", "queued-postgres", "queued-sqlite-worker", "sync-sqlite", "geef-sqlite"]
LABELS = {
    "spyne": "plain spyne 2.14 on gunicorn (2 sync workers): parse, validate, one SQLite insert, fixed Bv03",
    "queued-sqlite": "broker, creeerZaak `queued` to embedded, SQLite",
    "queued-postgres": "broker, creeerZaak `queued` to embedded, PostgreSQL on the same machine",
    "queued-sqlite-worker": "broker, creeerZaak `queued`, SQLite, delivery worker in `serve` draining meanwhile",
    "sync-sqlite": "broker, creeerZaak `sync` into the embedded zaaksysteem, SQLite",
    "geef-sqlite": "broker, geefZaakdetails from the embedded zaaksysteem, SQLite",
}
KINDS = {"queued-sqlite": ("queued", "sqlite"), "queued-postgres": ("queued", "postgres"),
         "queued-sqlite-worker": ("queued-worker", "sqlite"), "sync-sqlite": ("sync", "sqlite"),
         "geef-sqlite": ("geef", "sqlite")}
GEEF_ZAKEN = 100
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


# -- the floor ----------------------------------------------------------------------------------
def xsd_validator(schemas: SchemaSet, message: bytes) -> etree.XMLSchema:
    """The compiled XSD of a message's namespace, after checking that the broker finds the message valid
    (its XSD and its dates). The floor runs lxml's validation alone: the broker's own checks beyond the
    XSD (real dates, the semantic rules) are the broker's cost, not the floor's."""
    body = xmlsafe.parse(message)[-1][0]
    problems = schemas.issues(body)
    if problems:
        raise RuntimeError(f"the benchmark's message is not valid: {problems[0]}")
    schema = schemas.schema_for(ns.namespace(body.tag))
    assert schema is not None
    return schema


class Floor:
    """Safe parse + XSD validation of one message shape, in this process; samples in µs per message."""

    def __init__(self, schemas: SchemaSet, template: bytes, run: str, seconds: float) -> None:
        self.seconds = seconds
        self.messages = [msgs.fill(template, f"F{run}{i:05d}", f"F{run}{i:05d}") for i in range(200)]
        self.samples: list[float] = []
        self.schema = xsd_validator(schemas, self.messages[0])
        for m in self.messages[:20]:  # warm up
            self.one(m)

    def one(self, message: bytes) -> None:
        if not self.schema.validate(xmlsafe.parse(message)[-1][0]):
            raise RuntimeError(f"the benchmark's message is not valid: {self.schema.error_log.last_error}")

    def sample(self) -> float:
        n, start = 0, time.perf_counter()
        while True:
            for m in self.messages:
                self.one(m)
            n += len(self.messages)
            elapsed = time.perf_counter() - start
            if elapsed >= self.seconds:
                break
        us = elapsed / n * 1e6
        self.samples.append(us)
        return us

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def floor_of(schemas: SchemaSet, message: bytes, count: int) -> float:
    """µs per message for parse + XSD validation of one (large) message, the best of ``count`` runs."""
    schema = xsd_validator(schemas, message)
    best = float("inf")
    for _ in range(count):
        t = time.perf_counter()
        schema.validate(xmlsafe.parse(message)[-1][0])
        best = min(best, time.perf_counter() - t)
    return best * 1e6


# -- load generators ----------------------------------------------------------------------------
WRK_LUA = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  prefix, middle, suffix, action, expect = args[1], args[2], args[3], args[4], args[5]
  modulus = tonumber(args[6])
  counter = 0
  failures = 0
  sample = ""
  req_headers = {["Content-Type"] = "text/xml; charset=utf-8", ["SOAPAction"] = action}
end
function request()
  counter = counter + 1
  local n = string.format("%d%08d", tid, counter)
  local m = n
  if modulus > 0 then m = string.format("%05d", counter % modulus) end
  return wrk.format("POST", nil, req_headers, prefix .. n .. middle .. m .. suffix)
end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, expect, 1, true) then
    failures = failures + 1
    if sample == "" then sample = status .. " " .. string.sub(body or "", 1, 400) end
  end
end
function done(summary, latency, requests)
  local f, s = 0, ""
  for _, t in ipairs(threads) do
    f = f + t:get("failures")
    if s == "" then s = t:get("sample") end
  end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%f p50=%f p99=%f failures=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    f, e.connect + e.read + e.write + e.status + e.timeout))
  io.write("SAMPLE " .. string.gsub(s, "[\r\n]", " ") .. "\n")
end
"""


#: said on the screen and in the report when wrk is missing (a run on a new machine without it gave rates
#: less than half of wrk's)
NO_WRK = ("wrk is not installed (apt-get install wrk): the Python load generator takes CPU from the servers "
          "on the same cores, so these rates are lower than with wrk and not comparable with the README's")


class Load:
    """Sends one kind of message to a URL for a number of seconds; every request made unique."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk") is not None)
        self.name = f"wrk -t{args.threads} -c{args.connections}" if self.use_wrk else \
            f"httpx (asyncio), {args.connections} connections"
        self.lua = tmp / "bench.lua"
        self.lua.write_text(WRK_LUA)

    def run(self, url: str, template: bytes, action: str, expect: str, tag: str, seconds: float,
            modulus: int = 0, ident_tag: str | None = None) -> dict:
        """{rate, p50, p99, requests}. The referentienummer is ``tag`` + a counter; the identificatie
        ``ident_tag`` (default ``tag``) + the same counter, or + counter % ``modulus`` when given."""
        ident_tag = ident_tag or tag
        if self.use_wrk:
            prefix, middle, suffix = msgs.split(template)
            out = subprocess.run(
                ["wrk", f"-t{self.args.threads}", f"-c{self.args.connections}", f"-d{max(1, round(seconds))}s",
                 "--timeout", "30s", "-s", str(self.lua), url, "--", prefix + tag, middle + ident_tag, suffix,
                 f'"{action}"', expect, str(modulus)],
                capture_output=True, text=True, check=True).stdout
            line = next(x for x in out.splitlines() if x.startswith("RESULT"))
            fields = dict(kv.split("=") for kv in line.split()[1:])
            if int(fields["failures"]) or int(fields["errors"]):
                raise RuntimeError(f"wrk saw failures: {line}\n{out}")
            n = int(fields["requests"])
            return {"rate": n / float(fields["seconds"]), "p50": float(fields["p50"]), "p99": float(fields["p99"]),
                    "requests": n}
        return asyncio.run(self._httpx(url, template, action, expect, tag, ident_tag, seconds, modulus))

    def fixed_rate(self, url: str, template: bytes, action: str, expect: str, tag: str, rate: float,
                   seconds: float, modulus: int = 0, ident_tag: str | None = None) -> dict:
        """Open loop: requests started at a fixed rate whatever the answers do, each latency counted
        from the moment its request was due (no coordinated omission). {rate, p50, p99, requests}."""
        return asyncio.run(self._open_loop(url, template, action, expect, tag, ident_tag or tag, rate, seconds,
                                           modulus))

    async def _open_loop(self, url: str, template: bytes, action: str, expect: str, tag: str, ident_tag: str,
                         rate: float, seconds: float, modulus: int) -> dict:
        """Plain asyncio streams, not httpx: a Python HTTP client costs about as much CPU per request as
        the servers measured, and at a few hundred requests a second it fell behind its own schedule.
        Requests are started when due on an idle keep-alive connection, or on a new one when none is
        idle; the bodies are made before the clock starts."""
        latencies: list[float] = []
        lags: list[float] = []  # how late the generator itself started a request
        parts = httpx.URL(url)
        host, port, path = parts.host, parts.port or 80, parts.raw_path.decode()
        count = max(1, int(rate * seconds))
        bodies = [msgs.fill(template, f"{tag}{i:09d}", f"{ident_tag}{i % modulus:05d}" if modulus
                            else f"{ident_tag}{i:09d}") for i in range(count)]
        idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        opened: list[asyncio.StreamWriter] = []
        expect_bytes = expect.encode()

        async def one(i: int, due: float) -> None:
            lags.append(time.perf_counter() - due)
            if idle:
                reader, writer = idle.pop()
            else:
                reader, writer = await asyncio.open_connection(host, port)
                opened.append(writer)
            body = bodies[i]
            writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/xml; charset=utf-8\r\n"
                         f"SOAPAction: \"{action}\"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = [line.lower() for line in head.split(b"\r\n")]
            length = next((int(line.split(b":", 1)[1]) for line in lines if line.startswith(b"content-length:")), None)
            answer = await (reader.readexactly(length) if length is not None else reader.read())
            latencies.append(time.perf_counter() - due)
            if not head.startswith(b"HTTP/1.1 200") or expect_bytes not in answer:
                raise RuntimeError(f"unexpected answer: {head[:40]!r} {answer[:300]!r}")
            if length is None or b"connection: close" in lines:  # gunicorn's sync workers close each one
                writer.close()
            else:
                idle.append((reader, writer))

        tasks = []
        start = time.perf_counter()
        for i in range(count):
            due = start + i / rate
            if due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        for writer in opened:
            writer.close()
        ordered, lags = sorted(latencies), sorted(lags)
        return {"rate": len(ordered) / elapsed, "p50": ordered[len(ordered) // 2] * 1000,
                "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, "requests": len(ordered),
                "lag_p99": lags[min(len(lags) - 1, int(0.99 * len(lags)))] * 1000}

    async def _httpx(self, url: str, template: bytes, action: str, expect: str, tag: str, ident_tag: str,
                     seconds: float, modulus: int) -> dict:
        latencies: list[float] = []
        counter = iter(range(1, 10**9))
        connections = self.args.connections
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        headers = dict(SOAP_HEADERS, SOAPAction=f'"{action}"')
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            async def worker() -> None:
                while time.perf_counter() < deadline:
                    i = next(counter)
                    body = msgs.fill(template, f"{tag}{i:09d}", f"{ident_tag}{i % modulus:05d}" if modulus
                                     else f"{ident_tag}{i:09d}")
                    t = time.perf_counter()
                    r = await client.post(url, content=body, headers=headers)
                    latencies.append(time.perf_counter() - t)
                    if r.status_code != 200 or expect not in r.text:
                        raise RuntimeError(f"unexpected answer {r.status_code}: {r.text[:300]}")

            start = time.perf_counter()
            deadline = start + seconds
            await asyncio.gather(*(worker() for _ in range(connections)))
            elapsed = time.perf_counter() - start
        ordered = sorted(latencies)
        return {"rate": len(ordered) / elapsed, "p50": ordered[len(ordered) // 2] * 1000,
                "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, "requests": len(ordered)}


def post_sequential(url: str, template: bytes, action: str, expect: str, tag: str, count: int,
                    ident_tag: str | None = None, timeout: float = 120) -> list[float]:
    """Send ``count`` unique messages one after another; their latencies in seconds."""
    out = []
    headers = dict(SOAP_HEADERS, SOAPAction=f'"{action}"')
    with httpx.Client(timeout=timeout) as client:
        for i in range(count):
            body = msgs.fill(template, f"{tag}{i:05d}", f"{ident_tag or tag}{i:05d}")
            t = time.perf_counter()
            r = client.post(url, content=body, headers=headers)
            out.append(time.perf_counter() - t)
            if r.status_code != 200 or expect not in r.text:
                raise RuntimeError(f"unexpected answer {r.status_code}: {r.text[:500]}")
    return out


# -- servers ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process under test: its start-up time to the first answer, CPU and memory."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], url: str, log: Path, cwd: Path) -> None:
        self.name, self.url, self.log_path = name, url, log
        self.log = open(log, "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.startup: float | None = None

    def first_answer(self, template: bytes, action: str, expect: str, tag: str, timeout: float = 120) -> float:
        """Seconds from the start of the process to its first good answer to ``template``."""
        headers = dict(SOAP_HEADERS, SOAPAction=f'"{action}"')
        deadline = self.started + timeout
        attempt = 0
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + self.log_path.read_text()[-2000:])
            attempt += 1
            body = msgs.fill(template, f"{tag}{attempt:05d}", f"{tag}{attempt:05d}")
            try:
                r = httpx.post(self.url, content=body, headers=headers, timeout=30)
            except httpx.TransportError:
                time.sleep(0.02)
                continue
            if r.status_code == 200 and expect in r.text:
                self.startup = time.perf_counter() - self.started
                return self.startup
            raise RuntimeError(f"{self.name}: first answer {r.status_code}: {r.text[:800]}")
        raise RuntimeError(f"{self.name} gave no answer within {timeout} s; see {self.log_path}")

    def pids(self) -> list[int]:
        return procstat.tree(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def ensure_spyne_venv() -> Path:
    """bench/.venv-spyne with spyne 2.14, gunicorn and the broker's lxml version, built on first use."""
    gunicorn = SPYNE_VENV / "bin" / "gunicorn"
    if not gunicorn.exists():
        python = shutil.which("python3.11")
        if python is None:
            raise SystemExit("spyne 2.14 needs Python 3.11 (python3.11 not found)")
        print(f"building {SPYNE_VENV} (spyne 2.14, gunicorn, lxml {lxml.__version__}) ...", flush=True)
        subprocess.run([python, "-m", "venv", str(SPYNE_VENV)], check=True)
        subprocess.run([str(SPYNE_VENV / "bin" / "pip"), "install", "-q", "spyne==2.14.*", "gunicorn",
                        f"lxml=={lxml.__version__}"], check=True)
    return gunicorn


def start_spyne(tmp: Path, name: str) -> Server:
    gunicorn = ensure_spyne_venv()
    port = free_port()
    env = dict(os.environ, STUF_BENCH_XSD_DIR=str(DEFAULT_XSD_DIR), STUF_BENCH_DB=str(tmp / f"{name}.db"))
    return Server(name, [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "120",
                         "spyne_baseline:application"], env, f"http://127.0.0.1:{port}/", tmp / f"{name}.log", BENCH)


def broker_config(tmp: Path, name: str, routes: dict) -> Path:
    config = tmp / f"config-{name}"
    config.mkdir()
    (config / "zaaktypecatalogus.yaml").write_text(yaml.safe_dump(msgs.CATALOGUS))
    broker_yaml = yaml.safe_load((REPO / "config" / "broker.yaml").read_text())
    broker_yaml["log_format"] = "json"
    (config / "broker.yaml").write_text(yaml.safe_dump(broker_yaml))
    (config / "routes.yaml").write_text(yaml.safe_dump(routes))
    return config


def routes_for(kind: str) -> dict:
    targets = {"zaaksysteem": {"adapter": "embedded"}}
    everything_sync = {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]}
    if kind.startswith("queued"):
        queued = {"operations": ["creeerZaak"], "deliver": [{"target": "zaaksysteem", "mode": "queued"}]}
        delivery = {} if kind == "queued-worker" else {"worker_in_serve": False, "poll_seconds": 0.05}
        return {"targets": targets, "routes": [queued, everything_sync], "delivery": delivery}
    return {"targets": targets, "routes": [everything_sync], "delivery": {"worker_in_serve": False}}


def start_broker(tmp: Path, name: str, kind: str, db_url: str) -> tuple[Server, Path, dict[str, str]]:
    config = broker_config(tmp, name, routes_for(kind))
    env = dict(os.environ, STUF_BROKER_DATABASE_URL=db_url, STUF_BROKER_DATA_DIR=str(tmp / f"var-{name}"))
    port = free_port()
    server = Server(name, [sys.executable, "-m", "broker", "serve", "--config", str(config), "--port", str(port),
                           "--workers", "2"], env, f"http://127.0.0.1:{port}/zds/OntvangAsynchroon",
                    tmp / f"serve-{name}.log", REPO)
    return server, config, env


class Postgres:
    """A schema of its own per server, and the CPU of the backends serving the broker's connections."""

    def __init__(self, run: str, name: str) -> None:
        self.schema = f"bench_{run.lower()}_{name.replace('-', '_')}"
        self.app = f"stufbench_{run.lower()}"
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
        self.url = (f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{self.schema}"
                    f"&application_name={self.app}")

    def backends(self) -> list[int]:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                               (self.app,))]

    def drop(self) -> None:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")


def delivery_states(db_url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT state, count(*) FROM deliveries GROUP BY state")).all())
    finally:
        engine.dispose()


def drain(config: Path, env: dict[str, str], db_url: str, tmp: Path, name: str, timeout: float) -> float:
    """Two `stuf-broker worker` processes deliver what the intake queued; msg/s from the first delivery
    to the last (their start-up not counted)."""
    total = sum(delivery_states(db_url).values())
    workers = []
    for i in range(2):
        log = open(tmp / f"worker-{name}-{i}.log", "wb")
        workers.append((subprocess.Popen([sys.executable, "-m", "broker", "worker", "--config", str(config)],
                                         cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    try:
        start = time.perf_counter()
        first: tuple[float, int] | None = None
        while True:
            states = delivery_states(db_url)
            done = states.get("delivered", 0)
            now = time.perf_counter()
            if first is None and done:
                first = (now, done)
            if done + states.get("dead", 0) >= total:
                break
            if now - start > timeout:
                raise RuntimeError(f"drain did not finish in {timeout:.0f} s: {states}")
            time.sleep(0.1)
        if states.get("dead"):
            print(f"  warning: {states['dead']} deliveries went dead; see {tmp}/worker-{name}-*.log")
        if first is None or now <= first[0]:
            return float("nan")
        return (done - first[1]) / (now - first[0])
    finally:
        for proc, log in workers:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


def measure(server: Server, load: Load, args: argparse.Namespace, template: bytes, action: str, expect: str,
            tag: str, pg: Postgres | None = None, url: str | None = None, **kw: object) -> dict:
    """Warm up, then measure: rate and latency from the generator, CPU and memory from /proc; then the
    latency at half the rate reached, with an open-loop generator."""
    url = url or server.url
    load.run(url, template, action, expect, "W" + tag, args.warmup, **kw)
    pids = server.pids()
    cpu0 = procstat.cpu_seconds(pids)
    pg0 = procstat.cpu_seconds(pg.backends()) if pg else {}
    result = load.run(url, template, action, expect, "M" + tag, args.seconds, **kw)
    cpu1 = procstat.cpu_seconds(server.pids())
    result["cpu_us"] = procstat.cpu_delta(cpu0, cpu1) / result["requests"] * 1e6
    if pg:
        result["pg_cpu_us"] = procstat.cpu_delta(pg0, procstat.cpu_seconds(pg.backends())) / result["requests"] * 1e6
    if args.half_rate:
        half = load.fixed_rate(url, template, action, expect, "H" + tag, result["rate"] / 2, args.seconds / 2, **kw)
        result["half"] = half
    result["rss"], result["rss_total"] = procstat.peak_rss_mb(server.pids())
    result["startup"] = server.startup
    return result


def combined(samples: list[dict]) -> dict:
    """One row of several measurements of the same server: the mean of each figure, the largest RSS."""
    def mean(key: str, within: list[dict]) -> float:
        return statistics.fmean(r[key] for r in within)

    out = dict(samples[-1], samples=[r["rate"] for r in samples])
    for key in ("rate", "p50", "p99", "cpu_us", "startup"):
        out[key] = mean(key, samples)
    out["rss"] = max(r["rss"] for r in samples)
    halves = [r["half"] for r in samples if "half" in r]
    if halves:
        out["half"] = {k: mean(k, halves) for k in ("p99", "rate", "lag_p99")}
    return out


def run_server(name: str, args: argparse.Namespace, load: Load, run: str, tmp: Path) -> dict:
    creeer = msgs.creeer_zaak()
    tag = run[:4]
    if name == "spyne":
        server = start_spyne(tmp, name)
        try:
            server.first_answer(creeer, msgs.CREEER_ACTION, "Bv03Bericht", "S" + tag)
            return measure(server, load, args, creeer, msgs.CREEER_ACTION, "Bv03Bericht", tag)
        finally:
            server.stop()
    kind, backend = KINDS[name]
    pg = Postgres(run, name) if backend == "postgres" else None
    db_url = pg.url if pg else f"sqlite:///{tmp / (name + '.db')}"
    try:
        server, config, env = start_broker(tmp, name, kind, db_url)
        try:
            server.first_answer(creeer, msgs.CREEER_ACTION, "Bv03Bericht", "S" + tag)
            if kind == "geef":
                post_sequential(server.url, creeer, msgs.CREEER_ACTION, "Bv03Bericht", "P" + tag, GEEF_ZAKEN,
                                ident_tag="G" + tag)
                # the answer must hold the zaak asked for, not only be a La01
                post_sequential(server.url.replace("/OntvangAsynchroon", "/BeantwoordVraag"),
                                msgs.geef_zaakdetails(), msgs.GEEF_ACTION, f"1234G{tag}00000", "Q" + tag, 1,
                                ident_tag="G" + tag)
                result = measure(server, load, args, msgs.geef_zaakdetails(), msgs.GEEF_ACTION,
                                 "geefZaakdetails_ZakLa01", tag, modulus=GEEF_ZAKEN, ident_tag="G" + tag,
                                 url=server.url.replace("/OntvangAsynchroon", "/BeantwoordVraag"))
            elif kind == "queued-worker":
                before = delivery_states(db_url).get("delivered", 0)
                t = time.perf_counter()
                result = measure(server, load, args, creeer, msgs.CREEER_ACTION, "Bv03Bericht", tag, pg)
                result["drain"] = (delivery_states(db_url).get("delivered", 0) - before) / (time.perf_counter() - t)
            else:
                result = measure(server, load, args, creeer, msgs.CREEER_ACTION, "Bv03Bericht", tag, pg)
        finally:
            server.stop()
        if kind == "queued" and args.drain:
            result["drain"] = drain(config, env, db_url, tmp, name, args.drain_timeout)
        return result
    finally:
        if pg:
            pg.drop()


SIZE_UNITS = {"k": 1_000, "m": 1_000_000}


def run_sizes(args: argparse.Namespace, schemas: SchemaSet, run: str, tmp: Path) -> list[dict]:
    """Cost per message by size: one message at a time to a queued broker and to spyne; the floor of
    the same message measured in between."""
    sizes = [int(float(s[:-1]) * SIZE_UNITS[s[-1].lower()]) if s[-1].lower() in SIZE_UNITS else int(s)
             for s in args.sizes.split(",")]
    tag = run[:4]
    broker, _config, _env = start_broker(tmp, "sizes", "queued", f"sqlite:///{tmp / 'sizes.db'}")
    spyne = start_spyne(tmp, "sizes-spyne")
    rows = []
    try:
        creeer = msgs.creeer_zaak()
        broker.first_answer(creeer, msgs.CREEER_ACTION, "Bv03Bericht", "S" + tag)
        spyne.first_answer(creeer, msgs.CREEER_ACTION, "Bv03Bericht", "S" + tag)
        for server in (broker, spyne):  # warm up
            post_sequential(server.url, creeer, msgs.CREEER_ACTION, "Bv03Bericht", "w" + tag, 50)
        for i, size in enumerate(sizes):
            template = msgs.creeer_zaak_of_size(size)
            actual = len(msgs.fill(template, f"x{tag}{i}00000", f"x{tag}{i}00000"))
            count = max(5, min(200, int(4_000_000 / actual)))
            row = {"size": actual, "count": count,
                   "floor_us": floor_of(schemas, msgs.fill(template, "F" + tag, "F" + tag), max(3, min(50, count)))}
            for label, server in (("broker", broker), ("spyne", spyne)):
                cpu0 = procstat.cpu_seconds(server.pids())
                latencies = post_sequential(server.url, template, msgs.CREEER_ACTION, "Bv03Bericht",
                                            f"{label[0]}{i}{tag}", count)
                cpu = procstat.cpu_delta(cpu0, procstat.cpu_seconds(server.pids()))
                row[f"{label}_us"] = cpu / count * 1e6
                row[f"{label}_ms"] = statistics.median(latencies) * 1000
            rows.append(row)
            print(f"  size {actual / 1024:,.0f} KB: floor {row['floor_us']:,.0f} µs, broker {row['broker_us']:,.0f} "
                  f"µs CPU, spyne {row['spyne_us']:,.0f} µs CPU", flush=True)
    finally:
        broker.stop()
        spyne.stop()
    return rows


# -- the report ---------------------------------------------------------------------------------
def fmt(value: float | None, spec: str = ",.0f") -> str:
    return "–" if value is None or value != value else format(value, spec)


def report(args: argparse.Namespace, load: Load, floor: Floor, geef_floor: Floor, results: dict[str, dict],
           sizes: list[dict], message_size: int, started: datetime) -> str:
    base = 1e6 / floor.median
    spyne = results.get("spyne", {}).get("rate")
    lines = [
        f"# Intake benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {describe()}.",
        f"Message: creeerZaak_ZakLk01 (StUF Testplatform template 13 plus two betrokkenen), {message_size:,} bytes, "
        "SOAP 1.1, CR LF line ends, unique referentienummer and zaak identificatie per request.",
        f"Load: {load.name}, {args.seconds:g} s per server after {args.warmup:g} s of warm-up; 2 server processes "
        "each; load generator, servers and PostgreSQL on the same cores. Load average of the machine at the start "
        f"{args.loadavg[0]:.2f}, at the end {os.getloadavg()[0]:.2f} (anything above 0 is other work competing).",
        *([] if load.use_wrk else ["", f"**{NO_WRK}**"]),
        "",
        "| what | msg/s | × floor | × spyne | p50 ms | p99 ms | p99 ms at ½ rate | server CPU µs/request "
        "| peak RSS MB | start-up s | drain msg/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| floor: safe lxml parse + XSD validation, 1 process, no HTTP, no database (median of {len(floor.samples)} "
        f"samples) | {base:,.0f} | 1 | {fmt(base / spyne if spyne else None, '.2f')} | – | – | – | "
        f"{floor.median:,.0f} | – | – | – |",
    ]
    for name, r in results.items():
        cpu = fmt(r["cpu_us"]) + (f" (+{r['pg_cpu_us']:,.0f} in PostgreSQL)" if "pg_cpu_us" in r else "")
        lines.append(
            f"| {LABELS[name]} | {r['rate']:,.0f} | {r['rate'] / base:.2f} | "
            f"{fmt(r['rate'] / spyne if spyne else None, '.2f')} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{fmt(r['half']['p99'] if 'half' in r else None, '.1f')} | {cpu} | "
            f"{r['rss']:.0f} | {fmt(r['startup'], '.1f')} | {fmt(r.get('drain'))} |")
    lines += [
        "",
        f"Floor samples (µs per message, before and after every server): "
        f"{', '.join(f'{s:.0f}' for s in floor.samples)}; min {min(floor.samples):.0f}, "
        f"max {max(floor.samples):.0f}, median {floor.median:.0f}.",
        f"geefZaakdetails Lv01 alone ({len(msgs.fill(msgs.geef_zaakdetails(), 'x', 'x')):,} bytes) parses and "
        f"validates in a median {geef_floor.median:.0f} µs; its row's × floor is against the creeerZaak floor.",
        "Server CPU: user + system time of all the server's processes during the measurement (/proc/<pid>/stat), "
        "per answered request; for PostgreSQL also its backends serving the broker's connections (not its "
        "WAL writer or checkpointer). Peak RSS: VmHWM of the largest server process. Start-up: from starting "
        "the command to the first good answer. p99 at ½ rate: an open-loop generator (plain asyncio streams) sending at half the "
        "msg/s reached, for half as long, latency counted from when each request was due. Drain: two `stuf-broker worker` processes after the intake, "
        "msg/s from the first delivery to the last (for the `serve` with its own worker: delivered during "
        "the measurement).",
    ]
    if len(results.get("spyne", {}).get("samples", [])) > 1:
        lines.append("spyne measured before the broker's servers and after them (msg/s): "
                     + ", ".join(f"{v:,.0f}" for v in results["spyne"]["samples"])
                     + "; its row is the mean of the two.")
    lags = {n: r["half"]["lag_p99"] for n, r in results.items() if "half" in r}
    if lags:
        lines.append("The open-loop generator's own lag in starting requests (p99, ms; part of those latencies): "
                     + ", ".join(f"{n} {v:.1f}" for n, v in lags.items()) + ".")
    if sizes:
        lines += [
            "",
            "Cost by message size (creeerZaak with ever more betrokkenen, one message at a time, server CPU per "
            "message; the floor of the same message in this process):",
            "",
            "| size KB | messages | floor µs | floor µs/KB | broker CPU µs | broker µs/KB | broker ms | spyne CPU µs "
            "| spyne µs/KB | spyne ms |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in sizes:
            kb = r["size"] / 1024
            lines.append(f"| {kb:,.1f} | {r['count']} | {r['floor_us']:,.0f} | {r['floor_us'] / kb:,.1f} | "
                         f"{r['broker_us']:,.0f} | {r['broker_us'] / kb:,.1f} | {r['broker_ms']:,.1f} | "
                         f"{r['spyne_us']:,.0f} | {r['spyne_us'] / kb:,.1f} | {r['spyne_ms']:,.1f} |")
        lines.append("\nLinear means µs/KB about constant from 10 KB up (below that the fixed cost per message "
                     "dominates; the smallest creeerZaak the schema allows is about 2 KB). CPU is counted in 10 ms ticks: rows with few messages are coarse.")
    goals = goal_lines(results, base)
    if goals:
        lines += ["", "Goals of issue 9 (this run):", ""] + goals
    return "\n".join(lines) + "\n"


def goal_lines(results: dict[str, dict], base: float) -> list[str]:
    out = []
    spyne = results.get("spyne", {}).get("rate")

    def goal(text: str, ok: bool) -> None:
        out.append(f"- {'met' if ok else 'NOT met'}: {text}")

    for name, need in (("queued-sqlite", 0.5), ("queued-postgres", 0.35), ("sync-sqlite", 0.3), ("geef-sqlite", 0.5)):
        if name in results:
            goal(f"{name} ≥ {need} × floor ({results[name]['rate'] / base:.2f})", results[name]["rate"] / base >= need)
    for name, need in (("queued-sqlite", 2.0), ("sync-sqlite", 1.5)):
        if name in results and spyne:
            goal(f"{name} ≥ {need} × spyne ({results[name]['rate'] / spyne:.2f})", results[name]["rate"] / spyne >= need)
    for name in ("queued-sqlite", "queued-postgres"):
        r = results.get(name, {})
        if r.get("drain") is not None:
            goal(f"{name} drain ≥ its intake ({r['drain']:,.0f} vs {r['rate']:,.0f} msg/s)", r["drain"] >= r["rate"])
    for name in ("queued-sqlite", "queued-postgres"):
        r = results.get(name, {})
        if "half" in r:
            goal(f"{name} p99 ≤ 25 ms at half its rate ({r['half']['p99']:.1f} ms at {r['half']['rate']:,.0f} msg/s)",
                 r["half"]["p99"] <= 25)
    brokers = {n: r for n, r in results.items() if n != "spyne"}
    if brokers:
        slowest = max(r["startup"] for r in brokers.values())
        goal(f"start-up ≤ 2 s (slowest {slowest:.1f} s)", slowest <= 2)
        largest = max(r["rss"] for r in brokers.values())
        goal(f"RSS ≤ 150 MB per worker (largest {largest:.0f} MB)", largest <= 150)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default=",".join(SERVERS), help=f"comma-separated, from {', '.join(SERVERS)}")
    parser.add_argument("--seconds", type=float, default=10, help="measurement per server")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up per server, seconds")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--generator", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--floor-seconds", type=float, default=1.0, help="length of one floor sample")
    parser.add_argument("--sizes", default="2k,10k,100k,1m,10m", help="message sizes for the size table, or none")
    parser.add_argument("--no-half-rate", dest="half_rate", action="store_false",
                        help="skip the open-loop latency run at half the rate reached")
    parser.add_argument("--no-drain", dest="drain", action="store_false", help="skip the drain after queued runs")
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--out", type=Path, default=None, help="report file (default bench/results/intake-<date>.md)")
    args = parser.parse_args()
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = [s for s in servers if s not in SERVERS]
    if unknown:
        parser.error(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(SERVERS)}")
    started = datetime.now(UTC)
    args.loadavg = os.getloadavg()
    run = uuid.uuid4().hex[:6].upper()
    schemas = SchemaSet(DEFAULT_XSD_DIR)
    creeer = msgs.creeer_zaak()
    message_size = len(msgs.fill(creeer, f"M{run}100000001", f"M{run}100000001"))
    floor = Floor(schemas, creeer, run, args.floor_seconds)
    geef_floor = Floor(schemas, msgs.geef_zaakdetails(), run, args.floor_seconds / 4)
    print(f"machine: {describe()}")
    print(f"message: {message_size:,} bytes; servers: {args.servers}", flush=True)

    def sample_floor() -> None:
        us = floor.sample()
        geef_floor.sample()
        print(f"  floor sample: {us:.0f} µs ({1e6 / us:,.0f} msg/s)", flush=True)

    results: dict[str, dict] = {}
    failed: dict[str, str] = {}
    sizes: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="stuf-bench-") as tmpdir:
        tmp = Path(tmpdir)
        load = Load(args, tmp)
        print(f"load generator: {load.name}", flush=True)
        if not load.use_wrk:
            print(f"warning: {NO_WRK}", flush=True)
        sample_floor()
        # spyne again after the broker's servers: the machine's speed drifts while they run
        again = ["spyne"] if "spyne" in servers and len(servers) > 1 else []
        spyne_samples: list[dict] = []
        for name in servers + again:
            print(f"{name}{' again' if name == 'spyne' and spyne_samples else ''} ...", flush=True)
            try:
                r = run_server(name, args, load, run, tmp)
                if name == "spyne":
                    spyne_samples.append(r)
                results[name] = combined(spyne_samples) if name == "spyne" else r
            except Exception as exc:  # one server failing must not lose the others' figures
                failed[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                print(f"  FAILED: {exc}", flush=True)
                sample_floor()
                continue
            print(f"  {r['rate']:,.0f} msg/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
                  f"{r['cpu_us']:,.0f} µs CPU/request"
                  + (f" (+{r['pg_cpu_us']:,.0f} in PostgreSQL)" if "pg_cpu_us" in r else "")
                  + f", start-up {fmt(r['startup'], '.1f')} s"
                  + (f", p99 {r['half']['p99']:.1f} ms at {r['half']['rate']:,.0f} msg/s" if "half" in r else "")
                  + (f", drain {r['drain']:,.0f} msg/s" if r.get("drain") is not None else ""), flush=True)
            sample_floor()
        if args.sizes != "none":
            print("sizes ...", flush=True)
            sizes = run_sizes(args, schemas, run, tmp)
            sample_floor()
    text = report(args, load, floor, geef_floor, results, sizes, message_size, started)
    if failed:
        text += "\nFailed in this run: " + "; ".join(f"{n} ({e})" for n, e in failed.items()) + "\n"
    out = args.out or BENCH / "results" / f"intake-{started:%Y-%m-%d-%H%M}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print()
    print(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
