"""Debian's Chromium driven by Playwright (never a browser Playwright downloads), one fresh profile per test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.support.dashboard_site import PASSWORD, USERS

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextmanager
def chromium(profile: Path, *, width: int = 1400, height: int = 1000, locale: str | None = None,
             bypass_csp: bool = False) -> Iterator[BrowserContext]:
    """``bypass_csp``: a test may inject a script of its own (axe-core) despite the dashboard's CSP."""
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": width, "height": height}, locale=locale, bypass_csp=bypass_csp)
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()


def sign_in(page: Page, base_url: str, role: str) -> None:
    page.goto(base_url + "/dashboard/")
    assert re.search(r"/dashboard/login", page.url)
    page.get_by_label("User name").fill(USERS[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/dashboard/$"))


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
