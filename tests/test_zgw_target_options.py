"""The options of a ``zgw`` target in routes.yaml: the secret from the environment, identificaties
from a template, and mistakes refused at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.runtime import Broker
from tests.support import live
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.zgw_fake import ZGWFake


@pytest.fixture
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        zb.seed_shv(server)
        yield server
        assert server.violations == [] and server.auth_failures == []


def test_the_secret_may_come_from_the_environment(tmp_path: Path, fake: ZGWFake, schemas,  # noqa: ANN001
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENZAAK_SECRET", zb.SECRET)
    routes = zb.translate_routes(fake)
    del routes["targets"]["zgw"]["secret"]
    routes["targets"]["zgw"]["secret_env"] = "OPENZAAK_SECRET"
    with zb.start(tmp_path, zb.write_zgw_config(tmp_path, routes), schemas) as zgw:
        answer = zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234ENV00001"), soap_action=zm.ACTION["creeer"])
    assert answer.berichtcode == "Bv03" and len(fake.objects("zaken")) == 1


def test_identificaties_follow_the_configured_template(tmp_path: Path, fake: ZGWFake, schemas) -> None:  # noqa: ANN001
    routes = zb.translate_routes(fake, identificaties={"zaak": "{gemeentecode}-SHV-{jaar}-{volgnummer:04d}"})
    with zb.start(tmp_path, zb.write_zgw_config(tmp_path, routes), schemas) as zgw:
        answer = zgw.soap.call("VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie(),
                               soap_action=zm.ACTION["genereer"])
    ident = answer.text("zaak/identificatie") or ""
    assert ident.startswith("1234-SHV-") and ident.endswith("-0001")


@pytest.mark.parametrize(("change", "message"), [
    ({"secret_env": "NOT_SET_ANYWHERE", "secret": None}, "NOT_SET_ANYWHERE"),
    ({"zaken_adres": "http://x"}, "zaken_adres"),
    ({"identificaties": {"zaak": "Z{volgnummer}"}}, "begin the template with {gemeentecode}"),
    ({"identificaties": {"zaak": "{gemeentecode}{onbekend}"}}, "cannot be filled"),
])
def test_mistakes_in_the_options_refuse_the_start(tmp_path: Path, fake: ZGWFake, change: dict, message: str) -> None:
    routes = zb.translate_routes(fake)
    target = routes["targets"]["zgw"]
    for key, value in change.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    with pytest.raises(ConfigError) as refused:
        Broker(live.make_settings(tmp_path, config_dir=zb.write_zgw_config(tmp_path, routes)))
    assert any(message in str(p) and "routes.yaml" in p.file for p in refused.value.problems), refused.value
