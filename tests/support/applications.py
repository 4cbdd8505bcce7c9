"""A test broker with registered applications (applications.yaml): each authenticates with HTTP
basic, its password in an environment variable; subscribers, afnemers and person sources are told
apart by the extra keys of their entry."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from tests.support import live
from tests.support.configs import fast_delivery, write_config


def entry(organisatie: str, applicatie: str, env_prefix: str, **extra: Any) -> dict[str, Any]:
    """An application of applications.yaml; username the applicatie in lower case, its password in
    ``<env_prefix>_<applicatie>``."""
    return {"organisatie": organisatie, "applicatie": applicatie, "authentication": {
        "basic": {"username": applicatie.lower(), "password_env": f"{env_prefix}_{applicatie}"}}, **extra}


def basic(username: str, password: str) -> dict[str, str]:
    """The Authorization header of HTTP basic."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def start(tmp: Path, apps: list[dict[str, Any]]) -> live.LiveBroker:
    """A broker that stores every operation in its embedded zaaksysteem (sync), delivers queued legs
    quickly, knows ``apps`` and runs its worker."""
    config = write_config(tmp, routes={"targets": {"zs": {"adapter": "embedded"}},
                                       "routes": [{"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
                                       "delivery": fast_delivery()})
    (config / "applications.yaml").write_text(yaml.safe_dump({"applications": apps}, sort_keys=False))
    lb = live.start(live.make_settings(tmp, config_dir=config))
    lb.broker.start_worker()
    return lb
