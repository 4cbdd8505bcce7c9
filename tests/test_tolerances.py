"""Tolerances for known clients (applications.yaml ``tolerances:``, broker.zds.tolerances).

Strict by default: the same deviation from an application without the tolerance is refused. With it,
the message is accepted, the tolerance is recorded on the message (the message log), shown on the
dashboard's message page and counted in /metrics (stuf_broker_tolerated_total).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from broker.errors import ConfigError
from broker.mappings.applications import parse_applications
from broker.store.tables import Message, MessagePayload
from tests.support import live
from tests.support import messages as m
from tests.support import zgw_messages as zm
from tests.support.dashboard_site import DashboardClient, add_users
from tests.support.soapcall import SoapAnswer, SoapCaller

ASYNC, VRAAG = "OntvangAsynchroon", "BeantwoordVraag"
PASSWORD_ENV = "TOLERANCE_TEST_PASSWORD"
PASSWORD = "tolerance-test-secret"
ALL = ["scope_unknown_element", "actualiseerzaakstatus_mutatiesoort_t", "sortering_unsupported", "future_mutation",
       "old_object_incomplete"]
APPLICATIONS = f"""
applications:
  - organisatie: KING
    applicatie: STRICT
    authentication: {{basic: {{username: strict, password_env: {PASSWORD_ENV}}}}}
  - organisatie: KING
    applicatie: LEGACY
    authentication: {{basic: {{username: legacy, password_env: {PASSWORD_ENV}}}}}
    tolerances: [{", ".join(ALL)}]
