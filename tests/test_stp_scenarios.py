"""The StUF Testplatform ZDS 1.2 scenarios pass against the broker with the embedded zaaksysteem.

The whole scenario runs once (in order: identificaties flow between services); each template file of
../shared/stuf-testplatform then reports on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stp.runner import Runner
from tests.support import live
from tests.support.soapcall import SoapCaller

STP = Path(__file__).resolve().parents[1].parent / "shared" / "stuf-testplatform"
FILES = sorted(str(p.relative_to(STP)) for p in STP.rglob("*.xml"))
STP_CONFIG = Path(__file__).resolve().parent / "stp" / "config"


@pytest.fixture(scope="module")
def stp_results(tmp_path_factory, schemas):
    tmp = tmp_path_factory.mktemp("stp")
    broker = live.start(live.make_settings(tmp, config_dir=STP_CONFIG))
    caller = SoapCaller(broker.url, schemas)
    try:
        yield Runner(caller, STP).run()
    finally:
        caller.close()
        broker.stop()


def test_the_template_set_is_there():
    assert len(FILES) == 93, "the StUF Testplatform set in ../shared/stuf-testplatform is incomplete"


@pytest.mark.parametrize("template", FILES)
def test_stp_template(template: str, stp_results) -> None:
    result = stp_results.get(template)
    assert result is not None, f"{template} is not part of tests/stp/scenario.yaml"
    assert result.runs > 0
    assert result.ok, f"{template} ({result.role}):\n  " + "\n  ".join(result.problems)
