"""A broker built in this process as ``serve`` builds it, for the in-process profiles
(bench/profile_intake.py, bench/profile_drain.py): creeerZaak to the embedded zaaksysteem in
``mode`` (queued or sync), every other operation sync, no delivery worker of its own; SQLite in a
temporary folder unless ``database_url`` names another database; JSON log lines to a file there.
``repo`` is the checkout whose ``broker`` package is measured (put first on ``sys.path`` by the caller)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import messages as msgs  # bench/messages.py
import yaml


def build(repo: Path, mode: str, prefix: str, database_url: str | None = None) -> tuple[Any, Path]:
    """(the Broker, its temporary folder)."""
    from broker import logging as broker_logging
    from broker.config import load_settings
    from broker.runtime import Broker

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    cfg = tmp / "config"
    shutil.copytree(repo / "config", cfg)
    (cfg / "zaaktypecatalogus.yaml").write_text(yaml.safe_dump(msgs.CATALOGUS))
    (cfg / "routes.yaml").write_text(yaml.safe_dump({
        "targets": {"zs": {"adapter": "embedded"}},
        "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zs", "mode": mode}]},
                   {"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
        "delivery": {"worker_in_serve": False}}))
    b = yaml.safe_load((cfg / "broker.yaml").read_text())
    b["database_url"] = database_url or f"sqlite:///{tmp}/b.db"
    b["log_format"] = "json"
    b.setdefault("checks", {})["identificatie_prefix"] = False
    (cfg / "broker.yaml").write_text(yaml.safe_dump(b))
    os.environ["STUF_BROKER_DATA_DIR"] = str(tmp)
    settings = load_settings(cfg)
    log_file = open(tmp / "broker.log", "w")  # open for the whole run
    stderr, sys.stderr = sys.stderr, log_file
    broker_logging.configure("json")
    sys.stderr = stderr
    return Broker(settings), tmp
