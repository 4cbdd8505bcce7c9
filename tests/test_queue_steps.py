"""An adapter that makes several calls for one message records each completed step, so a retry
resumes where it stopped and never repeats a call the target already applied."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from broker.adapters import registry
from broker.adapters.targets import DeliveryRequest, default_retryable
from broker.errors import AdapterError
from broker.model.ports import Context, Health
from broker.queue.tables import Delivery
from broker.stuf.berichten import bv03
from broker.zds.request import ZdsAnswer
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.soapcall import SoapCaller


class StepsServer:
    """Counts every call per (message, step); fails the calls it is told to fail."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.fail: set[str] = set()
        self.port = live.free_port()
        app = Starlette(routes=[Route("/{step}", self.handle, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                                    lifespan="off", loop="asyncio"))
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    async def handle(self, request: Request) -> JSONResponse:
        step = request.path_params["step"]
        self.calls[(request.headers["x-message"], step)] += 1
        if step in self.fail:
            self.fail.discard(step)
            return JSONResponse({"error": "try again"}, status_code=503)
        return JSONResponse({"url": f"http://target/{step}/{request.headers['x-message']}"})


class ThreeStepTarget:
    """Creates a zaak, then its status, then a document at a remote system: three calls."""

    shares_transaction = False
    STEPS = ("zaak", "status", "document")

    def __init__(self, name: str, url: str, **_: object) -> None:
        self.name, self.url = name, url
        self.http = httpx.Client(timeout=5)

    def deliver(self, request: DeliveryRequest, ctx: Context) -> ZdsAnswer:
        for step in self.STEPS:
            if ctx.step_done(step):
                continue  # done in an earlier attempt: its result is recorded
            r = self.http.post(f"{self.url}/{step}", headers={"x-message": str(request.message_id)})
            if r.status_code >= 500:
                raise AdapterError(f"{step}: HTTP {r.status_code}", retryable=True)
            ctx.mark_step(step, r.json()["url"])
        return ZdsAnswer(bv03(request.zds.stuurgegevens, request.zds.own))

    def check(self) -> Health:
        return Health(True)

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def steps_server():
    s = StepsServer()
    s.thread.start()
    while not s.server.started:
        pass
    yield s
    s.server.should_exit = True
    s.thread.join(timeout=10)


def test_a_retry_resumes_after_the_last_completed_step(tmp_path: Path, steps_server: StepsServer, schemas,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.ALIASES, "three-steps",
                        lambda name, broker, **opts: ThreeStepTarget(name, **opts))
    steps_server.fail = {"status"}  # the second call fails once
    config = write_config(tmp_path, routes={
        "targets": {"zaaksysteem": {"adapter": "embedded"},
                    "remote": {"adapter": "three-steps", "url": f"http://127.0.0.1:{steps_server.port}"}},
        "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "remote", "mode": "queued"}]},
                   {"operations": ["*"], "deliver": [{"target": "zaaksysteem"}]}],
        "delivery": fast_delivery(),
    })
    lb = live.start(live.make_settings(tmp_path, config_dir=config))
    caller = SoapCaller(lb.url, schemas)
    try:
        answer = caller.call("OntvangAsynchroon", m.creeer_zaak("1234STEPS1"), soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01")
        assert answer.berichtcode == "Bv03"

        def delivered() -> Delivery | None:
            with lb.broker.db.read() as s:
                d = s.execute(select(Delivery).where(Delivery.target == "remote")).scalar_one()
                return d if d.state == "delivered" else None

        import time

        deadline = time.monotonic() + 20
        while delivered() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        d = delivered()
        assert d is not None and d.attempts == 2
        message = str(d.message_id)
        assert steps_server.calls == Counter({(message, "zaak"): 1, (message, "status"): 2, (message, "document"): 1})
        assert set(d.steps) == {"zaak", "status", "document"}
    finally:
        caller.close()
        lb.stop()
