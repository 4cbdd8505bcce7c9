"""routes.yaml is taken into use while the broker runs, like the mapping files: a valid change
routes the next message (new targets built, unchanged ones kept); an invalid one, or a target that
cannot be built, is refused with every problem and the previous routes stay; the refresher does it
by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from broker.queue.tables import Delivery
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget

EMBEDDED_ONLY = {"targets": {"zaaksysteem": {"adapter": "embedded"}},
                 "routes": [{"operations": ["*"], "deliver": [{"target": "zaaksysteem"}]}],
                 "delivery": fast_delivery()}


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[live.LiveBroker]:
    monkeypatch.setenv("STUF_BROKER_CONFIG_REFRESH_SECONDS", "3600")  # refreshed by hand unless a test says so
    config = write_config(tmp_path, routes=EMBEDDED_ONLY)
    lb = live.start(live.make_settings(tmp_path, config_dir=config))
    yield lb
    lb.stop()


def _with_archief(target: CountingTarget, **extra: object) -> dict:
    return {"targets": {"zaaksysteem": {"adapter": "embedded"},
                        "archief": {"adapter": "stuf", "url": target.url, **extra}},
            "routes": [{"operations": ["creeerZaak"], "zenders": ["STP"],  # the test messages' zender applicatie
                        "deliver": [{"target": "zaaksysteem"}, {"target": "archief", "mode": "queued"}]},
                       {"operations": ["*"], "deliver": [{"target": "zaaksysteem"}]}],
            "delivery": fast_delivery()}


def _write(lb: live.LiveBroker, routes: dict | str) -> Path:
    path = lb.broker.settings.config_dir / "routes.yaml"
    path.write_text(routes if isinstance(routes, str) else yaml.safe_dump(routes, sort_keys=False))
    return path


def _deliveries(lb: live.LiveBroker) -> list[str]:
    with lb.broker.db.read() as s:
        return list(s.execute(select(Delivery.target).order_by(Delivery.id)).scalars())


def test_a_valid_change_routes_the_next_message_and_keeps_unchanged_targets(running: live.LiveBroker,
                                                                           target: CountingTarget, schemas) -> None:
    broker = running.broker
    embedded = broker.targets["zaaksysteem"]
    _write(running, _with_archief(target))
    assert broker.routes_reloader.refresh() is True
    assert broker.targets["zaaksysteem"] is embedded and "archief" in broker.queue.targets
    assert [r.zenders for r in broker.router.routes.routes][:2] == [["STP"], []]
    caller = SoapCaller(running.url, schemas)
    try:
        answer = caller.call("OntvangAsynchroon", m.creeer_zaak("1234RELOAD01"),
                             soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01")
        assert answer.berichtcode == "Bv03"
    finally:
        caller.close()
    assert _deliveries(running) == ["zaaksysteem", "archief"]
    assert broker.routes_reloader.refresh() is False  # unchanged: nothing to do


@pytest.mark.parametrize(("change", "says"), [
    ("mode: queued", "'queud' is not allowed; allowed: sync, queued (did you mean 'queued'?)"),
    ("unknown target", "unknown target 'archif' (did you mean 'archief'?)"),
    ("secret", "environment variable OZ_SECRET_NOT_SET_FOR_RELOAD (secret_env) is not set"),
])
def test_an_invalid_change_is_refused_with_every_problem_and_the_previous_routes_stay(
        running: live.LiveBroker, target: CountingTarget, change: str, says: str) -> None:
    broker = running.broker
    before = broker.router.routes
    text = yaml.safe_dump(_with_archief(target), sort_keys=False)
    if change == "mode: queued":
        text = text.replace("mode: queued", "mode: queud", 1)
    elif change == "unknown target":
        text = text.replace("target: archief", "target: archif", 1)
    else:
        text = text.replace("targets:\n", "targets:\n  openzaak:\n    adapter: zgw\n"
                            "    zaken_url: https://oz.example.org/zaken/api/v1\n"
                            "    catalogi_url: https://oz.example.org/catalogi/api/v1\n"
                            "    documenten_url: https://oz.example.org/documenten/api/v1\n"
                            "    besluiten_url: https://oz.example.org/besluiten/api/v1\n"
                            "    client_id: broker\n    secret_env: OZ_SECRET_NOT_SET_FOR_RELOAD\n", 1)
    path = _write(running, text)
    assert broker.routes_reloader.refresh() is False
    assert broker.router.routes is before and "archief" not in broker.queue.targets
    problems = [str(p) for p in broker.config_store.refused["routes.yaml"]]
    assert any(p.startswith(f"{path}:") and says in p for p in problems), problems
    _write(running, _with_archief(target))  # mended: taken into use, and no longer shown as refused
    assert broker.routes_reloader.refresh() is True and "routes.yaml" not in broker.config_store.refused


def test_the_refresher_takes_a_change_into_use_by_itself(tmp_path: Path, target: CountingTarget,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUF_BROKER_CONFIG_REFRESH_SECONDS", "0.05")
    lb = live.start(live.make_settings(tmp_path, config_dir=write_config(tmp_path, routes=EMBEDDED_ONLY)))
    try:
        _write(lb, _with_archief(target))
        deadline = time.monotonic() + 10
        while "archief" not in lb.broker.router.targets:
            assert time.monotonic() < deadline, "routes.yaml was not taken into use"
            time.sleep(0.02)
    finally:
        lb.stop()
