"""The edge never waits on a target, and a failing ``sync`` primary is called once per request.

A real broker on loopback (tests.support.live) with two StUF endpoints on loopback
(tests.support.target.CountingTarget): one that answers after 5 s, one that fails. Messages of the
zender TRAAG go ``sync`` to the slow one, of STUK to the failing one; everything else goes to the
embedded zaaksysteem.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from broker.intake import pipeline
from broker.queue.tables import Delivery
from broker.stuf.schemas import SchemaSet
from tests.support import besluit_messages as bm
from tests.support import document_messages as d
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.soapcall import ENVELOPES, SoapAnswer, SoapCaller
from tests.support.target import CountingTarget

ZDS = m.ZDS_ACTION
SLOW_SECONDS = 5.0
CLIENTS, REQUESTS = 20, 50


@pytest.fixture
def slow() -> Iterator[CountingTarget]:
    t = CountingTarget(delay=SLOW_SECONDS).start()
    yield t
    t.stop()


@pytest.fixture
def failing() -> Iterator[CountingTarget]:
    t = CountingTarget().start()
    yield t
    t.stop()


@pytest.fixture
def broker(tmp_path: Path, slow: CountingTarget, failing: CountingTarget) -> Iterator[live.LiveBroker]:
    routes = {
        "targets": {
            "zaaksysteem": {"adapter": "embedded"},
            "traag": {"adapter": "stuf", "url": slow.url, "timeout": 10},
            "ongeduldig": {"adapter": "stuf", "url": slow.url, "timeout": 1},
            "stuk": {"adapter": "stuf", "url": failing.url, "timeout": 5},
        },
        "routes": [
            {"operations": ["creeerZaak"], "zenders": ["TRAAG"], "deliver": [{"target": "traag", "mode": "sync"}]},
            {"operations": ["creeerZaak"], "zenders": ["HAAST"], "deliver": [{"target": "ongeduldig", "mode": "sync"}]},
            {"operations": ["creeerZaak"], "zenders": ["STUK"], "deliver": [{"target": "stuk", "mode": "sync"}]},
            {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]},
        ],
        # a lease shorter than the slow call: the intake must keep it, or a worker would call again
        "delivery": fast_delivery(lease_seconds=2),
    }
    config = write_config(tmp_path, routes=routes)
    lb = live.start(live.make_settings(tmp_path, config_dir=config))
    yield lb
    lb.stop()


def creeer(ident: str, zender: str, **sg: object) -> str:
    return m.creeer_zaak(ident, zender=("KING", zender), **sg)


def timed_call(caller: SoapCaller, port: str, body: str, soap_action: str | None) -> tuple[SoapAnswer, float]:
    """The answer, and how long the broker took to give it (the HTTP exchange alone: building the
    request and checking the answer against the schemas happen in the test, outside the clock)."""
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if soap_action:
        headers["SOAPAction"] = f'"{soap_action}"'
    content = ENVELOPES["1.1"].format(body=body).encode()
    started = time.perf_counter()
    response = caller.post_raw(port, content, headers)
    elapsed = time.perf_counter() - started
    return caller.check(response), elapsed


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached within the timeout"
        time.sleep(0.01)


def primary_deliveries(lb: live.LiveBroker, target: str) -> list[Delivery]:
    with lb.broker.db.read() as s:
        return list(s.execute(select(Delivery).where(Delivery.target == target).order_by(Delivery.id)).scalars())


@pytest.mark.usefixtures("settled_heap")
def test_a_slow_sync_target_delays_only_its_own_request(broker: live.LiveBroker, slow: CountingTarget,
                                                        schemas: SchemaSet) -> None:
    slow_answer: dict = {}
    # made up front: an HTTP client loads its CA certificates (tens of ms of CPU) when it is made
    callers = [SoapCaller(broker.url, schemas) for _ in range(CLIENTS + 1)]
    # one of each request first, so what a new broker does once (statement caches, the first zaak of
    # the embedded zaaksysteem) falls outside the clock
    timed_call(callers[0], "OntvangAsynchroon", creeer("1234EDGEWARM", "STP"), ZDS + "creeerZaak_ZakLk01")
    timed_call(callers[0], "VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie(), None)

    def slow_client() -> None:
        caller = callers[CLIENTS]
        started = time.perf_counter()
        slow_answer["answer"] = caller.call("OntvangAsynchroon", creeer("1234TRAAG001", "TRAAG"),
                                            soap_action=ZDS + "creeerZaak_ZakLk01")
        slow_answer["seconds"] = time.perf_counter() - started

    slow_thread = threading.Thread(target=slow_client)
    slow_thread.start()
    wait_until(lambda: len(slow.received) == 1)  # the broker now waits on the slow target
    t0 = time.perf_counter()

    # 50 requests from 20 clients to the embedded zaaksysteem, spread over the slow call's 5 s
    latencies: list[float] = []
    answers: list[str | None] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        caller = callers[n]
        for k in range(n, REQUESTS, CLIENTS):
            time.sleep(max(0.0, t0 + 0.1 + k * 0.07 - time.perf_counter()))
            if k % 2:
                body, port, action = m.genereer_zaak_identificatie(), "VerwerkSynchroonVrijBericht", None
            else:
                body, port, action = (creeer(f"1234EDGE{k:04d}", "STP"), "OntvangAsynchroon",
                                      ZDS + "creeerZaak_ZakLk01")
            answer, elapsed = timed_call(caller, port, body, action)
            with lock:
                latencies.append(elapsed)
                answers.append(answer.berichtcode)

    health: list[float] = []

    def probe() -> None:
        with httpx.Client(timeout=5) as http:
            while time.perf_counter() - t0 < 4.0:
                started = time.perf_counter()
                assert http.get(broker.url + "/healthz").status_code == 200
                health.append(time.perf_counter() - started)
                time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)] + [threading.Thread(target=probe)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    others_done = time.perf_counter() - t0
    assert "answer" not in slow_answer  # everything above happened while the slow call was under way
    slow_thread.join(timeout=20)
    for caller in callers:
        caller.close()

    assert len(latencies) == REQUESTS and set(answers) == {"Bv03", "Du02"}, answers
    assert p99(latencies) < 0.1, sorted(latencies)[-5:]
    assert others_done < SLOW_SECONDS
    assert len(health) >= 20 and max(health) < 0.1, sorted(health)[-5:]
    # the slow request gets the target's answer, once the target gives it; the target heard it once
    assert slow_answer["answer"].berichtcode == "Bv03"
    assert SLOW_SECONDS <= slow_answer["seconds"] < SLOW_SECONDS + 2
    time.sleep(0.3)
    assert len(slow.received) == 1
    [delivery] = primary_deliveries(broker, "traag")
    assert (delivery.state, delivery.attempts) == ("delivered", 1)


def test_a_target_slower_than_its_timeout_is_a_fault_after_the_timeout(broker: live.LiveBroker,
                                                                       slow: CountingTarget, schemas: SchemaSet) -> None:
    slow.delay = 2.0  # still twice the timeout, and the receiver is done soon after
    caller = SoapCaller(broker.url, schemas)
    started = time.perf_counter()
    answer = caller.call("OntvangAsynchroon", creeer("1234HAAST001", "HAAST"), soap_action=ZDS + "creeerZaak_ZakLk01")
    elapsed = time.perf_counter() - started
    caller.close()
    assert answer.foutcode == "StUF058" and answer.text("body/plek") == "server"
    assert "ongeduldig" in (answer.text("body/details") or "")
    assert 1.0 <= elapsed < 2.5
    assert len(slow.received) == 1


def test_a_failing_primary_is_called_once_per_request(broker: live.LiveBroker, failing: CountingTarget,
                                                      schemas: SchemaSet) -> None:
    caller = SoapCaller(broker.url, schemas)
    failing.fail_next = ["server", "http500", "client"]
    for n in range(3):
        answer = caller.call("OntvangAsynchroon", creeer(f"1234STUK{n:04d}", "STUK"),
                             soap_action=ZDS + "creeerZaak_ZakLk01")
        assert answer.is_fault, answer.content
        assert len(failing.received) == n + 1
    failing.down = True  # HTTP 503 for everything
    answer = caller.call("OntvangAsynchroon", creeer("1234STUK0003", "STUK"), soap_action=ZDS + "creeerZaak_ZakLk01")
    assert answer.is_fault
    caller.close()
    time.sleep(0.5)  # ten poll intervals of the worker: it does not call the target behind the sender's back
    assert len(failing.received) == 4
    assert len({r.referentienummer for r in failing.received}) == 4
    deliveries = primary_deliveries(broker, "stuk")
    assert [(d.state, d.attempts) for d in deliveries] == [("dead", 1)] * 4


def test_a_hanging_target_holds_only_its_own_share_of_the_threads(tmp_path: Path, slow: CountingTarget,
                                                                   schemas: SchemaSet) -> None:
    """With room for one call at a time to the slow target, a second request for it is refused at once
    (StUF058, plek server: the sender may resend), while the embedded zaaksysteem keeps answering."""
    routes = {
        "targets": {"zaaksysteem": {"adapter": "embedded"}, "traag": {"adapter": "stuf", "url": slow.url, "timeout": 10}},
        "routes": [
            {"operations": ["creeerZaak"], "zenders": ["TRAAG"], "deliver": [{"target": "traag", "mode": "sync"}]},
            {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]},
        ],
        "delivery": fast_delivery(lease_seconds=2),
    }
    config = write_config(tmp_path, routes=routes)
    lb = live.start(live.make_settings(tmp_path, config_dir=config, server__handler_threads=4,
                                       server__sync_calls_per_target=1))
    caller = SoapCaller(lb.url, schemas)
    try:
        first = threading.Thread(target=caller.call, args=("OntvangAsynchroon", creeer("1234SLOT01", "TRAAG")),
                                 kwargs={"soap_action": ZDS + "creeerZaak_ZakLk01"})
        first.start()
        deadline = time.monotonic() + 5
        while not slow.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slow.received, "the first request did not reach the slow target"
        answer, seconds = timed_call(caller, "OntvangAsynchroon", creeer("1234SLOT02", "TRAAG"),
                                     ZDS + "creeerZaak_ZakLk01")
        assert answer.foutcode == "StUF058" and answer.text("body/plek") == "server" and seconds < 1.0
        assert "bezet" in (answer.text("body/omschrijving") or "")
        other, seconds = timed_call(caller, "OntvangAsynchroon", creeer("1234SLOT03", "SNEL"),
                                    ZDS + "creeerZaak_ZakLk01")
        assert other.berichtcode == "Bv03" and seconds < 1.0
        first.join(timeout=15)
        assert len(slow.received) == 1, "the refused request must not have reached the target"
    finally:
        caller.close()
        lb.stop()


@contextlib.contextmanager
def _one_handler_thread_held(tmp_path: Path, slow: CountingTarget, schemas: SchemaSet, *, queued: bool,
                             before: Callable[[SoapCaller], None] = lambda caller: None,
                             ) -> Iterator[tuple[live.LiveBroker, SoapCaller, Callable[[], bool]]]:
    """A broker with one handler thread, held by a sync creeerZaak to a slow target while the block
    runs: (the broker, a second caller, whether the slow call has been answered yet). ``queued``:
    the other creeerZaken are queued for the embedded zaaksysteem (else sync into it); ``before`` runs
    with the second caller before the thread is held."""
    routes = {
        "targets": {"zaaksysteem": {"adapter": "embedded"},
                    "traag": {"adapter": "stuf", "url": slow.url, "timeout": 10}},
        "routes": [
            {"operations": ["creeerZaak"], "zenders": ["TRAAG"], "deliver": [{"target": "traag", "mode": "sync"}]},
            *([{"operations": ["creeerZaak"], "deliver": [{"target": "zaaksysteem", "mode": "queued"}]}]
              if queued else []),
            {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]},
        ],
        "delivery": fast_delivery(lease_seconds=2),
    }
    config = write_config(tmp_path, routes=routes)
    lb = live.start(live.make_settings(tmp_path, config_dir=config, server__handler_threads=1))
    callers = [SoapCaller(lb.url, schemas) for _ in range(2)]
    slow_answer: dict = {}

    def slow_client() -> None:
        slow_answer["answer"] = callers[0].call("OntvangAsynchroon", creeer("1234TRAAG002", "TRAAG"),
                                                soap_action=ZDS + "creeerZaak_ZakLk01")

    slow_thread = threading.Thread(target=slow_client)
    try:
        before(callers[1])
        slow_thread.start()
        wait_until(lambda: len(slow.received) == 1)  # the only handler thread now waits on the slow target
        yield lb, callers[1], lambda: "answer" in slow_answer
        slow_thread.join(timeout=20)
        assert slow_answer["answer"].berichtcode == "Bv03"
    finally:
        slow_thread.join(timeout=20)
        for caller in callers:
            caller.close()
        lb.stop()


def test_queued_messages_need_no_handler_thread(tmp_path: Path, slow: CountingTarget, schemas: SchemaSet) -> None:
    """A queued message is handled on the event loop and its write awaited there: with the one
    handler thread held by a slow sync call, queued creeerZaken are still answered (and stored),
    all before that call ends."""
    with _one_handler_thread_held(tmp_path, slow, schemas, queued=True) as (lb, caller, slow_answered):
        answers = [caller.call("OntvangAsynchroon", creeer(f"1234LOOP{k:04d}", "STP"),
                               soap_action=ZDS + "creeerZaak_ZakLk01").berichtcode for k in range(10)]
        assert not slow_answered()  # all of the above while the slow call was under way
        assert answers == ["Bv03"] * 10
        with lb.broker.db.read() as s:
            queued = list(s.execute(select(Delivery).where(Delivery.target == "zaaksysteem")).scalars())
        assert len(queued) == 10


def test_questions_about_a_zaak_need_no_handler_thread(tmp_path: Path, slow: CountingTarget,
                                                       schemas: SchemaSet) -> None:
    """geefZaakdetails from the embedded zaaksysteem on SQLite is answered on the event loop, its log
    rows awaited there (pipeline.ON_LOOP_READS): with the one handler thread held by a slow sync call,
    questions about a zaak, known or not, are still answered, and logged, before that call ends."""
    def create(caller: SoapCaller) -> None:
        assert caller.call("OntvangAsynchroon", creeer("1234LOOPGEEF1", "STP"),
                           soap_action=ZDS + "creeerZaak_ZakLk01").berichtcode == "Bv03"

    with _one_handler_thread_held(tmp_path, slow, schemas, queued=False, before=create) as (lb, caller, slow_answered):
        answers = [caller.call("BeantwoordVraag", m.geef_zaakdetails("1234LOOPGEEF1"),
                               soap_action=ZDS + "geefZaakdetails_ZakLv01") for _ in range(5)]
        assert not slow_answered()  # all of the above while the slow call was under way
        assert [a.berichtcode for a in answers] == ["La01"] * 5
        assert all(b"1234LOOPGEEF1" in a.content for a in answers)
        with lb.broker.db.read() as s:
            logged = s.execute(text("SELECT count(*) FROM messages WHERE operation = 'geefZaakdetails' "
                                    "AND outcome = 'ok'")).scalar_one()
        assert logged == 5
        unknown = caller.call("BeantwoordVraag", m.geef_zaakdetails("1234ONBEKEND9"),
                              soap_action=ZDS + "geefZaakdetails_ZakLv01")
        assert unknown.berichtcode == "La01" and unknown.payload.find(".//{*}object") is None  # no such zaak
        assert not slow_answered()


@contextlib.contextmanager
def _asked_meanwhile(url: str, schemas: SchemaSet, body: str, action: str) -> Iterator[dict]:
    """A question sent by a caller of its own in a thread while the block runs: {"answer", "seconds"}
    once the block has ended (the question is awaited then)."""
    asked: dict = {}
    other = SoapCaller(url, schemas)

    def ask() -> None:
        started = time.perf_counter()
        asked["answer"] = other.call("BeantwoordVraag", body, soap_action=action)
        asked["seconds"] = time.perf_counter() - started

    asking = threading.Thread(target=ask)
    asking.start()
    try:
        yield asked
        asking.join(timeout=30)
    finally:
        other.close()


def test_a_question_about_a_large_zaak_goes_to_a_handler_thread(tmp_path: Path, slow: CountingTarget,
                                                                schemas: SchemaSet) -> None:
    """A zaak with more rows to gather than pipeline.ON_LOOP_ROWS (here: documents) is answered in a
    handler thread, not on the event loop, where building its answer would hold up every other
    client: with the one handler thread held by a slow sync call, a question about it waits for that
    call, while one about a small zaak is answered at once; then it is answered with every document."""
    documents = pipeline.ON_LOOP_ROWS + 1

    def create(caller: SoapCaller) -> None:
        for ident in ("1234LOOPKLEIN", "1234LOOPGROOT"):
            assert caller.call("OntvangAsynchroon", creeer(ident, "STP"),
                               soap_action=ZDS + "creeerZaak_ZakLk01").berichtcode == "Bv03"
        for k in range(documents):
            assert caller.call("OntvangAsynchroon", d.voeg_zaakdocument_toe(f"1234LOOPDOC{k:02d}", "1234LOOPGROOT"),
                               soap_action=ZDS + "voegZaakdocumentToe_EdcLk01").berichtcode == "Bv03"

    with _one_handler_thread_held(tmp_path, slow, schemas, queued=False, before=create) as (lb, caller, slow_answered):
        with _asked_meanwhile(lb.url, schemas, m.geef_zaakdetails("1234LOOPGROOT"),
                              ZDS + "geefZaakdetails_ZakLv01") as large:
            small = caller.call("BeantwoordVraag", m.geef_zaakdetails("1234LOOPKLEIN"),
                                soap_action=ZDS + "geefZaakdetails_ZakLv01")
            assert small.berichtcode == "La01" and b"1234LOOPKLEIN" in small.content
            assert not slow_answered()
        # on the loop it took milliseconds; in the handler thread it waited for the slow call
        assert large["seconds"] > SLOW_SECONDS / 3, large["seconds"]
        assert large["answer"].berichtcode == "La01"
        assert len(large["answer"].payload.findall(".//{*}heeftRelevant")) == documents


def test_a_question_about_a_besluit_with_many_documents_goes_to_a_handler_thread(
        tmp_path: Path, slow: CountingTarget, schemas: SchemaSet) -> None:
    """geefBesluitdetails, answered on the event loop, is bounded by pipeline.ON_LOOP_ROWS as
    geefZaakdetails is: a besluit with more documents than that is answered in a handler thread (here
    held by a slow sync call, so the answer waits for it), one with a single document at once."""
    documents = [f"1234LBDOC{k:02d}" for k in range(pipeline.ON_LOOP_ROWS + 1)]

    def create(caller: SoapCaller) -> None:
        assert caller.call("OntvangAsynchroon", creeer("1234LOOPBSL", "STP"),
                           soap_action=ZDS + "creeerZaak_ZakLk01").berichtcode == "Bv03"
        for doc in documents:
            assert caller.call("OntvangAsynchroon", bm.voeg_zaakdocument_toe(doc, "1234LOOPBSL"),
                               soap_action=bm.ACTIONS["document"]).berichtcode == "Bv03"
        for besluit, linked in (("1234LBKLEIN", documents[:1]), ("1234LBGROOT", documents)):
            assert caller.call("OntvangAsynchroon",
                               bm.voeg_besluit_toe(besluit, "1234LOOPBSL", documenten=tuple(linked)),
                               soap_action=bm.ACTIONS["voeg"]).berichtcode == "Bv03"

    with _one_handler_thread_held(tmp_path, slow, schemas, queued=False, before=create) as (lb, caller, slow_answered):
        with _asked_meanwhile(lb.url, schemas, bm.geef_besluitdetails("1234LBGROOT"), bm.ACTIONS["details"]) as large:
            small = caller.call("BeantwoordVraag", bm.geef_besluitdetails("1234LBKLEIN"),
                                soap_action=bm.ACTIONS["details"])
            assert small.berichtcode == "La01" and len(small.payload.findall(".//{*}isVastgelegdIn")) == 1
            assert not slow_answered()
        assert large["seconds"] > SLOW_SECONDS / 3, large["seconds"]
        assert large["answer"].berichtcode == "La01"
        assert len(large["answer"].payload.findall(".//{*}isVastgelegdIn")) == len(documents)
