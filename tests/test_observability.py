"""Observability outside the browser, against ``stuf-broker serve`` run as operators run it (a process
of its own, its log going to a file, its metrics in prometheus_client's multiprocess mode):

- docs/ops/alerts.yml passes ``promtool check rules`` and its unit tests (tests/ops/alerts_test.yml);
- docs/ops/grafana-dashboard.json loads, its PromQL parses, and it names, like the alert rules, only
  metrics the running broker exports after real traffic;
- without a terminal serve logs one JSON object per line (exceptions included) with the expected
  keys, and no personal data of the messages it handled;
- a correlation id, the caller's (X-Correlation-ID, when valid) or the broker's, is answered, kept
  with the message and shown on its dashboard page, and reaches the worker's log lines and the
  targets (webhook, StUF forward, ZGW) as X-Correlation-ID.

One broker serves every test of this module: it is started once, sent its traffic once, and read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support import edge_messages as e
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.dashboard_site import PERSON, creeer_with_person
from tests.support.target import CountingTarget
from tests.support.webhook_receiver import WebhookReceiver

REPO = Path(__file__).resolve().parents[1]
OPS = REPO / "docs" / "ops"
ALERTS = OPS / "alerts.yml"
DASHBOARD = OPS / "grafana-dashboard.json"
ALERT_TESTS = REPO / "tests" / "ops" / "alerts_test.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus; "
                                                             "scripts/test installs it)")
CREEER = m.ZDS_ACTION + "creeerZaak_ZakLk01"
CALLERS_ID = "kcc-4f1c9e2a:7"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@dataclass
class Served:
    url: str
    log: Path
    database: Path
    hook: WebhookReceiver
    archief: CountingTarget
    metrics: str  # /metrics as scraped after the traffic
    #: the X-Correlation-ID answered to each request of the traffic
    correlation: dict[str, str]


def post(url: str, port: str, body: str, action: str | None = None, headers: dict[str, str] | None = None
         ) -> httpx.Response:
    h = {"Content-Type": "text/xml; charset=utf-8", **(headers or {})}
    if action:
        h["SOAPAction"] = f'"{action}"'
    return httpx.post(f"{url}/zds/{port}", content=e.envelope(body), headers=h, timeout=30)


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached within the timeout")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("observability")
    with contextlib.ExitStack() as stack:
        hook = stack.enter_context(WebhookReceiver())
        archief = CountingTarget().start()
        stack.callback(archief.stop)
        routes = {
            "targets": {"zs": {"adapter": "embedded"},
                        "hook": {"adapter": "webhook", "url": hook.url, "timeout": 5},
                        "archief": {"adapter": "stuf", "url": archief.url, "timeout": 5}},
            "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zs", "mode": "sync"},
                                                                  {"target": "hook", "mode": "queued"},
                                                                  {"target": "archief", "mode": "queued"}]},
                       {"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
            "delivery": fast_delivery(),
        }
        config = write_config(tmp, routes=routes)
        port = live.free_port()
        env = dict(os.environ, STUF_BROKER_DATABASE_URL=f"sqlite:///{tmp / 'broker.db'}",
                   STUF_BROKER_DATA_DIR=str(tmp / "var"))
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        log = tmp / "serve.log"
        with open(log, "wb") as out:  # not a terminal: log_format auto writes JSON
            proc = subprocess.Popen([sys.executable, "-m", "broker", "serve", "--config", str(config),
                                     "--port", str(port)], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT)
        stack.callback(_stop, proc)
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                return httpx.get(url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, 60)
        # traffic: a zaak with a person in it (delivered to both queued targets), a query, a fault; the
        # caller sends a correlation id with the first (valid), the second (a BSN: not taken) and the third
        # (not valid)
        correlation = {}
        r = post(url, "OntvangAsynchroon", creeer_with_person("1234OBS01"), CREEER, {"X-Correlation-ID": CALLERS_ID})
        assert r.status_code == 200 and b"Bv03" in r.content, r.text
        correlation["creeer"] = r.headers["x-correlation-id"]
        r = post(url, "BeantwoordVraag", m.geef_zaakdetails("1234OBS01"), headers={"X-Correlation-ID": PERSON["bsn"]})
        assert r.status_code == 200 and b"La01" in r.content, r.text
        correlation["query"] = r.headers["x-correlation-id"]
        invalid = m.creeer_zaak("1234OBS02").replace("<ZKN:zaakniveau>1</ZKN:zaakniveau>", "")
        r = post(url, "OntvangAsynchroon", invalid, CREEER, {"X-Correlation-ID": "not <valid> at all"})
        assert r.status_code == 500 and b"StUF055" in r.content, r.text
        correlation["fault"] = r.headers["x-correlation-id"]
        wait_until(lambda: hook.events(zaak="1234OBS01") and archief.applied_count == 1)
        # then the archive goes down: the next zaak (sent without a correlation id) waits for it, retried
        archief.down = True
        r = post(url, "OntvangAsynchroon", m.creeer_zaak("1234OBS03"), CREEER)
        assert r.status_code == 200 and b"Bv03" in r.content, r.text
        correlation["without"] = r.headers["x-correlation-id"]
        wait_until(lambda: hook.events(zaak="1234OBS03") and len(archief.received) >= 3)
        metrics = httpx.get(url + "/metrics", timeout=10).text
        yield Served(url, log, tmp / "broker.db", hook, archief, metrics, correlation)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- the names the broker exports ------------------------------------------------------------------
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"),
             "summary": ("", "_count", "_sum", "_created"), "gauge": ("",), "info": ("_info",),
             "untyped": ("",), "unknown": ("",)}


def exported_names(exposition: str) -> set[str]:
    """Every series name the exposition declares (also families that have no sample yet, such as a
    counter of invalid answers when there was none)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.update(family.name + suffix for suffix in _SUFFIXES[family.type])
        names.update(s.name for s in family.samples)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (parsed, not pattern-matched)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"a selector without a metric name in {expr!r}"
            found.add(node.name)
            return
        for attr in ("args", "expr", "lhs", "rhs", "param", "vector_selector"):
            child = getattr(node, attr, None)
            if child is not None:
                walk(child)

    walk(promql_parser.parse(expr))
    return found


