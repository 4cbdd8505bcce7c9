"""StUF-BG kennisgevingen distributed to the afnemers: a person source (BRP, ``person_source: true``)
sends npsLk01 T/W/V/C/F to /bg/OntvangAsynchroon; the broker answers Bv03 once the message and its
deliveries are stored and sends each afnemer holding an afnemerindicatie for the person (KCC, FORMS:
loopback StUF-BG endpoints validating every npsLk01 against the BG schemas) its own npsLk01 through the
queue, in per-person order, with retries; nothing to an application without an indicatie, nothing
more once it is removed (what is queued is cancelled); no person data in log lines or ordering keys."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from broker.queue.tables import Delivery
from broker.services import afnemerindicaties
from broker.store.tables import Message
from broker.stuf.stuurgegevens import Systeem
from tests.support import applications, live
from tests.support.bg_afnemer import LK01_ACTION, BgAfnemer, mutatie
from tests.support.bg_messages import bsn as npslv01_bsn
from tests.support.bg_messages import lk01
from tests.support.soapcall import SoapAnswer, SoapCaller
from tests.support.waiting import wait_until

ORG = "1234"
PASSWORDS = {"BRP": "wachtwoord-brp", "KCC": "wachtwoord-kcc", "FORMS": "wachtwoord-forms"}
#: a person per test (any BSN passing the 11-proof works for a mutation); 999990408 is asked for by FORMS
PERSONS = iter(["999993653", "999970586", "000009830", "999970239", "000009969", "999993380", "999991978",
                "999993847", "999990950", "999995078", "999995339", "999992703"])


def application(applicatie: str, **extra: Any) -> dict[str, Any]:
    return applications.entry(ORG, applicatie, "BGTEST", **extra)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, schemas: Any) -> Iterator[dict[str, Any]]:
    mp = pytest.MonkeyPatch()
    for app, password in PASSWORDS.items():
        mp.setenv(f"BGTEST_{app}", password)
    afnemers = {name: BgAfnemer(schemas, applicatie=name, organisatie=ORG).start() for name in ("KCC", "FORMS")}
    apps = [application("BRP", person_source=True, operations=["npsLk01"]),
            application("KCC", afnemer={"url": afnemers["KCC"].url}),
            application("FORMS", afnemer={"url": afnemers["FORMS"].url})]
    lb = applications.start(tmp_path_factory.mktemp("bgkennisgevingen"), apps)
    caller = SoapCaller(lb.url, schemas)
    yield {"lb": lb, "soap": caller, **afnemers}
    caller.close()
    lb.stop()
    for a in afnemers.values():
        a.stop()
    mp.undo()


def basic(applicatie: str) -> dict[str, str]:
    return applications.basic(applicatie.lower(), PASSWORDS[applicatie])


def send(world: dict[str, Any], sender: str, xml: str) -> SoapAnswer:
    answer = world["soap"].call("bg/OntvangAsynchroon", xml, soap_action=LK01_ACTION, headers=basic(sender))
    assert answer.berichtcode == "Bv03", answer.content[:2000]
    return answer


def follow(world: dict[str, Any], afnemer: str, bsn: str, mutatiesoort: str = "T") -> None:
    """The afnemer places (T) or removes (V) its indicatie with an npsLk01 addressed to the broker."""
    send(world, afnemer, lk01(bsn, mutatiesoort, f"{afnemer}-{mutatiesoort}-{time.monotonic_ns()}", afnemer))


def deliveries(lb: live.LiveBroker, message_ids: list[int]) -> list[Delivery]:
    with lb.broker.db.read() as s:
        return list(s.execute(select(Delivery).where(Delivery.message_id.in_(message_ids))
                              .order_by(Delivery.id)).scalars())


def settled(lb: live.LiveBroker, message_ids: list[int]) -> Callable[[], bool]:
    return lambda: all(d.state in ("delivered", "dead", "cancelled") for d in deliveries(lb, message_ids))


def distribute(world: dict[str, Any], bsn: str, mutatiesoort: str, naam: str, **kw: Any) -> int:
    """The source's mutation; the id of its message."""
    answer = send(world, "BRP", mutatie(bsn, mutatiesoort, naam, **kw))
    with world["lb"].broker.db.read() as s:
        return s.execute(select(Message.id).where(Message.referentienummer == answer.text("stuurgegevens/crossRefnummer"))
                         ).scalar_one()


