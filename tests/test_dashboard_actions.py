"""Operators mend deliveries from the dashboard, and each action is in the audit log: who, what, when."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.web.dashboard.tables import AuditEntry
from tests.support.dashboard_site import Site, start_site
from tests.support.target import CountingTarget


@pytest.fixture
def target() -> Iterator[CountingTarget]:
    t = CountingTarget().start()
    yield t
    t.stop()


@pytest.fixture
def site(tmp_path: Path, schemas, target: CountingTarget) -> Iterator[Site]:  # noqa: ANN001
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


def test_a_bulk_retry_revives_the_dead_deliveries_a_filter_selects_and_no_others(site: Site) -> None:
    first = dead_letter(site, "1234BULK1")
    second = dead_letter(site, "1234BULK2")
    other = dead_letter(site, "1234KEEP1")
    c = site.client("operator")
    assert c.get("/").text.count('data-testid="kpi-dead">3<') == 1
    r = c.post("/messages/bulk-retry", {"state": "dead", "zaak": "1234BULK1"})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/messages?state=dead&zaak=1234BULK1"
    site.wait_for(lambda: state(site, first) == "delivered")
    assert state(site, second) == "dead" and state(site, other) == "dead"
    c.post("/messages/bulk-retry", {"state": "dead", "operation": "creeerZaak"})
    site.wait_for(lambda: state(site, second) == "delivered" and state(site, other) == "delivered")
    one, two = audit_entries(site, "queue.bulk_retry")
    assert one.actor == "web:otto" and one.detail == {"filter": {"state": "dead", "zaak": "1234BULK1"},
                                                      "ids": [first], "count": 1}
    assert sorted(two.detail["ids"]) == sorted([second, other]) and two.detail["count"] == 2


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
