"""Benchmark: the dashboard's message list with 1,000,000 stored messages, on SQLite and PostgreSQL.

    python bench/message_list.py [--messages 1000000] [--requests 40] [--backends sqlite,postgres]

For each backend, in one run on this machine:

1. generate the message log: 1,000,000 ``messages`` rows spread over 30 days, operations, zenders,
   states and outcomes as a municipality sees them (bulk inserted: executemany on SQLite, COPY on
   PostgreSQL, plain indexes built afterwards), payloads and deliveries for a small part only;
2. start ``stuf-broker serve`` on it and sign in as an operator;
3. measure over HTTP, one request at a time (keep-alive): the first page, filtered pages (state,
   operation, zender, berichtcode, zaak, referentienummer, a day's time range), a deep keyset page
   (900,000 messages in), the detail of one message with its XML, case model and deliveries, and the
   overview;
4. baselines measured in the same run: the ``/healthz`` round trip, and the same page's SQL run
   directly by this process on the same database.

Reported per page: p50 and p95 in ms, the SQL alone (p50), and the ratio p50 / (healthz p50 + SQL p50):
1.0 would mean the page costs its query plus an empty HTTP round trip and nothing else (the rest is
rendering, the session lookup and, for the detail, parsing and highlighting the XML). The budget is
a p95 under 250 ms for every list page.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psycopg
import yaml
from machine import describe  # bench/ is on sys.path when a script here runs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from broker.store import migrate  # noqa: E402
from broker.store.db import Database  # noqa: E402
from broker.store.tables import Message, MessagePayload  # noqa: E402
from broker.web.dashboard import auth, messagelist  # noqa: E402
from broker.web.dashboard.messagelist import MessageFilters  # noqa: E402

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
BUDGET_P95_MS = 250.0
PASSWORD = "benchmark password"
DAYS = 30
#: (operation, berichtcode, port, weight)
OPERATIONS = [
    ("creeerZaak", "Lk01", "OntvangAsynchroon", 14), ("updateZaak", "Lk01", "OntvangAsynchroon", 18),
    ("actualiseerZaakstatus", "Lk01", "OntvangAsynchroon", 16), ("voegZaakdocumentToe", "Lk01", "OntvangAsynchroon", 12),
    ("geefZaakdetails", "Lv01", "BeantwoordVraag", 18), ("geefZaakstatus", "Lv01", "BeantwoordVraag", 8),
    ("geefLijstZaakdocumenten", "Lv01", "BeantwoordVraag", 6), ("genereerZaakIdentificatie", "Di02",
                                                                 "VerwerkSynchroonVrijBericht", 5),
    ("voegBesluitToe", "Di01", "OntvangAsynchroon", 2), ("geefZaakdocumentLezen", "Lv01", "BeantwoordVraag", 1),
]
#: zender applicatie and weight: a few big senders and a long tail
ZENDERS = [("FORMS", 30), ("KCC", 22), ("SCHULDHULP", 18), ("GIS", 10), ("BURGERZAKEN", 8), ("VTH", 6),
           ("PARKEREN", 4), ("WMO", 1.5), ("ARCHIEF", 0.5)]
STATES = [("done", 97.0), ("queued", 1.5), ("dead", 0.5), ("partial", 1.0)]
COLUMNS = ["received_at", "port", "operation", "dialect", "soap_version", "soap_action", "berichtcode",
           "answer_berichtcode", "zender_organisatie", "zender_applicatie", "ontvanger_organisatie",
           "ontvanger_applicatie", "referentienummer", "tijdstip_bericht", "dedupe_key", "request_hash",
           "zaak_identificatie", "outcome", "state", "foutcode", "fout_plek", "fout_omschrijving", "http_status",
           "duration_ms", "attempts", "replays", "request_size", "answer_size"]


# -- generating ---------------------------------------------------------------------------------
def _picker(items: list[tuple]) -> list:
    """A list to sample from with the given weights (the last field of each item)."""
    out = []
    for item in items:
        out.extend([item] * max(1, int(item[-1] * 10)))
    return out


def rows(n: int, now: datetime, seed: int = 11):  # a generator of tuples in COLUMNS order
    rnd = random.Random(seed)
    ops, zenders, states = _picker(OPERATIONS), _picker(ZENDERS), _picker(STATES)
    start = now - timedelta(days=DAYS)
    step = DAYS * 86400 / n
    for i in range(n):
        at = start + timedelta(seconds=i * step + rnd.random() * step)
        op, code, port, _ = rnd.choice(ops)
        zender = rnd.choice(zenders)[0]
        fault = rnd.random() < 0.02
        state = "done" if fault or code in ("Lv01", "Di02") else rnd.choice(states)[0]
        ref = f"{zender[:3]}{i:010d}"
        zaak = None if op == "genereerZaakIdentificatie" else f"0363{(i * 7919) % 200_000:010d}"
        yield (at, port, op, "zds", "1.1", f"http://www.stufstandaarden.nl/koppelvlak/zds0120/{op}", code,
               "Fo02" if fault else {"Lk01": "Bv03", "Di01": "Bv03", "Lv01": "La01", "Di02": "Du02"}[code],
               "0363", zender, "0363", "STUFBROKER", ref, at.strftime("%Y%m%d%H%M%S%f")[:17],
               f"0363|{zender}||{ref}", hashlib.sha256(ref.encode()).hexdigest(), zaak,
               "fault" if fault else "ok", state, "StUF055" if fault else None, "client" if fault else None,
               "Het bericht voldoet niet aan het schema" if fault else None, 500 if fault else 200,
               round(rnd.lognormvariate(1.3, 0.6), 3), 1, 0, rnd.randint(2000, 9000), rnd.randint(600, 3000))


def request_xml(i: int) -> bytes:
    body = (
        '<ZDS:creeerZaak_ZakLk01 xmlns:StUF="http://www.egem.nl/StUF/StUF0301" '
        'xmlns:ZKN="http://www.egem.nl/StUF/sector/zkn/0310" xmlns:ZDS="http://www.stufstandaarden.nl/koppelvlak/zds0120" '
        'xmlns:BG="http://www.egem.nl/StUF/sector/bg/0310"><ZKN:stuurgegevens><StUF:berichtcode>Lk01</StUF:berichtcode>'
        "<StUF:zender><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>FORMS</StUF:applicatie></StUF:zender>"
        "<StUF:ontvanger><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>STUFBROKER</StUF:applicatie></StUF:ontvanger>"
        f"<StUF:referentienummer>PAY{i:010d}</StUF:referentienummer><StUF:tijdstipBericht>20261129120000000</StUF:tijdstipBericht>"
        "<StUF:entiteittype>ZAK</StUF:entiteittype></ZKN:stuurgegevens><ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort>"
        "<StUF:indicatorOvername>V</StUF:indicatorOvername></ZKN:parameters>"
        '<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="T">'
        f"<ZKN:identificatie>0363{i:010d}</ZKN:identificatie><ZKN:omschrijving>Aanvraag schuldhulpverlening</ZKN:omschrijving>"
        "<ZKN:startdatum>20261129</ZKN:startdatum><ZKN:registratiedatum>20261129</ZKN:registratiedatum>"
        "<ZKN:zaakniveau>1</ZKN:zaakniveau><ZKN:deelzakenIndicatie>N</ZKN:deelzakenIndicatie>"
        '<ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="T"><ZKN:gerelateerde StUF:entiteittype="ZKT" '
        'StUF:verwerkingssoort="I"><ZKN:omschrijving>Schuldhulpverlening</ZKN:omschrijving><ZKN:code>SHV</ZKN:code>'
        "</ZKN:gerelateerde></ZKN:isVan>"
        '<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI" StUF:verwerkingssoort="T"><ZKN:gerelateerde>'
        '<ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="I"><BG:inp.bsn>111222333</BG:inp.bsn>'
        "<BG:geslachtsnaam>Jansen</BG:geslachtsnaam><BG:voorletters>J.</BG:voorletters><BG:verblijfsadres>"
        "<BG:wpl.woonplaatsNaam>Amsterdam</BG:wpl.woonplaatsNaam><BG:gor.straatnaam>Dam</BG:gor.straatnaam>"
        "<BG:aoa.postcode>1012JS</BG:aoa.postcode><BG:aoa.huisnummer>1</BG:aoa.huisnummer></BG:verblijfsadres>"
        "</ZKN:natuurlijkPersoon></ZKN:gerelateerde></ZKN:heeftAlsInitiator></ZKN:object></ZDS:creeerZaak_ZakLk01>"
    )
    return ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            f"{body}</soapenv:Body></soapenv:Envelope>").encode()


ANSWER = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
          b'<StUF:Bv03Bericht xmlns:StUF="http://www.egem.nl/StUF/StUF0301"><StUF:stuurgegevens>'
          b"<StUF:berichtcode>Bv03</StUF:berichtcode></StUF:stuurgegevens></StUF:Bv03Bericht></soapenv:Body>"
          b"</soapenv:Envelope>")


def _extras(db: Database, n: int, now: datetime) -> int:
    """Payloads for one message in a thousand (creeerZaak with a person), each with a delivery and an
    attempt; a dead delivery for every dead message. Returns the id of a message with a payload."""
    from sqlalchemy import insert, select

    from broker.queue.tables import Delivery, DeliveryAttempt

    with db.write() as s:
        ids = [i for (i,) in s.execute(select(Message.id).where(Message.id % 1000 == 7))]
        dead = [i for (i,) in s.execute(select(Message.id).where(Message.state == "dead"))]
        s.execute(insert(MessagePayload.__table__), [
            {"message_id": i, "request": request_xml(i), "request_content_type": "text/xml; charset=utf-8",
             "answer": ANSWER, "answer_content_type": "text/xml; charset=utf-8"} for i in ids])
        deliveries = [{"message_id": i, "target": "zaaksysteem", "mode": "sync", "primary": True, "operation": "creeerZaak",
                       "state": "delivered", "attempts": 1, "created_at": now, "age_from": now, "next_attempt_at": now,
                       "finished_at": now} for i in ids]
        deliveries += [{"message_id": i, "target": "archief", "mode": "queued", "primary": False, "operation": None,
                        "state": "dead", "attempts": 12, "created_at": now, "age_from": now, "next_attempt_at": now,
                        "finished_at": now, "last_error": "HTTP 503 from the archief"} for i in dead]
        s.execute(insert(Delivery.__table__), deliveries)
        first = s.execute(select(Delivery.id).where(Delivery.message_id == ids[len(ids) // 2])).scalar_one()
        s.execute(insert(DeliveryAttempt.__table__), [{"delivery_id": first, "number": 1, "worker": "intake",
                                                       "started_at": now, "finished_at": now, "outcome": "delivered",
                                                       "duration_ms": 3.2}])
    return ids[len(ids) // 2]


def fill_sqlite(url: str, n: int, now: datetime) -> int:
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    path = url.split("///", 1)[1]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    indexes = [sql for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name='messages' AND sql IS NOT NULL")]
    for sql in indexes:
        conn.execute("DROP INDEX " + re.search(r"INDEX (\S+)", sql).group(1))
    placeholders = ",".join("?" * len(COLUMNS))
    stmt = f"INSERT INTO messages ({','.join(COLUMNS)}) VALUES ({placeholders})"
    batch = []
    for row in rows(n, now):
        batch.append((row[0].strftime("%Y-%m-%d %H:%M:%S.%f"),) + row[1:])
        if len(batch) == 50_000:
            conn.executemany(stmt, batch)
            batch.clear()
    conn.executemany(stmt, batch)
    conn.commit()
    for sql in indexes:
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    db = Database(url)
    try:
        return _extras(db, n, now)
    finally:
        db.dispose()


def fill_postgres(url: str, schema: str, n: int, now: datetime) -> int:
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}")
        indexes = [r[0] for r in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = 'messages' "
            "AND indexname LIKE 'ix_%%'", (schema,))]
        for sql in indexes:
            conn.execute(f"DROP INDEX {schema}." + re.search(r"INDEX (\S+)", sql).group(1))
        with conn.cursor() as cur, cur.copy(f"COPY messages ({','.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows(n, now):
                copy.write_row(row)
        for sql in indexes:
            conn.execute(sql)
        conn.execute("VACUUM ANALYZE messages")
    db = Database(url)
    try:
        return _extras(db, n, now)
    finally:
        db.dispose()


# -- measuring ----------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def timed(fn, count: int) -> list[float]:
    for _ in range(3):
        fn()
    out = []
    for _ in range(count):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def deep_cursor(db: Database, n: int) -> str:
    from sqlalchemy import select

    with db.read() as s:
        row = s.execute(select(Message.received_at, Message.id).order_by(Message.received_at.desc(), Message.id.desc())
                        .offset(int(n * 0.9)).limit(1)).one()
    return messagelist.encode_cursor(row[0], row[1])


def sample_values(db: Database, n: int) -> dict[str, str]:
    from sqlalchemy import select

    with db.read() as s:
        zaak, ref = s.execute(select(Message.zaak_identificatie, Message.referentienummer)
                              .where(Message.zaak_identificatie.is_not(None)).order_by(Message.id.desc())
                              .offset(n // 8).limit(1)).one()
    return {"zaak": zaak, "referentienummer": ref}


def scenarios(db: Database, n: int, now: datetime) -> list[tuple[str, dict[str, str]]]:
    values = sample_values(db, n)
    day = (now - timedelta(days=10)).date()
    return [
        ("first page", {}),
        ("state=dead", {"state": "dead"}),
        ("operation=updateZaak", {"operation": "updateZaak"}),
        ("zender=ARCHIEF (0.5 %)", {"zender": "ARCHIEF"}),
        ("berichtcode=Di02", {"berichtcode": "Di02"}),
        ("zaak", {"zaak": values["zaak"]}),
        ("referentienummer", {"referentienummer": values["referentienummer"]}),
        ("one day, 10 days ago", {"since": day.isoformat(), "until": day.isoformat()}),
        (f"deep keyset page ({int(n * 0.9):,} in)", {"after": deep_cursor(db, n)}),
        ("state=queued, deep page", {"state": "queued", "after": deep_cursor(db, n)}),
    ]


def start_server(tmp: Path, name: str, url: str) -> tuple[subprocess.Popen, str, Path]:
    config = tmp / f"config-{name}"
    config.mkdir()
    (config / "zaaktypecatalogus.yaml").write_text((REPO / "config" / "zaaktypecatalogus.yaml").read_text())
    broker_yaml = yaml.safe_load((REPO / "config" / "broker.yaml").read_text())
    broker_yaml["log_format"] = "json"
    (config / "broker.yaml").write_text(yaml.safe_dump(broker_yaml))
    (config / "routes.yaml").write_text(yaml.safe_dump({
        "targets": {"zaaksysteem": {"adapter": "embedded"}},
        "routes": [{"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]}],
        "delivery": {"worker_in_serve": False},
    }))
    env = dict(os.environ, STUF_BROKER_DATABASE_URL=url, STUF_BROKER_DATA_DIR=str(tmp / f"var-{name}"))
    port = 18500 + os.getpid() % 400
    log = open(tmp / f"serve-{name}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "broker", "serve", "--config", str(config), "--port", str(port),
                             "--workers", "1"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base, tmp / f"serve-{name}.log"
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"broker did not start; see {tmp / f'serve-{name}.log'}")


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base + "/dashboard", timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in failed: {r.status_code}")
    return client


def measure(name: str, url: str, n: int, requests: int, now: datetime, tmp: Path, detail_id: int) -> list[dict]:
    db = Database(url)
    with db.write() as s:
        auth.add_user(s, "bench", "operator", PASSWORD)
    proc, base, _log = start_server(tmp, name, url)
    results = []
    try:
        client = signed_in(base)
        health = httpx.Client(base_url=base, timeout=30)
        healthz = timed(lambda: health.get("/healthz"), requests * 2)
        h50 = pct(healthz, 50)
        results.append({"page": "/healthz (baseline)", "p50": h50, "p95": pct(healthz, 95), "sql": None, "rows": None})
        for label, params in scenarios(db, n, now):
            after = params.pop("after", None)
            filters = MessageFilters(**params)
            query = urlencode(dict(params, **({"after": after} if after else {})))

            def page() -> int:
                r = client.get("/messages?" + query)
                if r.status_code != 200:
                    raise RuntimeError(f"{label}: HTTP {r.status_code}")
                return r.text.count('<tr class="')

            def sql() -> None:
                with db.read() as s:
                    list(s.execute(messagelist.query(filters, after=after, limit=messagelist.PAGE)))

            shown = page()
            http = timed(page, requests)
            direct = timed(sql, requests)
            results.append({"page": label, "p50": pct(http, 50), "p95": pct(http, 95), "sql": pct(direct, 50),
                            "rows": shown, "list": True})

        def detail() -> None:
            r = client.get(f"/messages/{detail_id}")
            if r.status_code != 200 or "Jansen" not in r.text:
                raise RuntimeError(f"detail: HTTP {r.status_code}")

        def detail_sql() -> None:
            from sqlalchemy import select

            from broker.queue.tables import Delivery, DeliveryAttempt

            with db.read() as s:
                s.get(Message, detail_id)
                s.get(MessagePayload, detail_id)
                for d in s.execute(select(Delivery).where(Delivery.message_id == detail_id)).scalars():
                    list(s.execute(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id)))

        http = timed(detail, requests)
        results.append({"page": "message detail (XML, case model, deliveries)", "p50": pct(http, 50),
                        "p95": pct(http, 95), "sql": pct(timed(detail_sql, requests), 50), "rows": None})
        http = timed(lambda: client.get("/"), max(5, requests // 4))
        results.append({"page": "overview (charts over the last day)", "p50": pct(http, 50), "p95": pct(http, 95),
                        "sql": None, "rows": None})
        client.close()
        health.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        db.dispose()
    for r in results:
        base_ms = h50 + (r["sql"] or 0)
        r["ratio"] = r["p50"] / base_ms if r["page"] != "/healthz (baseline)" else 1.0
    return results


def report(backend: str, results: list[dict], fill_s: float, n: int) -> bool:
    print(f"\n{backend}: {n:,} messages generated in {fill_s:.0f} s")
    print("| page | rows | p50 ms | p95 ms | SQL alone p50 ms | ratio to healthz + SQL |")
    print("|---|---|---|---|---|---|")
    ok = True
    for r in results:
        sql = f"{r['sql']:.2f}" if r["sql"] is not None else ""
        rows = "" if r["rows"] is None else str(r["rows"])
        print(f"| {r['page']} | {rows} | {r['p50']:.1f} | {r['p95']:.1f} | {sql} | {r['ratio']:.1f} |")
        if r.get("list") and r["p95"] > BUDGET_P95_MS:
            ok = False
    print(f"budget (every list page p95 < {BUDGET_P95_MS:.0f} ms): {'met' if ok else 'NOT MET'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40, help="measured requests per page")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    now = datetime.now(UTC)
    print(f"machine: {describe()}")
    print(f"{args.messages:,} messages over {DAYS} days; {args.requests} sequential requests per page, one "
          "server process, signed in as an operator (each detail view is recorded in the access log)")
    ok = True
    with tempfile.TemporaryDirectory(prefix="stuf-bench-list-") as tmpdir:
        tmp = Path(tmpdir)
        for backend in args.backends.split(","):
            t = time.perf_counter()
            if backend == "sqlite":
                url = f"sqlite:///{tmp / 'list.db'}"
                detail_id = fill_sqlite(url, args.messages, now)
                fill_s = time.perf_counter() - t
                ok &= report(backend, measure(backend, url, args.messages, args.requests, now, tmp, detail_id),
                             fill_s, args.messages)
            elif backend == "postgres":
                schema = "bench_list_" + uuid.uuid4().hex[:8]
                with psycopg.connect(PG_DSN, autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
                try:
                    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
                    detail_id = fill_postgres(url, schema, args.messages, now)
                    fill_s = time.perf_counter() - t
                    ok &= report(backend, measure(backend, url, args.messages, args.requests, now, tmp, detail_id),
                                 fill_s, args.messages)
                finally:
                    with psycopg.connect(PG_DSN, autocommit=True) as conn:
                        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            else:
                raise SystemExit(f"unknown backend {backend}")
    print("\nratio = page p50 / (healthz p50 + the page's SQL p50 run directly); rows = messages on the page")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