def about(afnemer: BgAfnemer, bsn: str) -> list[tuple[str | None, str | None, str | None]]:
    return [p for p in afnemer.persons() if p[1] == bsn]


def held_by(lb: live.LiveBroker, bsn: str) -> list[str]:
    with lb.broker.db.read() as s:
        return sorted(i.afnemer.applicatie or "" for i in afnemerindicaties.listed(s, bsn=bsn))


def test_only_the_afnemer_with_an_indicatie_receives_the_kennisgeving(world: dict[str, Any]) -> None:
    lb, kcc, forms, bsn = world["lb"], world["KCC"], world["FORMS"], next(PERSONS)
    follow(world, "KCC", bsn)
    message = distribute(world, bsn, "W", "Nieuw")
    wait_until(settled(lb, [message]))
    assert about(kcc, bsn) == [("W", bsn, "Nieuw")]
    assert about(forms, bsn) == []  # FORMS holds no indicatie for this person
    [received] = [r for r in kcc.accepted() if r.text("//*[local-name()='inp.bsn']") == bsn]
    assert received.sg.zender == lb.broker.own and received.sg.ontvanger == Systeem(ORG, "KCC")
    assert received.sg.referentienummer and not received.sg.referentienummer.startswith("brp-")  # its own
    assert len(received.body.xpath("//*[local-name()='object']")) == 2  # old and new
    rows = deliveries(lb, [message])
    assert [(d.target, d.state) for d in rows] == [("personen-mutaties", "delivered"), ("afnemer:1234/KCC", "delivered")]
    assert all(d.ordering_key and d.ordering_key.startswith("nps:") and bsn not in d.ordering_key for d in rows)
    assert not kcc.problems and not forms.problems


def test_every_mutatiesoort_reaches_the_afnemer_in_order_and_a_v_ends_the_indicatie(world: dict[str, Any]) -> None:
    lb, soap, forms, bsn = world["lb"], world["soap"], world["FORMS"], "999990408"
    # FORMS follows the person by asking with indicatorAfnemerIndicatie (StUF 03.01)
    answer = soap.call("bg/BeantwoordVraag", npslv01_bsn(bsn, afnemerindicatie=True).replace(
        "<StUF:applicatie>KCC</StUF:applicatie>", "<StUF:applicatie>FORMS</StUF:applicatie>", 1),
        soap_action="http://www.egem.nl/StUF/sector/bg/0310/npsLv01", headers=basic("FORMS"))
    assert answer.text("parameters/indicatorAfnemerIndicatie") == "true", answer.content[:2000]
    assert held_by(lb, bsn) == ["FORMS"]
    messages = [distribute(world, bsn, soort, f"Naam{soort}") for soort in ("T", "W", "C", "F", "V")]
    wait_until(settled(lb, messages))
    assert [(s, n) for s, _, n in about(forms, bsn)] == [("T", "NaamT"), ("W", "NaamW"), ("C", "NaamC"),
                                                         ("F", "NaamF"), ("V", "NaamV")]
    assert held_by(lb, bsn) == []  # the person left the source: the indicatie lapsed
    assert about(world["KCC"], bsn) == [] and not forms.problems


def test_after_the_indicatie_is_removed_nothing_more_arrives(world: dict[str, Any]) -> None:
    lb, kcc, bsn = world["lb"], world["KCC"], next(PERSONS)
    follow(world, "KCC", bsn)
    first = distribute(world, bsn, "W", "Eerste")
    wait_until(settled(lb, [first]))
    follow(world, "KCC", bsn, "V")  # the afnemer removes its indicatie
    assert held_by(lb, bsn) == []
    second = distribute(world, bsn, "W", "Tweede")
    wait_until(settled(lb, [second]))
    assert [d.target for d in deliveries(lb, [second])] == ["personen-mutaties"]
    time.sleep(0.3)  # give a wrongly queued kennisgeving the time to arrive
    assert about(kcc, bsn) == [("W", bsn, "Eerste")]