#: Grafana's variables, as Grafana would put them in before the query goes to Prometheus
_GRAFANA_VARS = {"$__rate_interval": "1m", "$__interval": "30s", "$__range": "6h", "$target": ".*"}


def grafana_to_promql(expr: str) -> str:
    for var, value in _GRAFANA_VARS.items():
        expr = expr.replace(var, value)
    assert "$" not in expr, f"an unknown Grafana variable in {expr!r}"
    return expr


def dashboard_exprs() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of the dashboard, rows included."""
    board = json.loads(DASHBOARD.read_text())
    out: list[tuple[str, str]] = []

    def panels(items: list[dict[str, Any]]) -> None:
        for p in items:
            for t in p.get("targets", []):
                out.append((p["title"], grafana_to_promql(t["expr"])))
            panels(p.get("panels", []))

    panels(board["panels"])
    return out


def dashboard_variable_metrics() -> set[str]:
    """The metrics named by the dashboard's query variables (``label_values(metric, label)``)."""
    board = json.loads(DASHBOARD.read_text())
    names = set()
    for var in board["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            found = re.fullmatch(r"label_values\((\w+),\s*\w+\)", query)
            assert found, f"variable {var['name']}: not a label_values query: {query}"
            names.add(found.group(1))
    return names


def alert_exprs() -> list[tuple[str, str]]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [(r["alert"], r["expr"]) for g in rules["groups"] for r in g["rules"]]


# -- alert rules and dashboard -------------------------------------------------------------------------
@needs_promtool
def test_the_alert_rules_pass_promtool_and_fire_when_they_should(tmp_path: Path) -> None:
    checked = subprocess.run([PROMTOOL, "check", "rules", str(ALERTS)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 10 rules found" in checked.stdout
    tested = subprocess.run([PROMTOOL, "test", "rules", ALERT_TESTS.name], cwd=ALERT_TESTS.parent,
                            capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # the dashboard's queries through Prometheus's own parser too: as recording rules
    recording = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, (_, expr) in enumerate(dashboard_exprs())]}]}
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(recording))
    checked = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_dashboard_loads_and_covers_intake_and_every_target_concern() -> None:
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"] == "stuf-broker" and board["schemaVersion"] >= 36
    titles = {p["title"] for p in board["panels"]}
    for wanted in ("Requests by outcome", "Intake latency", "Backlog", "Oldest waiting delivery", "Delivery rate",
                   "Delivery error ratio", "Circuits", "Dead deliveries"):
        assert wanted in titles
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    exprs = dashboard_exprs()
    assert len(exprs) > 15
    for title, expr in exprs:
        assert metric_names(expr), f"{title}: {expr} selects no metric"
        for p in board["panels"]:
            if p["title"] == title and p["type"] != "row":
                assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_dashboard_and_alerts_name_only_metrics_the_running_broker_exports(served: Served) -> None:
    exported = exported_names(served.metrics)
    # what the traffic must have produced, in the multiprocess mode of serve
    for name in ("stuf_broker_requests_total", "stuf_broker_request_duration_seconds_bucket",
                 "stuf_broker_delivery_attempts_total", "stuf_broker_delivery_duration_seconds_bucket",
                 "stuf_broker_queue_oldest_age_seconds", "stuf_broker_circuit_state", "stuf_broker_deliveries"):
        assert name in exported, name
    used: dict[str, set[str]] = {}
    for where, expr in dashboard_exprs() + alert_exprs():
        for name in metric_names(expr):
            used.setdefault(name, set()).add(where)
    for name in dashboard_variable_metrics():
        used.setdefault(name, set()).add("variable")
    unknown = {name: sorted(where) for name, where in used.items() if name not in exported}
    assert not unknown, f"not exported by the broker: {unknown}"
    # and everything the broker exports of its own is on the dashboard
    families = {f.name for f in text_string_to_metric_families(served.metrics)}
    shown = {name for name in used if any(name.startswith(f) for f in families)}
    assert {f for f in families if not any(n.startswith(f) for n in shown)} == set()


