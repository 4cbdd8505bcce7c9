"""A real broker behind a real uvicorn server on 127.0.0.1, for tests that speak HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
import yaml

from broker.config import Settings, load_settings
from broker.runtime import Broker
from broker.web import protocol
from broker.web.app import create_app

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_with(tmp: Path, **files: str) -> Path:
    """A copy of the default configuration folder in ``tmp/config``, with ``files`` (name -> text) added."""
    config = tmp / "config"
    config.mkdir()
    for f in (REPO / "config").iterdir():
        if f.is_file():
            (config / f.name).write_bytes(f.read_bytes())
    for name, text in files.items():
        (config / name).write_text(text)
    if "broker.yaml" not in files:  # strict about the broker's own answers, also when served from this folder
        broker = yaml.safe_load((config / "broker.yaml").read_text()) or {}
        broker["checks"] = {**(broker.get("checks") or {}), "validate_answers": True, "invalid_answers": "fault"}
        (config / "broker.yaml").write_text(yaml.safe_dump(broker, sort_keys=False))
    return config


def make_settings(tmp: Path, config_dir: Path | None = None, database_url: str | None = None,
                  **overrides: object) -> Settings:
    """Settings for a test broker: its own data dir and database, answers validated."""
    env = {"STUF_BROKER_DATA_DIR": str(tmp / "var")}
    env["STUF_BROKER_DATABASE_URL"] = database_url or f"sqlite:///{tmp / 'broker.db'}"
    settings = load_settings(config_dir or REPO / "config", env=env)
    settings.broker.checks.validate_answers = True
    settings.broker.checks.invalid_answers = "fault"  # the suite is strict about the broker's own answers
    for dotted, value in overrides.items():
        target = settings.broker
        parts = dotted.split("__")
        for p in parts[:-1]:
            target = getattr(target, p)
        setattr(target, parts[-1], value)
    return settings


@dataclass
class LiveBroker:
    broker: Broker
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def endpoint(self, port: str) -> str:
        return f"{self.url}/zds/{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.broker.close()


def start(settings: Settings) -> LiveBroker:
    broker = Broker(settings)
    app = create_app(broker)
    port = free_port()
    tls_settings = settings.broker.server.tls
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                            loop="asyncio", lifespan="on", **protocol.uvicorn_options(settings.broker))
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"{'https' if tls_settings else 'http'}://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if tls_settings is not None:  # the handshake may ask for a certificate: a TCP connect will do
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except (httpx.HTTPError, OSError):
            time.sleep(0.05)
    else:
        raise RuntimeError("test broker did not start")
    return LiveBroker(broker, url, server, thread)


def serve_process(tmp: Path, workers: int = 2, server: dict | None = None) -> tuple[subprocess.Popen[bytes], int, Path]:
    """``stuf-broker serve --workers N`` in a process of its own, on a copy of the default
    configuration in ``tmp/config`` (``server``: settings added to broker.yaml's server block) and a
    SQLite database in ``tmp``: the process, its port and its log file."""
    config = tmp / "config"
    shutil.copytree(REPO / "config", config)
    if server:
        settings = yaml.safe_load((config / "broker.yaml").read_text())
        settings["server"].update(server)
        (config / "broker.yaml").write_text(yaml.safe_dump(settings))
    port = free_port()
    env = dict(os.environ, STUF_BROKER_DATA_DIR=str(tmp / "var"),
               STUF_BROKER_DATABASE_URL=f"sqlite:///{tmp / 'broker.db'}")
    env.pop("STUF_BROKER_CONFIG", None)
    log = tmp / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "broker", "serve", "--config", str(config), "--port",
                                 str(port), "--workers", str(workers)], stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=tmp)
    return proc, port, log
