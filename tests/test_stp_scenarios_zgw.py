"""The StUF Testplatform ZDS 1.2 scenarios with the ZGW adapter as the synchronous primary of every
operation: the broker translates each template to the ZGW APIs of the loopback fake (every request
and response checked against the official OpenAPI specs) and builds each answer back from them.

What ZGW cannot hold, and how the comparison deals with it, is listed with a reason for each in
tests/stp/errata.yaml under ``targets: zgw``; the embedded run (test_stp_scenarios.py) is unaffected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.devtools.zgw_fake import ZGWFake
from tests.stp.runner import Runner
from tests.support import live, zgw_stp
from tests.support import zgw_broker as zb
from tests.support.soapcall import SoapCaller
from tests.test_stp_scenarios import FILES, STP, STP_CONFIG


@pytest.fixture(scope="module")
def stp_zgw(tmp_path_factory):
    from broker.config import DEFAULT_XSD_DIR
    from broker.stuf.schemas import SchemaSet

    tmp: Path = tmp_path_factory.mktemp("stp-zgw")
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as fake:
        zgw_stp.seed(fake)
        config = zb.write_zgw_config(tmp, zb.translate_routes(fake), mappings={"stp.yaml": zgw_stp.MAPPING},
                                     catalogus=STP_CONFIG / "zaaktypecatalogus.yaml")
        (config / "broker.yaml").write_text((STP_CONFIG / "broker.yaml").read_text())
        broker = live.start(live.make_settings(tmp, config_dir=config))
        caller = SoapCaller(broker.url, SchemaSet(DEFAULT_XSD_DIR))
        try:
            results = Runner(caller, STP, target="zgw").run()
        finally:
            caller.close()
            broker.stop()
        yield results, list(fake.violations)


def test_the_fake_saw_no_spec_violation(stp_zgw) -> None:
    _, violations = stp_zgw
    assert violations == []


@pytest.mark.parametrize("template", FILES)
def test_stp_template_on_zgw(template: str, stp_zgw) -> None:
    results, _ = stp_zgw
    result = results.get(template)
    assert result is not None, f"{template} is not part of tests/stp/scenario.yaml"
    assert result.runs > 0
    assert result.ok, f"{template} ({result.role}):\n  " + "\n  ".join(result.problems)
