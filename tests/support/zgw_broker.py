"""A live broker whose zaaksysteem is the loopback ZGW fake (broker/devtools/zgw_fake), for the ZGW tests.

``seed_shv`` puts zaaktype SHV in the fake's catalogue the way config/mappings/shv.yaml expects it;
``write_zgw_config`` writes a configuration directory with a ``zgw`` target (routes.yaml) and the
mapping files; ``start`` runs the broker and a validating SOAP caller.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.devtools.zgw_fake import SeededZaaktype, ZGWFake
from tests.support import live
from tests.support.configs import fast_delivery, write_config
from tests.support.soapcall import SoapCaller

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID, SECRET = "stuf-broker", "geheim"
RSIN = "002220647"

SHV = {
    "statustypen": [(1, "Aanmelding ontvangen"), (2, "Intake afgerond"), (3, "Schuldregeling loopt"),
                    (4, "Zaak afgerond")],
    "roltypen": [("initiator", "Aanvrager"), ("behandelaar", "Schuldhulpverlener"),
                 ("belanghebbende", "Belanghebbende"), ("zaakcoordinator", "Coordinator"), ("adviseur", "Adviseur")],
    "informatieobjecttypen": ["Aanvraagformulier", "Verklaring", "Brief"],
    "resultaattypen": ["Afgehandeld", "Ingetrokken"],
    "besluittypen": ["Beschikking"],
}


def seed_shv(fake: ZGWFake) -> SeededZaaktype:
    return fake.add_zaaktype("SHV", "Schuldhulpverlening", **SHV)


def target_options(fake: ZGWFake, **extra: Any) -> dict[str, Any]:
    options = {"adapter": "zgw", "client_id": CLIENT_ID, "secret": SECRET, "timeout": 5,
               **{f"{api}_url": fake.url(api) for api in ("zaken", "catalogi", "documenten", "besluiten")}}
    options.update(extra)
    return options


def translate_routes(fake: ZGWFake, **extra: Any) -> dict[str, Any]:
    """``zgw`` the sync primary of every operation (translate mode)."""
    return {"targets": {"zgw": target_options(fake, **extra)},
            "routes": [{"operations": ["*"], "deliver": [{"target": "zgw", "mode": "sync"}]}],
            "delivery": fast_delivery()}


def write_zgw_config(tmp: Path, routes: dict[str, Any], *, mappings: dict[str, str] | None = None,
                     name: str = "config", catalogus: Path | None = None, broker: dict[str, Any] | None = None) -> Path:
    """A configuration directory: broker.yaml, the catalogus, routes.yaml and ``mappings/`` (the
    repository's example mappings unless ``mappings`` gives file name -> text)."""
    config = write_config(tmp, routes=routes, name=name, broker=broker)
    if catalogus is not None:
        shutil.copy(catalogus, config / "zaaktypecatalogus.yaml")
    target = config / "mappings"
    target.mkdir(exist_ok=True)
    if mappings is None:
        for path in (REPO / "config" / "mappings").glob("*.yaml"):
            shutil.copy(path, target / path.name)
    else:
        for file, text in mappings.items():
            (target / file).write_text(text, encoding="utf-8")
    return config


@dataclass
class ZgwBroker:
    live: live.LiveBroker
    soap: SoapCaller

    @property
    def broker(self):
        return self.live.broker


@contextmanager
def start(tmp: Path, config: Path, schemas: Any, **settings: Any) -> Iterator[ZgwBroker]:
    lb = live.start(live.make_settings(tmp, config_dir=config, **settings))
    caller = SoapCaller(lb.url, schemas)
    try:
        yield ZgwBroker(lb, caller)
    finally:
        caller.close()
        lb.stop()