def test_an_indicatie_removed_while_the_afnemer_is_down_cancels_what_waits(world: dict[str, Any]) -> None:
    lb, kcc, bsn = world["lb"], world["KCC"], next(PERSONS)
    follow(world, "KCC", bsn)
    kcc.down = True
    try:
        message = distribute(world, bsn, "W", "Onderweg")
        wait_until(lambda: any(r.answered == "503" for r in kcc.received
                               if r.text("//*[local-name()='inp.bsn']") == bsn))
        with lb.broker.db.write() as s:  # as an administrator would (CLI, dashboard)
            assert afnemerindicaties.remove(s, bsn, Systeem(ORG, "KCC"))
        # still down: an attempt that had passed its check before the removal may not reach it meanwhile
        wait_until(settled(lb, [message]))
    finally:
        kcc.down = False
    [_, queued] = deliveries(lb, [message])
    assert queued.state == "cancelled" and "afnemerindicatie" in (queued.note or "")
    assert about(kcc, bsn) == []


def test_an_afnemer_that_is_down_gets_everything_after_it_returns_in_order(world: dict[str, Any]) -> None:
    lb, forms, bsn = world["lb"], world["FORMS"], next(PERSONS)
    follow(world, "FORMS", bsn)
    forms.down = True
    try:
        messages = [distribute(world, bsn, "W", f"Versie{i}", oud=f"Versie{i - 1}") for i in range(1, 5)]
        wait_until(lambda: sum(r.answered == "503" for r in forms.received
                               if r.text("(//*[local-name()='inp.bsn'])[last()]") == bsn) >= 2)
        refused = {r.text("(//*[local-name()='geslachtsnaam'])[last()]") for r in forms.received
                   if r.answered == "503" and r.text("(//*[local-name()='inp.bsn'])[last()]") == bsn}
        assert refused == {"Versie1"}  # the later ones wait behind the first: one person's order is kept
    finally:
        forms.down = False
    wait_until(settled(lb, messages))
    assert about(forms, bsn) == [("W", bsn, f"Versie{i}") for i in range(1, 5)]
    assert all(d.state == "delivered" for d in deliveries(lb, messages)) and not forms.problems


def test_a_mutation_nobody_follows_is_stored_and_answered(world: dict[str, Any]) -> None:
    lb, bsn = world["lb"], next(PERSONS)
    message = distribute(world, bsn, "T", "Nieuwkomer")
    assert [(d.target, d.state) for d in deliveries(lb, [message])] == [("personen-mutaties", "delivered")]
    assert about(world["KCC"], bsn) == [] and about(world["FORMS"], bsn) == []


def test_an_afnemers_own_w_is_still_refused(world: dict[str, Any]) -> None:
    answer = world["soap"].call("bg/OntvangAsynchroon", mutatie("999993653", "W", "X", zender=(ORG, "KCC")),
                                soap_action=LK01_ACTION, headers=basic("KCC"))
    assert answer.foutcode == "StUF025" and "person_source" in (answer.text("body/details") or ""), answer.content


