"""Operators mend deliveries from the dashboard, and each action is in the audit log: who, what, when."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.web.dashboard import audit
from broker.web.dashboard.messagelist import LOCAL
from broker.web.dashboard.tables import AuditEntry
from tests.support.dashboard_site import Site, start_site
from tests.support.target import CountingTarget


@pytest.fixture
def site(tmp_path: Path, schemas, target: CountingTarget) -> Iterator[Site]:
    s = start_site(tmp_path, schemas, target, on_dead="skip")
    yield s
    s.stop()


def audit_entries(site: Site, action: str | None = None) -> list[AuditEntry]:
    with site.lb.broker.db.read() as s:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return list(s.execute(stmt).scalars())


def dead_letter(site: Site, zaak: str) -> int:
    """A creeerZaak whose archief delivery the target refuses with a client-side Fo03 (dead at once)."""
    site.target.fail_next = ["client"]
    site.creeer(zaak)
    site.wait_for(lambda: any(d.state == "dead" for d in site.deliveries("archief") if d.ordering_key == zaak))
    return next(d.id for d in site.deliveries("archief") if d.ordering_key == zaak)


def state(site: Site, delivery_id: int) -> str:
    return next(d.state for d in site.deliveries() if d.id == delivery_id)


def test_retrying_a_dead_delivery_delivers_it_and_is_audited(site: Site) -> None:
    delivery_id = dead_letter(site, "1234ACT01")
    c = site.client("operator")
    message = next(d.message_id for d in site.deliveries() if d.id == delivery_id)
    page = c.get(f"/messages/{message}")
    assert f'data-testid="retry-{delivery_id}"' in page.text and "dead" in page.text
    r = c.post(f"/deliveries/{delivery_id}/retry")
    assert r.status_code == 303 and r.headers["location"] == f"/dashboard/messages/{message}"
    site.wait_for(lambda: state(site, delivery_id) == "delivered")
    [entry] = audit_entries(site, "queue.retry")
    assert entry.actor == "web:otto" and entry.at is not None
    assert entry.detail == {"ids": [delivery_id], "count": 1, "message_id": message}
    assert "queued again" in c.get(f"/messages/{message}").text


def test_cancelling_a_dead_delivery_is_audited(site: Site) -> None:
    delivery_id = dead_letter(site, "1234ACT02")
    r = site.client("operator").post(f"/deliveries/{delivery_id}/cancel")
    assert r.status_code == 303
    assert state(site, delivery_id) == "cancelled"
    [entry] = audit_entries(site, "queue.cancel")
    assert entry.actor == "web:otto" and entry.detail["ids"] == [delivery_id] and entry.detail["count"] == 1


def shown_ids(page_text: str) -> list[int]:
    """The delivery ids a list page offers to a bulk retry (its hidden ``ids`` field)."""
    found = re.search(r'name="ids" value="([0-9,]*)"', page_text)
    return [int(i) for i in found.group(1).split(",")] if found else []


def test_a_bulk_retry_revives_the_dead_deliveries_a_filter_selects_and_no_others(site: Site) -> None:
    first = dead_letter(site, "1234BULK1")
    second = dead_letter(site, "1234BULK2")
    other = dead_letter(site, "1234KEEP1")
    c = site.client("operator")
    assert c.get("/").text.count('data-testid="kpi-dead">3<') == 1
    listed = c.get("/messages", params={"state": "dead", "zaak": "1234BULK1"}).text
    assert shown_ids(listed) == [first] and "Retry 1 dead delivery" in listed
    r = c.post("/messages/bulk-retry", {"state": "dead", "zaak": "1234BULK1", "ids": str(first)})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/messages?state=dead&zaak=1234BULK1"
    site.wait_for(lambda: state(site, first) == "delivered")
    assert state(site, second) == "dead" and state(site, other) == "dead"
    listed = c.get("/messages", params={"state": "dead", "operation": "creeerZaak"}).text
    assert sorted(shown_ids(listed)) == sorted([second, other]) and "Retry 2 dead deliveries" in listed
    c.post("/messages/bulk-retry", {"state": "dead", "operation": "creeerZaak", "ids": f"{second},{other}"})
    site.wait_for(lambda: state(site, second) == "delivered" and state(site, other) == "delivered")
    one, two = audit_entries(site, "queue.bulk_retry")
    assert one.actor == "web:otto" and one.detail == {"filter": {"state": "dead", "zaak": "1234BULK1"},
                                                      "ids": [first], "shown": 1, "count": 1}
    assert sorted(two.detail["ids"]) == sorted([second, other]) and two.detail["count"] == 2


def test_a_bulk_retry_touches_only_the_ids_that_were_shown(site: Site) -> None:
    """A delivery that died after the page was shown is not retried along with the others."""
    first = dead_letter(site, "1234SHWN1")
    c = site.client("operator")
    ids = shown_ids(c.get("/messages", params={"state": "dead"}).text)
    assert ids == [first]
    later = dead_letter(site, "1234SHWN2")
    c.post("/messages/bulk-retry", {"state": "dead", "ids": ",".join(map(str, ids))})
    site.wait_for(lambda: state(site, first) == "delivered")
    assert state(site, later) == "dead"
    [entry] = audit_entries(site, "queue.bulk_retry")
    assert entry.detail["ids"] == [first] and entry.detail["count"] == 1


@pytest.mark.parametrize("typed", ["gisteren", "2026-13-45", "32-12-2026", "06-12-2026 25:00"])
def test_an_unreadable_date_is_refused_at_its_field_and_a_bulk_retry_then_does_nothing(
        site: Site, typed: str) -> None:
    dead = dead_letter(site, "1234DATE1")
    c = site.client("operator")
    page = c.get("/messages", params={"since": typed})
    assert page.status_code == 400
    assert 'data-testid="error-since"' in page.text and "cannot read" in page.text and typed in page.text
    assert "No messages match." in page.text and 'data-testid="bulk-retry"' not in page.text
    r = c.post("/messages/bulk-retry", {"state": "dead", "since": typed, "ids": str(dead)})
    assert r.status_code == 303
    assert "Nothing retried" in c.get("/messages").text
    assert state(site, dead) == "dead" and audit_entries(site, "queue.bulk_retry") == []


def test_a_bulk_retry_without_the_shown_ids_does_nothing(site: Site) -> None:
    dead = dead_letter(site, "1234NOID1")
    c = site.client("operator")
    c.post("/messages/bulk-retry", {"state": "dead"})
    assert state(site, dead) == "dead" and audit_entries(site, "queue.bulk_retry") == []


def test_dutch_dates_local_time_and_offsets_select_the_same_messages(site: Site) -> None:
    dead_letter(site, "1234TIME1")
    c = site.client("operator")
    now = datetime.now(UTC)
    local = now.astimezone(LOCAL)
    before, after = now - timedelta(minutes=5), now + timedelta(minutes=5)
    for since in (before.astimezone(LOCAL).strftime("%d-%m-%Y %H:%M"),  # Dutch, local time
                  before.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M"),  # ISO, local time
                  before.strftime("%Y-%m-%dT%H:%M:%SZ"),  # UTC
                  before.astimezone(timezone(timedelta(hours=5))).isoformat(timespec="minutes"),  # an offset
                  local.strftime("%d-%m-%Y")):  # a bare date, from its start
        page = c.get("/messages", params={"since": since, "zaak": "1234TIME1"})
        assert page.status_code == 200 and "1234TIME1" in page.text.split("<tbody>")[1], since
    page = c.get("/messages", params={"since": after.astimezone(LOCAL).strftime("%d-%m-%Y %H:%M")})
    assert "No messages match." in page.text
    page = c.get("/messages", params={"until": local.strftime("%d-%m-%Y"), "zaak": "1234TIME1"})
    assert "1234TIME1" in page.text.split("<tbody>")[1]  # a bare date as the end includes that day


def test_the_audit_log_page_lists_who_did_what(site: Site) -> None:
    delivery_id = dead_letter(site, "1234ACT03")
    site.client("operator").post(f"/deliveries/{delivery_id}/cancel")
    page = site.client("operator").get("/audit")
    assert "web:otto" in page.text and "queue.cancel" in page.text and f"[{delivery_id}]" in page.text


def test_sign_ins_and_failed_sign_ins_are_audited(site: Site) -> None:
    site.client("viewer")
    site.client().login("vera", "wrong password")
    actions = [(e.actor, e.action) for e in audit_entries(site)]
    assert ("web:vera", "user.login") in actions and ("web:vera", "user.login_failed") in actions


def test_account_changes_on_the_users_page_are_audited(site: Site) -> None:
    c = site.client("administrator")
    c.post("/users", {"username": "eve", "role": "viewer", "password": "a long password"})
    c.post("/users/eve/role", {"role": "operator"})
    c.post("/users/eve/password", {"password": "another long one"})
    got = [(e.actor, e.action, e.detail) for e in audit_entries(site) if e.action.startswith("user.")
           and e.action not in ("user.login", "user.login_failed")]
    assert got == [("web:ada", "user.add", {"username": "eve", "role": "viewer"}),
                   ("web:ada", "user.role", {"username": "eve", "from": "viewer", "to": "operator"}),
                   ("web:ada", "user.passwd", {"username": "eve"})]
    assert "a long password" not in str(got)


def test_the_overview_shows_target_health_and_the_dead_letters(site: Site) -> None:
    delivery_id = dead_letter(site, "1234OVR01")
    page = site.client("viewer").get("/")
    assert page.status_code == 200
    assert 'data-target="archief"' in page.text and "StUF055" in page.text
    assert f"<td>{delivery_id}</td>" in page.text and "<svg" in page.text


def test_the_audit_log_shows_its_detail_as_written(site: Site) -> None:
    with site.lb.broker.db.write() as s:
        audit.record(s, "web:ada", "mapping.save", {"comment": "code 01 -> 02 & <b>vet</b>"})
    page = site.client("administrator").get("/audit").text
    assert "code 01 -&gt; 02 &amp; &lt;b&gt;vet&lt;/b&gt;" in page and "\\u003e" not in page
