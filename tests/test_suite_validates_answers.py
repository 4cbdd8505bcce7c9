"""Every answer of the whole test suite is validated against the schemas: each way the suite starts a
broker (in process with live.make_settings, or served from a folder of configs.write_config or
live.config_with) runs with ``checks.validate_answers`` on and ``checks.invalid_answers: fault``, so an
answer of the broker's that is not schema-valid becomes a StUF058 fault and fails the test that got it.
(The default for deployments is ``send``: tests/test_answer_validation.py.)
"""

from __future__ import annotations

from pathlib import Path

import httpx
from lxml import etree

from broker.config import load_settings
from tests.support import live
from tests.support import messages as m
from tests.support.configs import write_config


def _strict(checks) -> bool:
    return checks.validate_answers is True and checks.invalid_answers == "fault"


def test_every_way_the_suite_configures_a_broker_validates_answers_strictly(tmp_path: Path) -> None:
    assert _strict(live.make_settings(tmp_path / "a").broker.checks)
    env = {"STUF_BROKER_DATA_DIR": str(tmp_path / "var")}
    (tmp_path / "d").mkdir()
    for config in (write_config(tmp_path / "b"), write_config(tmp_path / "c", broker={"gemeentecode": "1234"}),
                   live.config_with(tmp_path / "d")):
        assert _strict(load_settings(config, env=env).broker.checks), config


def test_an_invalid_answer_in_a_suite_broker_becomes_a_fault(tmp_path: Path) -> None:
    lb = live.start(live.make_settings(tmp_path))  # no override: what every test gets
    real = lb.broker.schemas.issues

    def broken(element: etree._Element) -> list:  # one of the broker's answers made invalid on purpose
        if etree.QName(element).localname.endswith("Du02"):
            bad = etree.fromstring(etree.tostring(element))
            etree.SubElement(bad, "{urn:nergens}onbekend").text = "x"
            return real(bad)
        return real(element)

    lb.broker.schemas.issues = broken  # type: ignore[method-assign]
    try:
        envelope = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
                    f"{m.genereer_zaak_identificatie()}</soapenv:Body></soapenv:Envelope>").encode()
        r = httpx.post(lb.endpoint("VerwerkSynchroonVrijBericht"), content=envelope,
                       headers={"Content-Type": "text/xml"}, timeout=10)
        assert r.status_code == 500 and b"StUF058" in r.content
    finally:
        lb.stop()
