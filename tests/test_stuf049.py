"""StUF049 (StUF 03.01 Tabel 4.1, R-SG-14): a synchronous message whose process is not available.

When every thread the broker allows for a synchronous remote target waits on it
(``server.sync_calls_per_target``), a further vraag for that target is answered at once with a Fo02
StUF049 (plek server: the sender may ask again); an asynchronous message gets StUF058 in its Fo03
(StUF049 exists only in Fo02), as tests/test_edge_concurrency.py shows.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from broker.stuf.schemas import SchemaSet
from tests.support import live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget

ACTION = m.ZDS_ACTION + "geefZaakdetails_ZakLv01"


def test_a_vraag_for_a_busy_synchronous_target_gets_stuf049(tmp_path: Path, schemas: SchemaSet) -> None:
    slow = CountingTarget(delay=2.0).start()
    routes = {
        "targets": {"zaaksysteem": {"adapter": "embedded"}, "traag": {"adapter": "stuf", "url": slow.url, "timeout": 5}},
        "routes": [
            {"operations": ["geefZaakdetails"], "zenders": ["TRAAG"], "deliver": [{"target": "traag", "mode": "sync"}]},
            {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]},
        ],
        "delivery": fast_delivery(lease_seconds=2),
    }
    lb = live.start(live.make_settings(tmp_path, config_dir=write_config(tmp_path, routes=routes),
                                       server__handler_threads=4, server__sync_calls_per_target=1))
    caller = SoapCaller(lb.url, schemas)

    def ask(identificatie: str) -> None:
        try:
            caller.call("BeantwoordVraag", m.geef_zaakdetails(identificatie, zender=("KING", "TRAAG")),
                        soap_action=ACTION)
        except AssertionError:
            pass  # the stand-in's answer to a vraag is not what this test is about

    first = threading.Thread(target=ask, args=("1234BUSY01",))
    try:
        first.start()
        deadline = time.monotonic() + 5
        while not slow.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slow.received, "the first vraag did not reach the slow target"
        answer = caller.call("BeantwoordVraag", m.geef_zaakdetails("1234BUSY02", zender=("KING", "TRAAG")),
                             soap_action=ACTION)
        assert answer.berichtcode == "Fo02" and answer.foutcode == "StUF049", answer.content
        assert answer.text("body/plek") == "server"
        first.join(timeout=10)
    finally:
        caller.close()
        lb.stop()
        slow.stop()