def test_new_metrics_tell_backlog_age_and_delivery_attempts_per_target(served: Served) -> None:
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(served.metrics) for s in f.samples}

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("stuf_broker_delivery_attempts_total", target="hook", outcome="delivered") == 2
    assert value("stuf_broker_delivery_attempts_total", target="archief", outcome="delivered") == 1
    assert value("stuf_broker_delivery_attempts_total", target="archief", outcome="retry") >= 1
    assert value("stuf_broker_delivery_duration_seconds_count", target="hook") == 2
    # the second zaak waits for the archive (down): the age of the oldest waiting delivery grows
    assert 0 < value("stuf_broker_queue_oldest_age_seconds", target="archief") < 120
    assert value("stuf_broker_queue_depth", target="archief") == 1
    assert value("stuf_broker_queue_oldest_age_seconds", target="hook") == 0
    assert value("stuf_broker_queue_oldest_age_seconds", target="zs") == 0
    assert PERSON["bsn"] not in served.metrics


# -- JSON logs ----------------------------------------------------------------------------------------
def log_events(served: Served) -> list[dict[str, Any]]:
    """The log of serve, every line a JSON object (or the test fails naming the line)."""
    events = []
    for n, line in enumerate(served.log.read_text().splitlines(), 1):
        try:
            event = json.loads(line)
        except ValueError:
            raise AssertionError(f"serve.log line {n} is not JSON: {line[:300]!r}") from None
        assert isinstance(event, dict), f"line {n} is not a JSON object: {line[:300]!r}"
        events.append(event)
    return events


def test_serve_without_a_terminal_writes_one_json_object_per_line(served: Served) -> None:
    events = log_events(served)
    assert len(events) > 10
    for event in events:
        assert {"event", "level", "timestamp"} <= event.keys(), event
        assert event["level"] in ("debug", "info", "warning", "error", "critical")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", event["timestamp"]), event
    assert any(ev["event"] == "broker ready" for ev in events)
    assert any(ev["event"] == "worker started" for ev in events)
    handled = [ev for ev in events if ev["event"] == "message handled"]
    assert [ev["outcome"] for ev in handled] == ["ok", "ok", "fault", "ok"]
    for ev in handled:
        assert {"port", "operation", "berichtcode", "referentienummer", "zender", "duration_ms"} <= ev.keys(), ev
    fault = handled[2]
    assert (fault["foutcode"], fault["plek"], fault["operation"]) == ("StUF055", "client", "creeerZaak")


