"""Versions of the mapping files and the zaaktypecatalogus, taken into use without a restart.

A saved mapping changes the statustype the very next message gets; an invalid change is refused and
the previous version stays in use; every version is kept with its author and time (history, diff,
rollback); another broker process on the same database picks a saved version up by itself; a file
edited on disk is imported when valid and refused when not; and an invalid file refuses the start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from broker.devtools.zgw_fake import SeededZaaktype, ZGWFake
from broker.errors import ConfigError
from broker.runtime import Broker
from tests.support import live
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.support.configs import write_config

NAME = "mappings/shv.yaml"
INTAKE = "      SHV-2: Intake afgerond"


@pytest.fixture
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        yield server
        assert server.violations == [], server.violations


@pytest.fixture
def zaaktype(fake: ZGWFake) -> SeededZaaktype:
    return zb.seed_shv(fake)


@pytest.fixture
def config(tmp_path: Path, fake: ZGWFake) -> Path:
    return zb.write_zgw_config(tmp_path, zb.translate_routes(fake))


@pytest.fixture
def zgw(tmp_path: Path, config: Path, zaaktype: SeededZaaktype, schemas,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[zb.ZgwBroker]:
    monkeypatch.setenv("STUF_BROKER_CONFIG_REFRESH_SECONDS", "0.1")
    with zb.start(tmp_path, config, schemas) as broker:
        yield broker


def _status(zgw: zb.ZgwBroker, ident: str) -> None:
    answer = zgw.soap.call("OntvangAsynchroon", zm.actualiseer_zaakstatus(ident, zm.heeft("SHV-2", "Intake afgerond", "2")),
                           soap_action=zm.ACTION["status"])
    assert answer.berichtcode == "Bv03", answer.text("body/details")


def _last_statustype(fake: ZGWFake) -> str:
    return fake.objects("statussen")[-1]["statustype"]


def test_a_saved_mapping_changes_the_statustype_of_the_next_message(zgw: zb.ZgwBroker, fake: ZGWFake,
                                                                    zaaktype: SeededZaaktype, config: Path) -> None:
    store = zgw.broker.config_store
    assert zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234HOT00001"), soap_action=zm.ACTION["creeer"]).berichtcode == "Bv03"
    _status(zgw, "1234HOT00001")
    assert _last_statustype(fake) == zaaktype.statustypen[2]

    text = store.active(NAME).text.replace(INTAKE, "      SHV-2: 3")  # from now on SHV-2 is volgnummer 3
    saved = store.save(NAME, text, author="ada", comment="intake telt als schuldregeling")
    assert (saved.version, saved.author) == (2, "ada")
    _status(zgw, "1234HOT00001")
    assert _last_statustype(fake) == zaaktype.statustypen[3]
    assert (config / NAME).read_text() == text  # written back to the configuration directory


def test_an_invalid_change_is_refused_and_the_previous_version_stays(zgw: zb.ZgwBroker, fake: ZGWFake,
                                                                     zaaktype: SeededZaaktype, config: Path) -> None:
    store = zgw.broker.config_store
    before = store.active(NAME)
    bad = before.text.replace(INTAKE, "      SHV-7: Intake afgerond")
    problems = store.validate(NAME, bad)
    assert [p.line for p in problems] == [bad.splitlines().index("      SHV-7: Intake afgerond") + 1]
    assert problems[0].suggestion and "SHV-7" in problems[0].message
    with pytest.raises(ConfigError):
        store.save(NAME, bad, author="ada")
    assert store.active(NAME).version == before.version and len(store.history(NAME)) == 1
    assert (config / NAME).read_text() == before.text
    zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234HOT00002"), soap_action=zm.ACTION["creeer"])
    _status(zgw, "1234HOT00002")
    assert _last_statustype(fake) == zaaktype.statustypen[2]  # still the old mapping


def test_history_diff_and_rollback(zgw: zb.ZgwBroker, config: Path) -> None:
    store = zgw.broker.config_store
    assert store.names() == ["zaaktypecatalogus.yaml", "mappings/omv.yaml", "mappings/shv.yaml"]
    first = store.active(NAME)
    assert (first.version, first.author) == (1, "file")
    second = store.save(NAME, first.text.replace(INTAKE, "      SHV-2: 2"), author="ada", comment="volgnummer")
    assert store.save(NAME, second.text, author="bob") == store.active(NAME)  # the same text: nothing new
    diff = store.diff(NAME, 1, 2)
    assert "-      SHV-2: Intake afgerond" in diff and "+      SHV-2: 2" in diff
    back = store.rollback(NAME, 1, author="bob")
    assert (back.version, back.author, back.comment) == (3, "bob", "rollback to version 1")
    assert back.text == first.text and (config / NAME).read_text() == first.text
    history = store.history(NAME)
    assert [v.version for v in history] == [3, 2, 1] and history[1].comment == "volgnummer"
    assert history[0].created_at >= history[1].created_at >= history[2].created_at
    assert store.get(NAME, 2).text == second.text


def test_another_process_on_the_same_database_picks_a_saved_version_up(tmp_path: Path, zgw: zb.ZgwBroker,
                                                                         fake: ZGWFake, zaaktype: SeededZaaktype,
                                                                         schemas) -> None:
    """A second broker (another host: its own configuration directory) shares the database."""
    other_config = zb.write_zgw_config(tmp_path / "host2", zb.translate_routes(fake))
    other = live.start(live.make_settings(tmp_path / "host2", config_dir=other_config,
                                          database_url=zgw.broker.settings.database_url))
    try:
        store = zgw.broker.config_store
        store.save(NAME, store.active(NAME).text.replace(INTAKE, "      SHV-2: 4"), author="ada")
        deadline = time.monotonic() + 10
        while other.broker.mappings.current.zaaktype("SHV").statustypen.get("SHV-2") != 4:
            assert time.monotonic() < deadline, "the other process did not pick the new version up"
            time.sleep(0.05)
        # the file is written right after the version is taken into use: give that write its moment
        while (other_config / NAME).read_text() != store.active(NAME).text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (other_config / NAME).read_text() == store.active(NAME).text  # its directory follows the database
    finally:
        other.stop()


def test_a_file_edited_on_disk_is_imported_when_valid_and_refused_when_not(zgw: zb.ZgwBroker, config: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    store = zgw.broker.config_store
    path = config / NAME
    original = path.read_text()
    caplog.set_level(logging.INFO)
    with capture_logs() as logs:
        path.write_text(original.replace("zaaktypen:", "zaaktypn:"))
        assert store.refresh() is False
    assert store.active(NAME).version == 1
    # the event, as structlog captured it or (a logger cached earlier in the suite) as the line it wrote
    refused = ([str(e["problems"]) for e in logs if e["event"].startswith("changed configuration file refused")]
               + [r.getMessage() for r in caplog.records if "changed configuration file refused" in r.getMessage()])
    assert refused and "did you mean 'zaaktypen'" in refused[0]
    path.write_text(original.replace(INTAKE, "      SHV-2: 2"))
    deadline = time.monotonic() + 10
    while zgw.broker.mappings.current.zaaktype("SHV").statustypen["SHV-2"] != 2:  # the refresher imports it
        assert time.monotonic() < deadline
        time.sleep(0.05)
    active = store.active(NAME)
    assert (active.version, active.author, active.comment) == (2, "file", "changed on disk")


def test_the_zaaktypecatalogus_reloads_through_the_same_store(tmp_path: Path, schemas) -> None:
    lb = live.start(live.make_settings(tmp_path, config_dir=write_config(tmp_path)))
    try:
        from tests.support.soapcall import SoapCaller

        caller = SoapCaller(lb.url, schemas)
        message = m.creeer_zaak("1234NIEUW001", zaaktype="NIEUW", zaaktype_omschrijving="Nieuw zaaktype")
        assert caller.call("OntvangAsynchroon", message, soap_action=zm.ACTION["creeer"]).foutcode == "StUF058"
        store = lb.broker.config_store
        text = store.active("zaaktypecatalogus.yaml").text + (
            "  - code: NIEUW\n    omschrijving: Nieuw zaaktype\n"
            "    statustypen: [{volgnummer: 1, omschrijving: Ontvangen}]\n")
        store.save("zaaktypecatalogus.yaml", text, author="ada")
        again = m.creeer_zaak("1234NIEUW001", zaaktype="NIEUW", zaaktype_omschrijving="Nieuw zaaktype")
        assert caller.call("OntvangAsynchroon", again, soap_action=zm.ACTION["creeer"]).berichtcode == "Bv03"
        caller.close()
    finally:
        lb.stop()


def test_an_invalid_mapping_file_refuses_the_start_with_file_and_line(tmp_path: Path, fake: ZGWFake) -> None:
    config = zb.write_zgw_config(tmp_path, zb.translate_routes(fake))
    path = config / NAME
    path.write_text(path.read_text().replace("    roltypen:", "    roltype:"))
    with pytest.raises(ConfigError) as refused:
        Broker(live.make_settings(tmp_path, config_dir=config))
    (problem,) = refused.value.problems
    assert problem.file == str(path) and problem.suggestion == "roltypen"
    assert problem.line == next(i for i, line in enumerate(path.read_text().splitlines(), start=1)
                                if line.startswith("    roltype:"))