def test_no_person_data_in_the_log_lines_of_a_distribution(world: dict[str, Any], capfd: pytest.CaptureFixture[str],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    lb, bsn = world["lb"], next(PERSONS)
    caplog.set_level(logging.INFO)
    capfd.readouterr()
    follow(world, "KCC", bsn)
    message = distribute(world, bsn, "W", "Geheimnaam")
    wait_until(settled(lb, [message]))
    out, err = capfd.readouterr()
    # the lines as written to the process's stderr, and as the standard library handed them on (a handler
    # made earlier in the suite may write to a stream the fd capture does not see)
    written = out + err + "\n".join(r.getMessage() for r in caplog.records)
    assert "person mutation distributed" in written
    assert bsn not in written and "Geheimnaam" not in written


def test_administrators_place_and_remove_indicaties_in_the_dashboard_audited(world: dict[str, Any]) -> None:
    from broker.web.dashboard import audit
    from tests.support.dashboard_site import USERS, DashboardClient, add_users

    lb, kcc, bsn = world["lb"], world["KCC"], next(PERSONS)
    add_users(lb)
    clients = {role: DashboardClient(lb.url) for role in USERS}
    try:
        for role, client in clients.items():
            assert client.login(USERS[role]).status_code == 303
        admin, operator, viewer = clients["administrator"], clients["operator"], clients["viewer"]
        assert admin.post("/afnemers", {"bsn": "123456789", "afnemer": "1234/KCC"}).status_code == 400  # no BSN
        assert viewer.post("/afnemers", {"bsn": bsn, "afnemer": "1234/KCC"}).status_code == 403
        assert operator.post("/afnemers", {"bsn": bsn, "afnemer": "1234/KCC"}).status_code == 403
        assert admin.post("/afnemers", {"bsn": bsn, "afnemer": "1234/KCC"}).status_code == 303
        assert held_by(lb, bsn) == ["KCC"]
        message = distribute(world, bsn, "W", "Beheerd")
        wait_until(settled(lb, [message]))
        assert about(kcc, bsn) == [("W", bsn, "Beheerd")]
        seen = viewer.get("/afnemers")
        assert seen.status_code == 200 and "1234/KCC" in seen.text
        assert bsn not in seen.text and "*********" in seen.text  # masked for a viewer
        assert bsn in operator.post("/afnemers/zoek", {"bsn": bsn}).text  # a form: no BSN in an address
        assert admin.post("/afnemers/remove", {"bsn": bsn, "organisatie": "1234", "applicatie": "KCC"}).status_code == 303
        assert held_by(lb, bsn) == []
        later = distribute(world, bsn, "W", "Onbeheerd")
        wait_until(settled(lb, [later]))
        assert about(kcc, bsn) == [("W", bsn, "Beheerd")]
        with lb.broker.db.read() as s:
            entries = [e for e in audit.recent(s, limit=50) if e.action.startswith("afnemerindicatie.")]
        assert [e.action for e in entries[:2]] == ["afnemerindicatie.remove", "afnemerindicatie.place"]
        assert all(e.actor == f"web:{USERS['administrator']}" and e.detail["afnemer"] == "1234/KCC"
                   and bsn not in str(e.detail) for e in entries[:2])
    finally:
        for client in clients.values():
            client.close()


def test_a_server_fault_is_retried_with_the_same_message_and_a_client_fault_is_a_dead_letter(
        world: dict[str, Any]) -> None:
    lb, forms, bsn = world["lb"], world["FORMS"], next(PERSONS)
    follow(world, "FORMS", bsn)
    forms.answers = ["server", "Bv03", "client"]
    retried = distribute(world, bsn, "W", "Herhaald")
    wait_until(settled(lb, [retried]))
    tries = [r for r in forms.received if r.text("(//*[local-name()='inp.bsn'])[last()]") == bsn]
    assert [r.answered for r in tries] == ["server", "Bv03"]
    assert tries[0].sg.referentienummer == tries[1].sg.referentienummer  # the same message again (§4.4.3)
    assert tries[0].sg.tijdstipBericht == tries[1].sg.tijdstipBericht
    refused = distribute(world, bsn, "W", "Geweigerd")
    wait_until(settled(lb, [refused]))
    [_, dead] = deliveries(lb, [refused])
    assert dead.state == "dead" and dead.attempts == 1 and "StUF055" in (dead.target_answer or "")


def test_the_afnemer_block_is_checked_with_file_and_line() -> None:
    from broker.errors import ConfigError
    from broker.mappings.applications import parse_applications

    text = """applications:
  - applicatie: KCC
    authentication: {basic: {username: kcc, password_env: BGTEST_KCC_IN}}
    afnemer:
      url: https://kcc.example.nl/bg/OntvangAsynchroon
      authentication:
        basic: {username: broker, password_env: BGTEST_NOT_SET}
      ca_file: /nonexistent/ca.pem
"""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BGTEST_KCC_IN", "x")
        with pytest.raises(ConfigError) as caught:
            parse_applications(text, "applications.yaml")
        problems = [str(p) for p in caught.value.problems]
        assert any("afnemer basic: environment variable BGTEST_NOT_SET" in p and ":7" in p for p in problems), problems
        assert any("afnemer ca_file: no file /nonexistent/ca.pem" in p and ":8" in p for p in problems), problems
        model = parse_applications(text.replace("      ca_file: /nonexistent/ca.pem\n", "").replace(
            "BGTEST_NOT_SET", "BGTEST_KCC_IN") + "  - {applicatie: BRP, person_source: true, authentication: "
            "{basic: {username: brp, password_env: BGTEST_KCC_IN}}}\n", "applications.yaml")
    assert model.applications[0].afnemer is not None and model.applications[1].person_source
