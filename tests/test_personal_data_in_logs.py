"""No personal data in log lines, over every message of the StUF Testplatform scenario.

The scenario runs once more with the templates' placeholder persons replaced by recognisable ones (a
BSN that passes the 11-proef, a family name, first names, a birth date); every structlog event and
stdlib log record of the run is captured, and none may hold any of those values. The answers carry
them (the scenario's expectations are rewritten the same way), so they did pass through the broker.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from broker.store.tables import MessagePayload
from tests.stp.runner import Runner
from tests.support import live
from tests.support.soapcall import SoapCaller

STP = Path(__file__).resolve().parents[1].parent / "shared" / "stuf-testplatform"
STP_CONFIG = Path(__file__).resolve().parent / "stp" / "config"
PERSON = {
    ">000000000<": ">111222333<",
    ">123456789<": ">123456782<",
    ">geslachtsnaam<": ">Vlietstra-Oudkerk<",
    ">voornamen<": ">Geertruida Wilhelmina<",
}
SECRETS = ("111222333", "123456782", "Vlietstra", "Oudkerk", "Geertruida", "Wilhelmina")


class PersonalRunner(Runner):
    """The scenario with persons whose data can be recognised in a log line."""

    def template_text(self, rel: str) -> str:
        text = super().template_text(rel)
        for placeholder, value in PERSON.items():
            text = text.replace(placeholder, value)
        return text


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__!r}")


def test_no_log_line_of_the_whole_scenario_holds_a_bsn_or_a_name(tmp_path: Path, schemas) -> None:
    broker = live.start(live.make_settings(tmp_path, config_dir=STP_CONFIG))
    caller = SoapCaller(broker.url, schemas)
    records = _Records()
    root = logging.getLogger()
    root.addHandler(records)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        with capture_logs() as events:
            results = PersonalRunner(caller, STP).run()
        with broker.broker.db.read() as s:  # the broker did receive and keep the persons
            stored = [r for (r,) in s.execute(select(MessagePayload.request)) if r and b"Vlietstra" in r]
    finally:
        root.removeHandler(records)
        root.setLevel(old_level)
        caller.close()
        broker.stop()
    assert sum(r.runs for r in results.values()) > 80, "the scenario did not run"
    assert sum(1 for r in results.values() if r.ok) > 80, "too few templates passed for this to mean much"
    lines = [repr(e) for e in events] + records.lines
    assert len(lines) > 100, "no log lines were captured"
    for secret in SECRETS:
        leaking = [line for line in lines if secret in line]
        assert not leaking, f"{secret!r} reached the log: {leaking[:2]}"
    assert stored, "no request with the person reached the message log"


pytestmark = pytest.mark.slow
