"""The options of a ``zgw`` target in routes.yaml: the secret from the environment, identificaties
from a template, and mistakes refused at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.devtools.zgw_fake import ZGWFake
from broker.errors import ConfigError
from broker.runtime import Broker
from tests.support import live
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm


@pytest.fixture
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        zb.seed_shv(server)
        yield server
        assert server.violations == [] and server.auth_failures == []


def test_the_secret_may_come_from_the_environment(tmp_path: Path, fake: ZGWFake, schemas,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENZAAK_SECRET", zb.SECRET)
    routes = zb.translate_routes(fake)
    del routes["targets"]["zgw"]["secret"]
    routes["targets"]["zgw"]["secret_env"] = "OPENZAAK_SECRET"
    with zb.start(tmp_path, zb.write_zgw_config(tmp_path, routes), schemas) as zgw:
        answer = zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234ENV00001"), soap_action=zm.ACTION["creeer"])
    assert answer.berichtcode == "Bv03" and len(fake.objects("zaken")) == 1


def test_identificaties_follow_the_configured_template(tmp_path: Path, fake: ZGWFake, schemas) -> None:
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
    ({"notificaties": {"url": "http://n/api/v1", "callback_url": "http://b/zgw/notificaties",
                       "auth_env": "NOT_SET_ANYWHERE"}}, "NOT_SET_ANYWHERE"),
    ({"notificaties": {"url": "ftp://n", "callback_url": "http://b/zgw/notificaties", "auth": "Bearer x"}}, "url"),
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
    # each problem points at the line of the option it is about (or of the target)
    lines = (tmp_path / "config" / "routes.yaml").read_text().splitlines()
    for problem in refused.value.problems:
        assert problem.line is not None, problem
        key = lines[problem.line - 1].split(":")[0].strip()  # the key on that line, e.g. zaak (identificaties.zaak)
        assert key in problem.message, (problem, lines[problem.line - 1])


def _genereer_document_identificatie() -> str:
    return (f"<ZDS:genereerDocumentIdentificatie_Di02 {m.NSDECL}>"
            f"{m.stuurgegevens('ZDS', 'Di02', functie='genereerDocumentidentificatie')}"
            "</ZDS:genereerDocumentIdentificatie_Di02>")


def test_identificaties_may_be_reserved_at_open_zaak(tmp_path: Path, fake: ZGWFake, schemas) -> None:
    routes = zb.translate_routes(fake, identificaties={"zaak": "reserve", "document": "reserve"})
    config = zb.write_zgw_config(tmp_path, routes)
    # Open Zaak's zaaknummers do not start with the gemeentecode: the administrator accepts that
    with zb.start(tmp_path, config, schemas, checks__identificatie_prefix=False) as zgw:
        answer = zgw.soap.call("VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie(),
                               soap_action=zm.ACTION["genereer"])
        zaaknummer = answer.text("zaak/identificatie") or ""
        created = zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak(zaaknummer), soap_action=zm.ACTION["creeer"])
        document = zgw.soap.call("VerwerkSynchroonVrijBericht", _genereer_document_identificatie(),
                                 soap_action=m.ZDS_ACTION + "genereerDocumentIdentificatie_Di02")
    reserved = {r["soort"]: r for r in fake.store.all("reserveringen")}
    assert zaaknummer == reserved["zaak"]["identificatie"] and zaaknummer.startswith("ZAAK-")
    assert reserved["zaak"]["bronorganisatie"] == zb.RSIN
    assert created.berichtcode == "Bv03", created.content.decode()
    assert [z["identificatie"] for z in fake.objects("zaken")] == [zaaknummer]
    assert document.text("document/identificatie") == reserved["document"]["identificatie"]
    assert fake.calls("POST", "/zaken/api/v1/zaaknummer_reserveren")[0].body == {"bronorganisatie": zb.RSIN}


def test_a_reserved_zaaknummer_without_the_gemeentecode_is_not_handed_out(tmp_path: Path, fake: ZGWFake,
                                                                          schemas) -> None:
    routes = zb.translate_routes(fake, identificaties={"zaak": "reserve"})
    with zb.start(tmp_path, zb.write_zgw_config(tmp_path, routes), schemas) as zgw:
        answer = zgw.soap.call("VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie(),
                               soap_action=zm.ACTION["genereer"])
    assert answer.is_fault and answer.foutcode == "StUF058"
    assert "checks.identificatie_prefix" in (answer.text("body/details") or "")


def test_reserving_at_a_server_without_the_extension_says_what_to_configure(tmp_path: Path, fake: ZGWFake,
                                                                             schemas) -> None:
    fake.open_zaak_extensions = False  # a ZGW server with only the standard APIs
    routes = zb.translate_routes(fake, identificaties={"zaak": "reserve"})
    with zb.start(tmp_path, zb.write_zgw_config(tmp_path, routes), schemas) as zgw:
        answer = zgw.soap.call("VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie(),
                               soap_action=zm.ACTION["genereer"])
    assert answer.is_fault and answer.foutcode == "StUF058"
    assert "template" in (answer.text("body/details") or "")
    fake.violations.clear()  # the 404 the fake recorded was the point of this test


def test_a_besluitidentificatie_cannot_be_reserved(tmp_path: Path, fake: ZGWFake) -> None:
    routes = zb.translate_routes(fake, identificaties={"besluit": "reserve"})
    with pytest.raises(ConfigError) as refused:
        Broker(live.make_settings(tmp_path, config_dir=zb.write_zgw_config(tmp_path, routes)))
    assert any("identificaties.besluit" in str(p) for p in refused.value.problems)


def test_an_unknown_zgw_option_gets_a_suggestion_like_every_adapter(tmp_path: Path, fake: ZGWFake) -> None:
    routes = zb.translate_routes(fake)
    routes["targets"]["zgw"]["zaken_ur"] = routes["targets"]["zgw"].pop("zaken_url")
    with pytest.raises(ConfigError) as refused:
        Broker(live.make_settings(tmp_path, config_dir=zb.write_zgw_config(tmp_path, routes)))
    texts = [str(p) for p in refused.value.problems]
    assert any("unknown option 'zaken_ur'" in t and "zaken_url" in t for t in texts), texts


@pytest.mark.parametrize(("notificaties", "message"), [
    ({"url": "http://n/api/v1", "callback_url": "http://b/zgw/notificaties"}, "give auth or auth_env"),
    ({"url": "http://n/api/v1", "callback_url": "http://b/zgw/notificaties", "auth": "Bearer x",
      "kanalen": ["autorisaties"]}, "notificaties.kanalen.0"),
])
def test_the_notificaties_option_is_checked(tmp_path: Path, fake: ZGWFake, notificaties: dict, message: str) -> None:
    routes = zb.translate_routes(fake, notificaties=notificaties)
    with pytest.raises(ConfigError) as refused:
        Broker(live.make_settings(tmp_path, config_dir=zb.write_zgw_config(tmp_path, routes)))
    assert any(message in str(p) and p.line is not None for p in refused.value.problems), refused.value