def test_no_personal_data_reaches_the_log_of_serve(served: Served) -> None:
    text = served.log.read_text()
    # the person did pass through the broker: the subscriber and the archive got the zaak
    assert served.hook.events(zaak="1234OBS01") and served.archief.applied_count == 1
    for value in PERSON.values():
        assert value not in text, f"{value!r} reached the log"
    for part in PERSON["voornamen"].split() + [PERSON["geslachtsnaam"]]:
        assert part not in text


def _run_logging(fmt: str, *, tty: bool) -> str:
    """A process that configures the broker's logging and logs an event, one with an exception and
    another library's record with one, on a pipe or on a terminal (a pseudo-terminal as stderr)."""
    code = ("import structlog, sys\n"
            "from broker import logging as bl\n"
            f"bl.configure({fmt!r})\n"
            "log = structlog.get_logger('test')\n"
            "log.info('plain', zaak='1234')\n"
            "try:\n    raise ValueError('kapot 111222333')\n"
            "except ValueError:\n    log.exception('failed', burger='111222333')\n"
            "import logging\n"  # another library's record (uvicorn's) with an exception
            "try:\n    raise KeyError('zaak')\n"
            "except KeyError:\n    logging.getLogger('uvicorn.error').exception('Exception in ASGI application')\n")
    if not tty:
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stderr
    import pty

    parent, child = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, stderr=child, stdout=subprocess.DEVNULL,
                              timeout=60)
        os.close(child)
        assert done.returncode == 0
        out = b""
        while True:
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # the terminal is closed once read empty
                break
            if not chunk:
                break
            out += chunk
        return out.decode()
    finally:
        os.close(parent)


def test_an_exception_stays_inside_its_json_line_and_a_terminal_gets_text() -> None:
    lines = _run_logging("auto", tty=False).splitlines()
    assert len(lines) == 3, lines  # each traceback is in its JSON line, not after it
    plain, failed, foreign = (json.loads(line) for line in lines)
    assert plain["event"] == "plain" and plain["zaak"] == "1234"
    assert failed["event"] == "failed" and failed["level"] == "error"
    assert "Traceback" in failed["exception"] and "ValueError" in failed["exception"]
    assert "111222333" not in lines[1]  # masked, in the field and in the exception text
    assert foreign["event"] == "Exception in ASGI application" and "KeyError" in foreign["exception"]
    text = _run_logging("auto", tty=True)
    assert not text.lstrip().startswith("{") and "plain" in text and "zaak=1234" in text
    assert text.count("Traceback") == 2 and "111222333" not in text


def test_redact_masks_a_bsn_in_any_field_and_never_joins_the_digits_of_two_fields() -> None:
    from broker import logging as bl

    line = bl.redact(None, "info", {"event": "opgevraagd", "a": "persoon 111222333 gevonden", "b": "x" * 20,
                                    "message_id": 123456789})
    assert line["a"] == "persoon ********* gevonden" and line["b"] == "x" * 20
    assert line["message_id"] == 123456789  # a safe field and no text
    # five digits at the end of one field and four at the start of the next are not a BSN
    apart = {"event": "klaar", "a": "referentie 12345", "b": "6789 stuks"}
    assert bl.redact(None, "info", dict(apart)) == apart
    assert bl.redact(None, "info", {"event": "123456789"})["event"] == "*********"