"""
ZAAK = "1234TOL0001"
FOREIGN_SCOPE = ('<ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/>'
                 '<ZKN:auteur xsi:nil="true"/><ZKN:omschrijving xsi:nil="true"/></ZKN:object>')


@pytest.fixture(scope="module")
def site(tmp_path_factory, schemas) -> Iterator[tuple[live.LiveBroker, SoapCaller]]:
    os.environ[PASSWORD_ENV] = PASSWORD
    tmp = tmp_path_factory.mktemp("tolerances")
    lb = live.start(live.make_settings(tmp, config_dir=live.config_with(tmp, **{"applications.yaml": APPLICATIONS})))
    caller = SoapCaller(lb.url, schemas)
    add_users(lb)
    try:
        answer = call(caller, "LEGACY", ASYNC, m.creeer_zaak(ZAAK, zender=("KING", "LEGACY")), zm.ACTION["creeer"])
        assert answer.berichtcode == "Bv03", answer.content
        yield lb, caller
    finally:
        caller.close()
        lb.stop()
        os.environ.pop(PASSWORD_ENV, None)


def call(caller: SoapCaller, app: str, port: str, body: str, action: str | None = None) -> SoapAnswer:
    token = base64.b64encode(f"{app.lower()}:{PASSWORD}".encode()).decode()
    return caller.call(port, body, soap_action=action, headers={"Authorization": f"Basic {token}"})


def stored(lb: live.LiveBroker, app: str) -> Message:
    """The message the application sent last."""
    with lb.broker.db.read() as s:
        return s.execute(select(Message).where(Message.zender_applicatie == app)
                         .order_by(Message.id.desc()).limit(1)).scalar_one()


def scope_message(app: str) -> str:
    return zm.geef_zaakdetails(ZAAK, FOREIGN_SCOPE, zender=("KING", app))


def status_t(app: str) -> str:
    xml = zm.actualiseer_zaakstatus(ZAAK, zm.heeft("SHV-2", "Intake afgerond", "2"), zender=("KING", app))
    return xml.replace("<StUF:mutatiesoort>W</StUF:mutatiesoort>", "<StUF:mutatiesoort>T</StUF:mutatiesoort>")


def future(app: str) -> str:
    tomorrow = (datetime.now() + timedelta(days=2)).strftime("%Y%m%d")
    tv = (f"<StUF:tijdvakGeldigheid><StUF:beginGeldigheid>{tomorrow}</StUF:beginGeldigheid><StUF:eindGeldigheid "
          'xsi:nil="true" StUF:noValue="geenWaarde"/></StUF:tijdvakGeldigheid>')
    ident = f"1234TOLF{app[:3]}"
    return m.creeer_zaak(ident, zender=("KING", app)).replace(
        "<ZKN:deelzakenIndicatie>N</ZKN:deelzakenIndicatie>", f"<ZKN:deelzakenIndicatie>N</ZKN:deelzakenIndicatie>{tv}")


def sortering(app: str) -> str:
    return zm.geef_zaakstatus(ZAAK, zender=("KING", app)).replace("<StUF:sortering>0</StUF:sortering>",
                                                                  "<StUF:sortering>2</StUF:sortering>")


def incomplete_old(app: str) -> str:
    return zm.update_zaak(ZAAK, "", "<ZKN:toelichting>bijgewerkt</ZKN:toelichting>", zender=("KING", app))


# (tolerance, the message, its port and SOAPAction, the answer when tolerated, foutcode when not)
CASES = [
    ("scope_unknown_element", scope_message, VRAAG, zm.ACTION["details"], "geefZaakdetails_ZakLa01", "StUF055"),
    ("actualiseerzaakstatus_mutatiesoort_t", status_t, ASYNC, zm.ACTION["status"], "Bv03", "StUF055"),
    ("future_mutation", future, ASYNC, zm.ACTION["creeer"], "Bv03", "StUF068"),
    ("sortering_unsupported", sortering, VRAAG, zm.ACTION["zaakstatus"], "geefZaakstatus_ZakLa01", "StUF133"),
    ("old_object_incomplete", incomplete_old, ASYNC, zm.ACTION["update"], "Bv03", "StUF055"),
]


@pytest.mark.parametrize(("tolerance", "message", "port", "action", "answered", "foutcode"), CASES,
                         ids=[c[0] for c in CASES])
def test_refused_without_the_tolerance_accepted_and_recorded_with_it(site, tolerance, message, port, action,
                                                                     answered, foutcode) -> None:
    lb, caller = site
    refused = call(caller, "STRICT", port, message("STRICT"), action)
    assert refused.foutcode == foutcode, refused.content
    assert stored(lb, "STRICT").tolerances is None

    accepted = call(caller, "LEGACY", port, message("LEGACY"), action)
    assert accepted.foutcode is None, (accepted.text("body/omschrijving"), accepted.text("body/details"))
    assert answered in (accepted.berichtcode, re.sub(r"^\{[^}]*\}", "", accepted.payload.tag))
    assert stored(lb, "LEGACY").tolerances == tolerance


def test_what_the_tolerances_did(site) -> None:
    lb, caller = site
    la01 = call(caller, "LEGACY", VRAAG, scope_message("LEGACY"), zm.ACTION["details"])
    assert la01.foutcode is None, (la01.text("body/omschrijving"), la01.text("body/details"))
    assert la01.text("antwoord/object/identificatie") == ZAAK and la01.text("antwoord/object/omschrijving")
    assert la01.text("antwoord/object/auteur") is None  # the foreign element is left out of the scope
    status = call(caller, "LEGACY", VRAAG, zm.geef_zaakstatus(ZAAK, zender=("KING", "LEGACY")), zm.ACTION["zaakstatus"])
    assert status.text("antwoord/object/heeft/gerelateerde/volgnummer") == "2"  # the T was applied as W
    details = call(caller, "LEGACY", VRAAG, zm.geef_zaakdetails(ZAAK, zender=("KING", "LEGACY")), zm.ACTION["details"])
    assert details.text("antwoord/object/toelichting") == "bijgewerkt"  # the incomplete old object was applied


def _tolerated_count(caller, url: str, tolerance: str) -> float:
    metrics = caller.http.get(f"{url}/metrics").text
    counted = re.search(rf'^stuf_broker_tolerated_total\{{tolerance="{tolerance}"\}} (\d+)', metrics, re.M)
    return float(counted.group(1)) if counted else 0.0


def test_shown_on_the_message_page_and_counted(site) -> None:
    lb, caller = site
    before = _tolerated_count(caller, lb.url, "scope_unknown_element")  # earlier tests of the module may count too
    accepted = call(caller, "LEGACY", VRAAG, scope_message("LEGACY"), zm.ACTION["details"])
    assert accepted.foutcode is None
    row = stored(lb, "LEGACY")
    dashboard = DashboardClient(lb.url)
    try:
        assert dashboard.login("vera").status_code == 303
        page = dashboard.get(f"/messages/{row.id}")
        assert page.status_code == 200
        shown = re.search(r'data-testid="tolerances"[^>]*>([^<]*)<', page.text)
        assert shown is not None and shown.group(1) == "scope_unknown_element"
    finally:
        dashboard.close()
    assert _tolerated_count(caller, lb.url, "scope_unknown_element") == before + 1


def test_an_unknown_tolerance_is_refused_at_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    text = APPLICATIONS.replace("sortering_unsupported", "sortering_unsuported")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with pytest.raises(ConfigError) as raised:
        parse_applications(text, "applications.yaml")
    problem = raised.value.problems[0]
    line = text.splitlines().index(next(x for x in text.splitlines() if 'unsuported' in x)) + 1
    assert problem.line == line and "sortering_unsuported" in problem.message
    assert "sortering_unsupported" in str(raised.value)


def test_a_queued_delivery_is_rebuilt_as_the_broker_accepted_it(site) -> None:
    """The message log keeps the message as received; a delivery the queue runs later reads it back
    with the same tolerances applied (here: mutatiesoort T read as W)."""
    lb, caller = site
    xml = status_t("LEGACY").replace("Intake afgerond", "Schuldregeling loopt").replace("SHV-2", "SHV-3") \
        .replace("<ZKN:volgnummer>2<", "<ZKN:volgnummer>3<")
    answer = call(caller, "LEGACY", ASYNC, xml, zm.ACTION["status"])
    assert answer.berichtcode == "Bv03", (answer.text("body/omschrijving"), answer.text("body/details"))
    row = stored(lb, "LEGACY")
    assert row.tolerances == "actualiseerzaakstatus_mutatiesoort_t"
    with lb.broker.db.read() as s:
        assert b"<StUF:mutatiesoort>T</StUF:mutatiesoort>" in s.get_one(MessagePayload, row.id).request
    rebuilt = lb.broker.queue.requests.rebuild(row.id)
    assert b">W</StUF:mutatiesoort>" in rebuilt.raw and b">T</StUF:mutatiesoort>" not in rebuilt.raw


def test_a_new_version_of_applications_yaml_changes_the_tolerances(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tolerances are part of the versioned registry: taking a new version into use changes them at once."""
    from broker.mappings.applications import Applications
    from broker.stuf.stuurgegevens import Systeem

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    registry = Applications(parse_applications(APPLICATIONS, "applications.yaml"))
    legacy, strict = Systeem("KING", "LEGACY"), Systeem("KING", "STRICT")
    assert registry.tolerances_of(legacy) == frozenset(ALL) and registry.tolerances_of(strict) == frozenset()
    registry.take_over(parse_applications(APPLICATIONS.replace(f"[{', '.join(ALL)}]", "[future_mutation]"),
                                          "applications.yaml"))
    assert registry.tolerances_of(legacy) == {"future_mutation"}
    assert registry.tolerances_of(Systeem("OTHER", "LEGACY")) == frozenset()  # organisatie counts too
