"""The broker validates its own answers by default: an invalid one is logged with its path (no values)
and counted in /metrics, then sent (``checks.invalid_answers: send``, the default) or replaced by a
StUF058 fault (``fault``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from structlog.testing import capture_logs

from broker.config import load_settings
from broker.web import metrics
from tests.support import live
from tests.support import messages as m

SECRET = "Vlietstra-Oudkerk"


def test_answer_validation_is_on_by_default_and_sends() -> None:
    checks = load_settings(live.REPO / "config").broker.checks
    assert checks.validate_answers is True and checks.invalid_answers == "send"


@pytest.fixture
def broker(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[live.LiveBroker, metrics.Metrics]]:
    lb = live.start(live.make_settings(tmp_path, checks__invalid_answers=request.param))
    installed = metrics.install(lb.broker)
    real = lb.broker.schemas.issues

    def broken_answers(element: etree._Element) -> list:  # an answer of ours made invalid on purpose
        if "Du02" in etree.QName(element).localname:
            bad = etree.fromstring(etree.tostring(element))
            etree.SubElement(bad, "{urn:nergens}onbekend").text = SECRET
            return real(bad)
        return real(element)

    lb.broker.schemas.issues = broken_answers  # type: ignore[method-assign]
    yield lb, installed
    lb.stop()


@pytest.mark.parametrize("broker", ["send"], indirect=True)
def test_an_invalid_answer_is_logged_counted_and_sent(broker: tuple[live.LiveBroker, metrics.Metrics]) -> None:
    lb, installed = broker
    with capture_logs() as events:
        r = httpx.post(lb.endpoint("VerwerkSynchroonVrijBericht"), timeout=10,
                       content=_envelope(m.genereer_zaak_identificatie()), headers={"Content-Type": "text/xml"})
    assert r.status_code == 200 and b"Du02" in r.content
    logged = [e for e in events if e.get("event") == "answer does not conform to the schema"]
    assert logged and "onbekend" in logged[0]["first"] and SECRET not in repr(logged)
    text = installed.exposition()[0].decode()
    assert 'stuf_broker_invalid_answers_total{operation="genereerZaakIdentificatie"} 1.0' in text


@pytest.mark.parametrize("broker", ["fault"], indirect=True)
def test_with_fault_an_invalid_answer_becomes_stuf058(broker: tuple[live.LiveBroker, metrics.Metrics]) -> None:
    lb, _ = broker
    r = httpx.post(lb.endpoint("VerwerkSynchroonVrijBericht"), timeout=10,
                   content=_envelope(m.genereer_zaak_identificatie()), headers={"Content-Type": "text/xml"})
    assert r.status_code == 500 and b"StUF058" in r.content and SECRET.encode() not in r.content


def _envelope(xml: str) -> bytes:
    return ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            f"{xml}</soapenv:Body></soapenv:Envelope>").encode()