def test_a_log_line_does_not_make_the_standard_library_look_up_its_caller() -> None:
    """The line holds only what the broker's processors put in it; looking up the calling frame, the
    thread and the process for each record was a third of a log line's cost."""
    code = ("import logging, structlog\n"
            "from broker import logging as bl\n"
            "bl.configure('json')\n"
            "def refuse(*a, **k):\n    raise AssertionError('looked up the caller')\n"
            "logging.Logger.findCaller = refuse\n"
            "structlog.stdlib._FixedFindCallerLogger.findCaller = refuse\n"
            "structlog.get_logger('test').info('plain', zaak='1234')\n"
            "logging.getLogger('uvicorn.error').warning('foreign')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["event"] for line in lines] == ["plain", "foreign"]


# -- correlation id ---------------------------------------------------------------------------------
def test_the_callers_valid_correlation_id_is_kept_else_the_broker_makes_one(served: Served) -> None:
    c = served.correlation
    assert c["creeer"] == CALLERS_ID
    for made in ("query", "fault", "without"):  # a BSN, an invalid value, no header: a new one
        assert UUID.fullmatch(c[made]), c
    assert len(set(c.values())) == 4
    handled = [ev for ev in log_events(served) if ev["event"] == "message handled"]
    assert [ev["correlation_id"] for ev in handled] == [c["creeer"], c["query"], c["fault"], c["without"]]
    assert PERSON["bsn"] not in served.log.read_text()


def test_the_worker_logs_and_the_targets_receive_the_messages_correlation_id(served: Served) -> None:
    c = served.correlation
    attempts = [ev for ev in log_events(served) if ev["event"] == "delivery attempt ended"]
    by = {(ev["target"], ev["correlation_id"], ev["outcome"]) for ev in attempts}
    assert {("hook", CALLERS_ID, "delivered"), ("archief", CALLERS_ID, "delivered"),
            ("hook", c["without"], "delivered"), ("archief", c["without"], "retry")} <= by
    for ev in attempts:
        assert {"delivery_id", "message_id", "attempt"} <= ev.keys() and ev["correlation_id"] in c.values()
        assert ev["level"] == ("info" if ev["outcome"] == "delivered" else "warning")
    # what the targets received: the subscriber's event and the forwarded StUF message
    hook = {e.body["zaak"]: e.headers.get("x-correlation-id") for e in served.hook.received}
    assert hook == {"1234OBS01": CALLERS_ID, "1234OBS03": c["without"]}
    archief = [(r.zaak, r.correlation_id) for r in served.archief.received]
    assert archief[0] == ("1234OBS01", CALLERS_ID)
    assert set(archief[1:]) == {("1234OBS03", c["without"])}  # every retry carries it too


def test_the_message_keeps_its_correlation_id_and_the_dashboard_shows_it(served: Served) -> None:
    from sqlalchemy import select

    from broker.store.db import Database
    from broker.store.tables import Message
    from broker.web.dashboard import auth
    from tests.support.dashboard_site import PASSWORD, DashboardClient

    db = Database(f"sqlite:///{served.database}")
    try:
        with db.write() as s:
            auth.add_user(s, "vera", "viewer", PASSWORD)
        with db.read() as s:
            stored = dict(s.execute(select(Message.correlation_id, Message.id)).all())
    finally:
        db.dispose()
    assert set(stored) == set(served.correlation.values())  # the fault too
    client = DashboardClient(served.url)
    try:
        assert client.login("vera").status_code in (302, 303)
        page = client.get(f"/messages/{stored[CALLERS_ID]}")
        assert page.status_code == 200
        shown = re.search(r'data-testid="correlation-id"><code>([^<]*)</code>', page.text)
        assert shown and shown.group(1) == CALLERS_ID
    finally:
        client.close()


def test_the_zgw_client_sends_the_correlation_id_bound_for_the_message() -> None:
    """The ZGW adapter's requests (every API call goes through ZgwClient) carry the id bound by the intake
    or the worker; outside a message they carry none."""
    import structlog
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from broker.adapters.zgw.client import ZgwClient, ZgwSettings
    from tests.support.loopback import LoopbackServer

    seen: list[str | None] = []

    async def zaken(request: Request) -> JSONResponse:
        seen.append(request.headers.get("x-correlation-id"))
        return JSONResponse({"count": 0, "next": None, "previous": None, "results": []})

    server = LoopbackServer()
    server.serve(Starlette(routes=[Route("/zaken/api/v1/zaken", zaken)]))
    server.start()
    client = ZgwClient(ZgwSettings(urls={"zaken": f"http://127.0.0.1:{server.port}/zaken/api/v1"},
                                   client_id="broker", secret="geheim"))
    try:
        with structlog.contextvars.bound_contextvars(correlation_id=CALLERS_ID):
            client.request("GET", client.url("zaken", "zaken"))
        client.request("GET", client.url("zaken", "zaken"))
    finally:
        client.close()
        server.stop()
    assert seen == [CALLERS_ID, None]
