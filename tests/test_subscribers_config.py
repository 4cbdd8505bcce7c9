"""Subscribers in applications.yaml: the ``subscriber:`` block of an application, validated with
file:line problems, versioned and taken into use without a restart like the rest of the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.mappings.applications import Applications, parse_applications
from broker.mappings.store import ConfigStore
from broker.store import migrate
from broker.store.db import Database
from broker.stuf.stuurgegevens import Systeem

BASE = "applications:\n  - applicatie: B\n    organisatie: '1234'\n    authentication: {certificate: {subject: CN=b}}\n"


def registry(text: str) -> Applications:
    return Applications(parse_applications(text, "applications.yaml"))


def test_a_subscriber_block_is_read_with_its_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("B_PASSWORD", "geheim")
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    apps = registry(BASE + f"""    subscriber:
      url: https://b.example/zds/OntvangAsynchroon
      zds: 1.1
      authentication:
        basic: {{username: broker, password_env: B_PASSWORD}}
        certificate: {{cert_file: {cert}}}
      zaaktypen: [SHV]
      codes:
        zaaktypen: {{SHV: SCHULD}}
        statussen: {{SHV-2: INTAKE}}
""")
    [b] = apps.subscribers
    assert b.subscriber is not None
    assert b.subscriber.codes is not None and b.subscriber.codes.zaaktypen == {"SHV": "SCHULD"}
    assert (b.subscriber.codes.statussen, b.subscriber.codes.documenttypen) == ({"SHV-2": "INTAKE"}, {})
    assert (b.subscriber.zds, b.subscriber.soap_version, b.subscriber.bsn) == ("1.1", "1.1", False)
    assert b.systeem == Systeem("1234", "B")
    a = Systeem("1234", "A")
    assert b.subscribed("creeerZaak", a, "SHV")
    assert not b.subscribed("creeerZaak", a, "OTHER")  # zaaktype filter
    assert not b.subscribed("geefZaakdetails", a, "SHV")  # a question changes nothing
    assert not b.subscribed("creeerZaak", Systeem("1234", "B"), "SHV")  # never its own change


def test_filters_on_operation_and_zender() -> None:
    apps = registry(BASE + """    subscriber:
      url: http://b.example/zds/OntvangAsynchroon
      operations: [voegZaakdocumentToe]
      zenders: [A]
""")
    [b] = apps.subscribers
    assert b.subscribed("voegZaakdocumentToe", Systeem("1234", "A"), None)
    assert not b.subscribed("voegZaakdocumentToe", Systeem("1234", "C"), None)
    assert not b.subscribed("creeerZaak", Systeem("1234", "A"), None)


@pytest.mark.parametrize("block, message", [
    ("      url: ftp://b.example/x\n", "url"),
    ("      url: http://b/x\n      operations: [geefZaakdetails]\n", "not a change subscribers are told of"),
    ("      url: http://b/x\n      zds: '2.0'\n", "zds"),
    ("      url: http://b/x\n      authentication: {basic: {username: u, password_env: NOT_SET_ANYWHERE}}\n",
     "NOT_SET_ANYWHERE is not set"),
    ("      url: http://b/x\n      authentication: {certificate: {cert_file: /nonexistent/c.pem}}\n", "no file"),
    ("      url: http://b/x\n      ca_file: /nonexistent/ca.pem\n", "no file"),
    ("      url: http://b/x\n      endpoint: http://b/y\n", "endpoint"),
    ("      url: http://b/x\n      codes: {zaaktype: {SHV: SCHULD}}\n", "zaaktype"),
    ("      url: http://b/x\n      codes: {statussen: [SHV-2]}\n", "statussen"),
])
def test_mistakes_in_a_subscriber_name_their_line(block: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_applications(BASE + "    subscriber:\n" + block, "applications.yaml")
    problems = caught.value.problems
    assert any(message in str(p) for p in problems), problems
    assert all(p.line is not None and p.line >= 5 for p in problems), problems


def test_subscribers_are_versioned_and_hot_reloaded(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "applications.yaml").write_text(BASE)
    db = Database(f"sqlite:///{tmp_path}/broker.db")
    migrate.upgrade(db)
    store = ConfigStore(db, config)
    assert store.applications.subscribers == []
    store.save("applications.yaml", BASE + "    subscriber: {url: 'http://b.example/zds/OntvangAsynchroon'}\n",
               "web:ada", "B wordt abonnee")
    assert [a.applicatie for a in store.applications.subscribers] == ["B"]
    assert [v.version for v in store.history("applications.yaml")] == [2, 1]
    db.dispose()
