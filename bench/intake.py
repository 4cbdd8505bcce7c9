"""Benchmark: queued Lk01 intake and drain, on SQLite and PostgreSQL, against the parse+validate floor.

    python bench/intake.py [--messages 3000] [--connections 16] [--backends sqlite,postgres]

What it measures, all in one run on this machine:

1. floor: lxml parse of the SOAP envelope plus XSD validation of the StUF body, in one process,
   without HTTP or a database (what any validating broker must spend per message);
2. intake: `stuf-broker serve --workers 2` (uvicorn, httptools) receives creeerZaak Lk01 messages that
   routes.yaml queues for the embedded zaaksysteem: HTTP, parsing, stuurgegevens checks, duplicate check,
   validation, the message and its delivery stored durably, Bv03 answered. No worker runs meanwhile.
   Reported: msg/s, p50/p99 latency, and msg/s as a ratio of the floor;
3. drain: two `stuf-broker worker` processes deliver the queued messages (each creates its zaak in
   the embedded zaaksysteem); reported as msg/s.

The load generator is wrk (Debian package ``wrk``) with a Lua script that gives every request its own
referentienummer and zaak identificatie; without wrk, an asyncio + httpx generator (which itself costs
much of a core). Either runs on the same cores as the broker and PostgreSQL; ratios are what to compare
between runs and machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import yaml
from machine import describe  # bench/ is on sys.path when a script here runs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from broker.config import DEFAULT_XSD_DIR  # noqa: E402
from broker.stuf import xmlsafe  # noqa: E402
from broker.stuf.schemas import SchemaSet  # noqa: E402

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
ZDS_ACTION = "http://www.stufstandaarden.nl/koppelvlak/zds0120/creeerZaak_ZakLk01"
NS = ('xmlns:StUF="http://www.egem.nl/StUF/StUF0301" xmlns:ZKN="http://www.egem.nl/StUF/sector/zkn/0310" '
      'xmlns:ZDS="http://www.stufstandaarden.nl/koppelvlak/zds0120" xmlns:BG="http://www.egem.nl/StUF/sector/bg/0310" '
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')


def message(i: int, run: str, ref: str | None = None, ident: str | None = None) -> bytes:
    """A creeerZaak of about 7 KB: a zaak with kenmerk, initiator, belanghebbenden and tijdvakken."""
    ref = ref or f"B{run}{i:08d}"
    ident = ident or f"1234B{run}{i:07d}"
    extra_belanghebbenden = "".join(
        '<ZKN:heeftAlsBelanghebbende StUF:entiteittype="ZAKBTRBLH" StUF:verwerkingssoort="T"><ZKN:gerelateerde>'
        f'<ZKN:medewerker StUF:entiteittype="MDW" StUF:verwerkingssoort="I"><ZKN:identificatie>1234MW{n:04d}</ZKN:identificatie>'
        "<ZKN:achternaam>Achternaam</ZKN:achternaam><ZKN:voorletters>A.B.</ZKN:voorletters></ZKN:medewerker></ZKN:gerelateerde>"
        "<ZKN:omschrijving>Belanghebbende bij de aanvraag</ZKN:omschrijving><ZKN:toelichting>Aangemeld via het loket</ZKN:toelichting>"
        "<StUF:tijdvakRelatie><StUF:beginRelatie>20260101</StUF:beginRelatie><StUF:eindRelatie StUF:noValue=\"geenWaarde\" xsi:nil=\"true\"/></StUF:tijdvakRelatie>"
        "</ZKN:heeftAlsBelanghebbende>" for n in range(8)
    )
    body = (
        f"<ZDS:creeerZaak_ZakLk01 {NS}><ZKN:stuurgegevens><StUF:berichtcode>Lk01</StUF:berichtcode>"
        "<StUF:zender><StUF:organisatie>1234</StUF:organisatie><StUF:applicatie>BENCH</StUF:applicatie></StUF:zender>"
        "<StUF:ontvanger><StUF:organisatie>1234</StUF:organisatie><StUF:applicatie>STUFBROKER</StUF:applicatie></StUF:ontvanger>"
        f"<StUF:referentienummer>{ref}</StUF:referentienummer><StUF:tijdstipBericht>20261129120000000</StUF:tijdstipBericht>"
        "<StUF:entiteittype>ZAK</StUF:entiteittype></ZKN:stuurgegevens>"
        "<ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername></ZKN:parameters>"
        '<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="T">'
        f"<ZKN:identificatie>{ident}</ZKN:identificatie><ZKN:omschrijving>Aanvraag schuldhulpverlening</ZKN:omschrijving>"
        "<ZKN:toelichting>Aanvraag ingediend via het e-formulier, met bijlagen over inkomsten en schulden</ZKN:toelichting>"
        "<ZKN:kenmerk><ZKN:kenmerk>FORM-2026-000123</ZKN:kenmerk><ZKN:bron>e-formulier</ZKN:bron></ZKN:kenmerk>"
        "<ZKN:startdatum>20261129</ZKN:startdatum><ZKN:registratiedatum>20261129</ZKN:registratiedatum>"
        "<ZKN:einddatumGepland>20270301</ZKN:einddatumGepland><ZKN:zaakniveau>1</ZKN:zaakniveau>"
        "<ZKN:deelzakenIndicatie>N</ZKN:deelzakenIndicatie>"
        "<StUF:tijdvakGeldigheid><StUF:beginGeldigheid>20261129</StUF:beginGeldigheid>"
        '<StUF:eindGeldigheid StUF:noValue="geenWaarde" xsi:nil="true"/></StUF:tijdvakGeldigheid>'
        "<StUF:tijdstipRegistratie>20261129120000000</StUF:tijdstipRegistratie>"
        '<ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="T"><ZKN:gerelateerde StUF:entiteittype="ZKT" StUF:verwerkingssoort="I">'
        "<ZKN:omschrijving>Schuldhulpverlening</ZKN:omschrijving><ZKN:code>SHV</ZKN:code></ZKN:gerelateerde></ZKN:isVan>"
        f"{extra_belanghebbenden}"
        '<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI" StUF:verwerkingssoort="T"><ZKN:gerelateerde>'
        '<ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="I"><BG:inp.bsn>111222333</BG:inp.bsn>'
        "<BG:geslachtsnaam>Jansen</BG:geslachtsnaam><BG:voorletters>J.</BG:voorletters></ZKN:natuurlijkPersoon></ZKN:gerelateerde>"
        "</ZKN:heeftAlsInitiator></ZKN:object></ZDS:creeerZaak_ZakLk01>"
    )
    return ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            f"{body}</soapenv:Body></soapenv:Envelope>").encode()


def floor(messages: list[bytes], schemas: SchemaSet) -> float:
    """Messages per second for parse + validate alone, one process."""
    for msg in messages[:50]:  # warm up
        schemas.issues(xmlsafe.parse(msg)[0][0])
    start = time.perf_counter()
    for msg in messages:
        env = xmlsafe.parse(msg)
        body = env[0][0]
        assert not schemas.issues(body)
    return len(messages) / (time.perf_counter() - start)


async def load(url: str, messages: list[bytes], connections: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for m in messages:
        queue.put_nowait(m)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                t = time.perf_counter()
                r = await client.post(url, content=body, headers={"Content-Type": "text/xml; charset=utf-8",
                                                                 "SOAPAction": f'"{ZDS_ACTION}"'})
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200 or b"Bv03Bericht" not in r.content:
                    raise RuntimeError(f"unexpected answer {r.status_code}: {r.text[:300]}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return len(messages) / (time.perf_counter() - start), latencies


WRK_LUA = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  prefix, middle, suffix, action = args[1], args[2], args[3], args[4]
  counter = 0
  failures = 0
end
function request()
  counter = counter + 1
  local n = string.format("%d%08d", tid, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "text/xml; charset=utf-8", ["SOAPAction"] = action},
                    prefix .. n .. middle .. n .. suffix)
end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, "Bv03Bericht", 1, true) then failures = failures + 1 end
end
function done(summary, latency, requests)
  local f = 0
  for _, t in ipairs(threads) do f = f + t:get("failures") end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%f p50=%f p99=%f failures=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    f, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def load_wrk(url: str, run: str, connections: int, seconds: int, tmp: Path) -> tuple[float, float, float, int]:
    """(msg/s, p50 ms, p99 ms, requests) measured by wrk; every request is a new creeerZaak."""
    template = message(0, run, ref="@REF@", ident="@ID@").decode()
    prefix, rest = template.split("@REF@")
    middle, suffix = rest.split("@ID@")
    script = tmp / "intake.lua"
    script.write_text(WRK_LUA)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), url,
         "--", prefix + "W" + run, middle + "1234W" + run, suffix, f'"{ZDS_ACTION}"'],
        capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    fields = dict(kv.split("=") for kv in line.split()[1:])
    if int(fields["failures"]) or int(fields["errors"]):
        raise RuntimeError(f"wrk saw failures: {line}\n{out}")
    n = int(fields["requests"])
    return n / float(fields["seconds"]), float(fields["p50"]), float(fields["p99"]), n


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MB (Linux /proc)."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def count_delivered(db_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM deliveries WHERE state = 'delivered'")).scalar_one()
    engine.dispose()
    return n


def run_id(messages: list[bytes]) -> str:
    """The run id baked into the generated messages (their referentienummers are B<run><n>)."""
    text = messages[0].decode()
    start = text.index("<StUF:referentienummer>B") + len("<StUF:referentienummer>B")
    return text[start:start + 6]


def run_backend(name: str, db_url: str, messages: list[bytes], connections: int, tmp: Path,
                seconds: int = 10) -> dict:
    config = tmp / f"config-{name}"
    config.mkdir()
    shutil.copy(REPO / "config" / "zaaktypecatalogus.yaml", config)
    broker_yaml = yaml.safe_load((REPO / "config" / "broker.yaml").read_text())
    broker_yaml["log_format"] = "json"
    (config / "broker.yaml").write_text(yaml.safe_dump(broker_yaml))
    (config / "routes.yaml").write_text(yaml.safe_dump({
        "targets": {"zaaksysteem": {"adapter": "embedded"}},
        "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zaaksysteem", "mode": "queued"}]},
                   {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]}],
        "delivery": {"worker_in_serve": False, "poll_seconds": 0.05, "batch_size": 50},
    }))
    env = dict(os.environ, STUF_BROKER_DATABASE_URL=db_url, STUF_BROKER_DATA_DIR=str(tmp / f"var-{name}"))
    port = 18000 + os.getpid() % 1000
    log = open(tmp / f"serve-{name}.log", "wb")  # noqa: SIM115
    serve = subprocess.Popen([sys.executable, "-m", "broker", "serve", "--config", str(config), "--port", str(port),
                              "--workers", "2"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}/zds/OntvangAsynchroon"
        asyncio.run(load(url, messages[:200], connections))  # warm up
        if shutil.which("wrk"):
            rate, p50, p99, sent = load_wrk(url, run_id(messages), connections, seconds, tmp)
            generator = "wrk"
        else:
            rate, latencies = asyncio.run(load(url, messages[200:], connections))
            p50, p99, sent, generator = pct(latencies, 50), pct(latencies, 99), len(latencies), "httpx"
        rss = peak_rss_mb(serve.pid)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
        log.close()
    workers = []
    start = time.perf_counter()
    for i in range(2):
        wlog = open(tmp / f"worker-{name}-{i}.log", "wb")  # noqa: SIM115
        workers.append((subprocess.Popen([sys.executable, "-m", "broker", "worker", "--config", str(config)],
                                         cwd=REPO, env=env, stdout=wlog, stderr=subprocess.STDOUT), wlog))
    try:
        total = sent + 200
        while count_delivered(db_url) < total:
            if time.perf_counter() - start > 600:
                raise RuntimeError("drain did not finish in 10 minutes")
            time.sleep(0.2)
        drain = total / (time.perf_counter() - start)
    finally:
        for proc, wlog in workers:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            wlog.close()
    return {"intake": rate, "p50": p50, "p99": p99, "drain": drain, "measured": sent, "generator": generator,
            "rss": rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000, help="for the floor (and the httpx generator)")
    parser.add_argument("--seconds", type=int, default=10, help="intake measurement per backend (wrk)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    run = uuid.uuid4().hex[:6].upper()
    messages = [message(i, run) for i in range(args.messages)]
    schemas = SchemaSet(DEFAULT_XSD_DIR)
    base = floor(messages, schemas)
    size = sum(len(m) for m in messages) / len(messages)
    print(f"machine: {describe()}")
    print(f"messages: {args.messages} creeerZaak Lk01 of {size / 1024:.1f} KB, {args.connections} connections, "
          "2 server processes, 2 worker processes")
    print(f"floor (lxml parse + XSD validation, 1 process): {base:8.0f} msg/s")
    results = {}
    with tempfile.TemporaryDirectory(prefix="stuf-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results[backend] = run_backend(backend, f"sqlite:///{tmp / 'bench.db'}", messages, args.connections, tmp,
                                               args.seconds)
            elif backend == "postgres":
                schema = "bench_" + run.lower()
                with psycopg.connect(PG_DSN, autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
                try:
                    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
                    results[backend] = run_backend(backend, url, messages, args.connections, tmp, args.seconds)
                finally:
                    with psycopg.connect(PG_DSN, autocommit=True) as conn:
                        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            else:
                raise SystemExit(f"unknown backend {backend}")
    print()
    print("| backend | intake msg/s | ratio to floor | p50 ms | p99 ms | drain msg/s | server peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for backend, r in results.items():
        print(f"| {backend} | {r['intake']:.0f} | {r['intake'] / base:.2f} | {r['p50']:.1f} | {r['p99']:.1f} | "
              f"{r['drain']:.0f} | {r['rss']:.0f} |")
    first = next(iter(results.values()))
    print(f"\nratio = intake msg/s / floor msg/s; load generator {first['generator']}; "
          + ", ".join(f"{b}: {r['measured']} requests" for b, r in results.items()))


if __name__ == "__main__":
    main()
