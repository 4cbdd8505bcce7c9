"""`stuf-broker queue` lets operators see and mend deliveries: status, list, show, retry, cancel, purge."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from broker.cli import main
from broker.queue.tables import Delivery
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget


def test_operators_find_a_dead_letter_read_it_and_retry_it(tmp_path: Path, schemas) -> None:
    target = CountingTarget().start()
    target.fail_next = ["client"]
    db_url = f"sqlite:///{tmp_path / 'broker.db'}"
    config = write_config(tmp_path, routes={
        "targets": {"zaaksysteem": {"adapter": "embedded"}, "archief": {"adapter": "stuf", "url": target.url}},
        "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zaaksysteem"}, {"target": "archief", "mode": "queued"}]},
                   {"operations": ["*"], "deliver": [{"target": "zaaksysteem"}]}],
        "delivery": fast_delivery(),
    })
    lb = live.start(live.make_settings(tmp_path, config_dir=config, database_url=db_url))
    caller = SoapCaller(lb.url, schemas)
    runner = CliRunner()
    env = {"STUF_BROKER_DATABASE_URL": db_url, "STUF_BROKER_DATA_DIR": str(tmp_path / "var")}

    def cli(*args: str) -> str:
        result = runner.invoke(main, ["queue", *args, "--config", str(config)], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def state() -> str:
        with lb.broker.db.read() as s:
            return s.execute(select(Delivery.state).where(Delivery.target == "archief")).scalar_one()

    try:
        assert caller.call("OntvangAsynchroon", m.creeer_zaak("1234CLI01"),
                           soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01").berichtcode == "Bv03"
        deadline = time.monotonic() + 20
        while state() != "dead" and time.monotonic() < deadline:
            time.sleep(0.05)
        status = json.loads(cli("status"))
        assert status["targets"]["archief"] == {"dead": 1}
        listed = cli("list", "--state", "dead")
        assert "archief" in listed and "creeerZaak" in listed and "1234CLI01" in listed
        delivery_id = int(listed.split()[0])
        shown = json.loads(cli("show", str(delivery_id)))
        assert shown["state"] == "dead" and "Fo03Bericht" in shown["target_answer"]
        assert [h["outcome"] for h in shown["history"]] == ["dead"]
        assert "1 deliveries queued again" in cli("retry", str(delivery_id))
        while state() != "delivered" and time.monotonic() < deadline + 20:
            time.sleep(0.05)
        assert state() == "delivered" and target.applied_count == 1
        assert "0 deliveries cancelled" in cli("cancel", str(delivery_id))  # delivered stays delivered
        assert "payloads of 1 messages purged" in cli("purge", "--older-than-days", "0")
    finally:
        caller.close()
        lb.stop()
        target.stop()
