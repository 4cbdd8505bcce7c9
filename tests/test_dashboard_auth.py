"""Dashboard accounts: signing in and out, roles and what each may do, CSRF, sessions, the secret."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.middleware.sessions import SessionMiddleware

from broker.runtime import Broker
from broker.web.dashboard import auth, throttle
from broker.web.dashboard.app import create_dashboard
from broker.web.dashboard.tables import AuditEntry
from tests.support import live
from tests.support.dashboard_site import PASSWORD, USERS, Site, start_site


@pytest.fixture
def site(tmp_path: Path, schemas) -> Iterator[Site]:
    s = start_site(tmp_path, schemas)
    yield s
    s.stop()


def test_an_anonymous_visitor_is_sent_to_the_login_page(site: Site) -> None:
    r = site.client().get("/messages?state=dead")
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard/login?next=/dashboard/messages%3Fstate%3Ddead"


def test_signing_in_with_the_right_password_opens_the_dashboard_and_signing_out_closes_it(site: Site) -> None:
    c = site.client()
    r = c.login("otto")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/"
    page = c.get("/")
    assert page.status_code == 200 and "otto" in page.text and "Overview" in page.text
    assert c.post("/logout").status_code == 303
    assert c.get("/").status_code == 303  # back to the login page


def test_a_wrong_password_or_unknown_user_is_refused_with_one_message(site: Site) -> None:
    c = site.client()
    wrong = c.login("otto", "not the password")
    unknown = c.login("nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Unknown user name or wrong password." in wrong.text
    assert "Unknown user name or wrong password." in unknown.text
    assert c.get("/").status_code == 303


def test_after_login_the_browser_goes_back_to_the_page_it_asked_for_but_never_off_site(site: Site) -> None:
    c = site.client()
    c.get("/login")
    r = c.post("/login", {"username": "vera", "password": PASSWORD, "next": "/dashboard/messages?state=dead"})
    assert r.headers["location"] == "/dashboard/messages?state=dead"
    c2 = site.client()
    c2.get("/login")
    r = c2.post("/login", {"username": "vera", "password": PASSWORD, "next": "//evil.example/"})
    assert r.headers["location"] == "/dashboard/"


@pytest.mark.parametrize(("role", "path", "allowed"), [
    ("viewer", "/", True), ("viewer", "/messages", True), ("viewer", "/audit", False),
    ("viewer", "/users", False), ("viewer", "/mappings", False), ("viewer", "/access", False),
    ("operator", "/audit", True), ("operator", "/users", False), ("operator", "/mappings", False),
    ("operator", "/access", False), ("administrator", "/users", True), ("administrator", "/access", True),
    ("administrator", "/audit", True),
])
def test_each_role_sees_only_its_pages(site: Site, role: str, path: str, allowed: bool) -> None:
    r = site.client(role).get(path)
    assert r.status_code == (200 if allowed else 403), (role, path, r.status_code)


def test_a_viewer_may_not_retry_cancel_or_bulk_retry(site: Site) -> None:
    c = site.client("viewer")
    assert c.post("/deliveries/1/retry").status_code == 403
    assert c.post("/deliveries/1/cancel").status_code == 403
    assert c.post("/messages/bulk-retry", {"state": "dead"}).status_code == 403


def test_an_operator_may_not_manage_users_or_mappings(site: Site) -> None:
    c = site.client("operator")
    assert c.post("/users", {"username": "eve", "role": "administrator", "password": PASSWORD}).status_code == 403
    assert c.post("/users/otto/role", {"role": "administrator"}).status_code == 403
    assert c.post("/mappings/zaaktypecatalogus.yaml", {"action": "save", "text": ""}).status_code == 403
    with site.lb.broker.db.read() as s:
        assert auth.find(s, "eve") is None and auth.find(s, "otto").role == "operator"


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(site: Site) -> None:
    c = site.client("administrator")
    data = {"username": "eve", "role": "viewer", "password": PASSWORD}
    missing = c.post("/users", data, token=None)
    wrong = c.post("/users", data, token="x" * 43)
    assert missing.status_code == wrong.status_code == 403
    assert "CSRF" in missing.text
    with site.lb.broker.db.read() as s:
        assert auth.find(s, "eve") is None
    assert c.post("/users", data).status_code == 303  # with the session's token it works
    with site.lb.broker.db.read() as s:
        assert auth.find(s, "eve").role == "viewer"


def test_the_login_form_needs_its_csrf_token_too(site: Site) -> None:
    c = site.client()
    c.get("/login")
    r = c.post("/login", {"username": "otto", "password": PASSWORD}, token=None)
    assert r.status_code == 403


def test_a_token_from_before_sign_in_is_worthless_afterwards(site: Site) -> None:
    c = site.client()
    c.get("/login")
    before = c.token
    c.login("ada")
    assert c.token != before
    assert c.post("/users", {"username": "eve", "role": "viewer", "password": PASSWORD}, token=before).status_code == 403


def test_changing_a_password_ends_the_accounts_other_sessions(site: Site) -> None:
    vera = site.client("viewer")
    assert vera.get("/").status_code == 200
    admin = site.client("administrator")
    assert admin.post("/users/vera/password", {"password": "a brand new secret"}).status_code == 303
    assert vera.get("/").status_code == 303  # signed out
    assert site.client().login("vera", "a brand new secret").status_code == 303


def test_pages_carry_security_headers_and_the_cookie_is_strict_and_http_only(site: Site) -> None:
    c = site.client()
    r = c.get("/login")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie


def test_passwords_are_stored_as_argon2id_hashes(site: Site) -> None:
    with site.lb.broker.db.read() as s:
        user = auth.find(s, USERS["operator"])
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_short_passwords_and_unknown_roles_are_refused(site: Site) -> None:
    c = site.client("administrator")
    short = c.post("/users", {"username": "eve", "role": "viewer", "password": "short"})
    bad_role = c.post("/users", {"username": "eve", "role": "root", "password": PASSWORD})
    assert short.status_code == bad_role.status_code == 400
    assert "at least 12 characters" in short.text and "unknown role" in bad_role.text


def test_the_session_secret_is_made_once_with_mode_0600_unless_the_environment_gives_one(tmp_path: Path) -> None:
    first = auth.session_secret(tmp_path, env={})
    assert auth.session_secret(tmp_path, env={}) == first and len(first) >= 48
    assert stat.S_IMODE(os.stat(tmp_path / auth.SECRET_FILE).st_mode) == 0o600
    assert auth.session_secret(tmp_path, env={auth.SECRET_ENV: "from-the-environment"}) == "from-the-environment"


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "welkom123456", "password1234", "qwertyuiopas", "eve-eve-eve-eve"])
def test_passwords_that_are_easy_to_guess_are_refused(site: Site, weak: str) -> None:
    c = site.client("administrator")
    r = c.post("/users", {"username": "eve", "role": "viewer", "password": weak})
    assert r.status_code == 400 and "too easy to guess" in r.text, weak


def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(site: Site) -> None:
    c = site.client()
    for _ in range(throttle.ACCOUNT_LIMIT):
        assert c.login("otto", "not the password").status_code == 401
    locked = c.login("otto", PASSWORD)
    assert locked.status_code == 429 and "locked" in locked.text
    with site.lb.broker.db.read() as s:
        actions = [e.action for e in s.execute(select(AuditEntry).where(AuditEntry.actor == "web:otto")).scalars()]
    assert actions.count("user.login_failed") == throttle.ACCOUNT_LIMIT and "user.login_locked" in actions
    assert site.client().login("vera", PASSWORD).status_code == 303  # other accounts are not affected


def test_an_address_that_keeps_failing_is_blocked(site: Site) -> None:
    c = site.client()
    for i in range(throttle.ADDRESS_LIMIT):
        assert c.login(f"nobody{i}", "not the password").status_code == 401
    blocked = c.login("vera", PASSWORD)
    assert blocked.status_code == 429 and "this address" in blocked.text


def test_signing_out_ends_the_session_on_the_server_too(site: Site) -> None:
    c = site.client("viewer")
    copied = dict(c.http.cookies)
    assert c.get("/").status_code == 200
    c.post("/logout")
    thief = httpx.Client(base_url=c.base, cookies=copied, follow_redirects=False)
    r = thief.get("/")
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]
    thief.close()


def test_the_session_cookie_is_secure_behind_tls(tmp_path: Path) -> None:
    settings = live.make_settings(tmp_path, server__public_url="https://broker.gemeente.test")
    broker = Broker(settings)
    try:
        app = create_dashboard(broker)
        session_mw = next(m for m in app.user_middleware if m.cls is SessionMiddleware)
        assert session_mw.kwargs["https_only"] is True
    finally:
        broker.close()


def test_the_first_run_login_page_says_how_to_add_an_administrator(tmp_path: Path) -> None:
    lb = live.start(live.make_settings(tmp_path))
    try:
        page = httpx.get(lb.url + "/dashboard/login", timeout=10)
        assert 'data-testid="first-run"' in page.text and "stuf-broker users add" in page.text
    finally:
        lb.stop()


def test_the_hint_is_gone_once_there_are_accounts(site: Site) -> None:
    assert 'data-testid="first-run"' not in site.client().get("/login").text
