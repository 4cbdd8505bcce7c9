"""The operations console in a real browser (Debian's Chromium via Playwright), second round (issue 14):
mending (badges, attempts across retries, operator actions in the timeline, held deliveries, bulk
cancel), finding (substring search, target and delivery-state filters, search by BSN, CSV export, raw
download), per-target control (pause/resume, retry and cancel all dead), a live view with time ranges,
Dutch and English, a layout for 390 px, styled error pages, and axe-core on every page."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from broker.queue.tables import TargetPause
from broker.web.dashboard.tables import AuditEntry, MessageBsn, MessageView
from tests.support import axe, live
from tests.support import messages as m
from tests.support.configs import fast_delivery, write_config
from tests.support.dashboard_browser import chromium, screenshot, sign_in
from tests.support.dashboard_site import CREEER, PERSON, REPO, USERS, Site, add_users, creeer_with_person
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget

pytestmark = [pytest.mark.browser, pytest.mark.slow]
UPDATE = m.ZDS_ACTION + "updateZaak_ZakLk01"
OTHER_BSN = "123456782"


def start(tmp: Path, schemas, target: CountingTarget, language: str | None = "en") -> Site:
    """A broker whose creeerZaak and updateZaak also go (queued) to "archief", where a dead delivery
    holds the later ones of its zaak (on_dead: hold)."""
    import shutil

    routes = {
        "targets": {"zaaksysteem": {"adapter": "embedded"},
                    "archief": {"adapter": "stuf", "url": target.url, "timeout": 5}},
        "routes": [{"operations": ["creeerZaak", "updateZaak"],
                    "deliver": [{"target": "zaaksysteem", "mode": "sync"}, {"target": "archief", "mode": "queued"}]},
                   {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]}],
        "delivery": fast_delivery(on_dead="hold"),
    }
    config = write_config(tmp, routes=routes)
    shutil.copytree(REPO / "config" / "mappings", config / "mappings")
    lb = live.start(live.make_settings(tmp, config_dir=config))
    add_users(lb, language)
    return Site(lb, SoapCaller(lb.url, schemas), target)


@pytest.fixture
def site(tmp_path: Path, schemas, target: CountingTarget) -> Iterator[Site]:
    s = start(tmp_path / "broker", schemas, target)
    yield s
    s.stop()


@pytest.fixture
def questions() -> list[str]:
    return []


@pytest.fixture
def page(tmp_path: Path, questions: list[str]) -> Iterator[Page]:
    with chromium(tmp_path / "profile", bypass_csp=True) as context:
        p = context.new_page()

        def answer(dialog) -> None:
            questions.append(dialog.message)
            dialog.accept()

        p.on("dialog", answer)
        yield p


@pytest.fixture(scope="session")
def axe_js(tmp_path_factory: pytest.TempPathFactory) -> str:
    return axe.fetch(tmp_path_factory.getbasetemp() / "axe-core")


def archief(site: Site, zaak: str):
    return [d for d in site.deliveries("archief") if d.ordering_key == zaak]


def settled(site: Site) -> bool:
    return all(d.state not in ("pending", "in_progress", "retrying") for d in site.deliveries("archief"))


def dead_letter(site: Site, zaak: str, **sg: object) -> int:
    site.wait_for(lambda: settled(site))  # the failure is for this message, not one still on its way
    site.target.fail_next = ["client"]
    site.creeer(zaak, **sg)
    site.wait_for(lambda: any(d.state == "dead" for d in archief(site, zaak)))
    return archief(site, zaak)[0].message_id


def audit_actions(site: Site) -> list[AuditEntry]:
    with site.lb.broker.db.read() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())


def no_page_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth"), f"{page.url} scrolls sideways ({width} px)"


# -- mending -------------------------------------------------------------------------------------

def test_a_held_delivery_says_what_it_waits_for_and_attempts_count_on_across_a_retry(
        site: Site, page: Page, questions: list[str]) -> None:
    first = dead_letter(site, "1234BRHLD1")
    dead = archief(site, "1234BRHLD1")[0].id
    site.soap.call("OntvangAsynchroon", m.update_zaak("1234BRHLD1", "Aanvraag schuldhulp", "Gewijzigd"),
                   soap_action=UPDATE)
    later = archief(site, "1234BRHLD1")[1]
    sign_in(page, site.url, "operator")
    page.goto(f"{site.url}/dashboard/messages/{later.message_id}")
    held = page.get_by_test_id(f"held-{later.id}")
    expect(held).to_contain_text(f"Waits behind delivery {dead} (dead) of message {first}")
    expect(page.get_by_test_id(f"delivery-state-{later.id}")).to_have_text("pending")
    assert "next" not in held.inner_text().lower()

    site.target.fail_next = ["client"]  # the first retry fails again, the second goes through
    page.get_by_role("link", name=f"Go to message {first}").click()
    page.get_by_test_id(f"retry-{dead}").click()
    # the retry is a form post answered by a redirect: reload only once that page has arrived
    expect(page.get_by_role("status")).to_contain_text(f"Delivery {dead} queued again.")
    site.wait_for(lambda: archief(site, "1234BRHLD1")[0].state == "dead"
                  and len(site.target.received) >= 2)
    page.reload()
    page.get_by_test_id(f"retry-{dead}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Delivery {dead} queued again.")
    site.wait_for(lambda: [d.state for d in archief(site, "1234BRHLD1")] == ["delivered", "delivered"])
    page.reload()
    numbers = page.get_by_test_id(f"attempts-{dead}").locator("tbody tr td:first-child").all_inner_texts()
    assert [n for n in numbers if n] == ["1", "2", "3"]
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator("li.operator")).to_have_count(2)
    expect(timeline.locator("li.operator").first).to_contain_text(f"web:otto: retry of delivery {dead}")
    expect(timeline).to_contain_text("attempt 3 to archief: delivered")
    expect(page.get_by_test_id("message-state").locator(".state")).to_have_text("done")


def test_a_faulted_message_is_never_a_green_done_and_an_invalid_one_is_found_by_its_zaak(site: Site, page: Page) -> None:
    site.creeer("1234BROK1")
    broken = m.creeer_zaak("1234BRFLT1", extra="<ZKN:nietBestaand>x</ZKN:nietBestaand>")
    answer = site.soap.call("OntvangAsynchroon", broken, soap_action=CREEER)
    assert answer.is_fault
    sign_in(page, site.url, "viewer")
    page.goto(site.url + "/dashboard/messages")
    rows = page.get_by_test_id("message-list").locator("tbody tr")
    faulted = rows.filter(has_text=answer.foutcode or "StUF").first
    badge = faulted.get_by_test_id("badge")
    expect(badge).not_to_have_text("done")
    expect(badge).to_have_class(re.compile(r"\bfault\b"))
    color = badge.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(253, 226, 226)"  # the red of faults, never the green of done
    ok = rows.filter(has_text="1234BROK1").get_by_test_id("badge")
    expect(ok).to_have_text(re.compile("done|queued"))
    page.get_by_label("Zaak", exact=True).fill("brflt1")  # refused, yet found by (part of) its zaak
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_test_id("badge")).to_have_class(re.compile(r"\bfault\b"))


def test_bulk_cancel_names_its_count_and_is_audited(site: Site, page: Page, questions: list[str]) -> None:
    for i in range(2):
        dead_letter(site, f"1234BRBC{i}", zender=("GEM", "FORMS"))
    dead_letter(site, "1234BRBC9", zender=("GEM", "KCC"))
    sign_in(page, site.url, "operator")
    page.goto(site.url + "/dashboard/messages?zender=FORMS")
    button = page.get_by_test_id("bulk-cancel")
    expect(button).to_have_text("Cancel 2 dead deliveries")
    button.click()
    expect(page.get_by_role("status")).to_have_text("2 dead deliveries cancelled.")
    assert questions[-1].startswith("Cancel 2 dead deliveries?")
    states = {d.ordering_key: d.state for d in site.deliveries("archief")}
    assert states == {"1234BRBC0": "cancelled", "1234BRBC1": "cancelled", "1234BRBC9": "dead"}
    entry = [e for e in audit_actions(site) if e.action == "queue.bulk_cancel"][-1]
    assert entry.detail["count"] == 2 and len(entry.detail["ids"]) == 2


# -- finding -------------------------------------------------------------------------------------

def test_search_by_part_of_zaak_or_referentienummer_and_by_target_and_delivery_state(site: Site, page: Page) -> None:
    site.creeer("1234BRSRCH-ALFA")
    site.creeer("1234BRSRCH-BETA")
    dead_letter(site, "1234BRSRCH-GAMMA")
    ref = next(d for d in site.deliveries("zaaksysteem") if d.ordering_key == "1234BRSRCH-BETA").message_id
    sign_in(page, site.url, "viewer")
    page.goto(site.url + "/dashboard/messages")
    rows = page.get_by_test_id("message-list").locator("tbody tr")
    page.get_by_label("Zaak", exact=True).fill("srch-al")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1234BRSRCH-ALFA")
    page.get_by_label("Zaak", exact=True).fill("brsrch")
    page.get_by_label("Target", exact=True).select_option("archief")
    page.get_by_label("Delivery state", exact=True).select_option("dead")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1234BRSRCH-GAMMA")
    expect(rows.first.locator("td.deliveries")).to_contain_text("archief")
    expect(rows.first.locator("td.deliveries .state.dead")).to_have_count(1)
    with site.lb.broker.db.read() as s:
        from broker.store.tables import Message

        referentienummer = s.get(Message, ref).referentienummer
    page.goto(site.url + "/dashboard/messages")
    page.get_by_label("Referentienummer", exact=True).fill(referentienummer[-6:].lower())
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1234BRSRCH-BETA")


def test_search_by_bsn_finds_the_message_and_writes_the_access_log(site: Site, page: Page) -> None:
    site.creeer("1234BRBSN1")  # the default initiator's BSN
    other = m.creeer_zaak("1234BRBSN2").replace(m.initiator_nps(), m.initiator_nps(OTHER_BSN))
    assert site.soap.call("OntvangAsynchroon", other, soap_action=CREEER).berichtcode == "Bv03"
    sign_in(page, site.url, "viewer")
    page.goto(site.url + "/dashboard/messages")
    expect(page.get_by_test_id("bsn-form")).to_have_count(0)  # not for a role that sees masked data
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site.url, "operator")
    page.goto(site.url + "/dashboard/messages")
    page.get_by_label("BSN", exact=True).fill("1234 56 782")
    page.get_by_role("button", name="Search by BSN").click()
    rows = page.get_by_test_id("message-list").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1234BRBSN2")
    assert OTHER_BSN not in page.url
    message_id = int(rows.first.get_attribute("data-message"))
    with site.lb.broker.db.read() as s:
        views = list(s.execute(select(MessageView).where(MessageView.what == "bsn search")).scalars())
        digests = set(s.execute(select(MessageBsn.digest)).scalars())
    assert [(v.username, v.message_id) for v in views] == [(USERS["operator"], message_id)]
    assert OTHER_BSN not in digests and "111222333" not in digests and len(digests) >= 2
    assert any(e.action == "search.bsn" for e in audit_actions(site))
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site.url, "administrator")
    page.goto(site.url + "/dashboard/access")
    expect(page.get_by_test_id("access-log")).to_contain_text("bsn search")


def test_csv_export_holds_metadata_only_and_the_raw_download_is_logged(site: Site, page: Page) -> None:
    body = creeer_with_person("1234BRCSV1")
    assert site.soap.call("OntvangAsynchroon", body, soap_action=CREEER).berichtcode == "Bv03"
    sign_in(page, site.url, "operator")
    page.goto(site.url + "/dashboard/messages?zaak=brcsv")
    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    text = Path(download.value.path()).read_text()
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["id", "received_at", "operation"] and len(table) == 2
    assert "1234BRCSV1" in text and "archief:" in text
    for secret in PERSON.values():
        assert secret not in text
    message_id = int(table[1][0])
    page.goto(f"{site.url}/dashboard/messages/{message_id}")
    with page.expect_download() as download:
        page.get_by_test_id("download-raw").click()
    raw = Path(download.value.path()).read_bytes()
    assert PERSON["geslachtsnaam"].encode() in raw and b"1234BRCSV1" in raw
    with site.lb.broker.db.read() as s:
        whats = {v.what for v in s.execute(select(MessageView).where(MessageView.message_id == message_id)).scalars()}
    assert "download" in whats


# -- per target ----------------------------------------------------------------------------------

def test_pause_holds_deliveries_and_resume_releases_them(site: Site, page: Page, questions: list[str]) -> None:
    sign_in(page, site.url, "operator")
    page.get_by_role("link", name="Targets").click()
    page.get_by_role("link", name="archief").click()
    page.get_by_label("Reason (optional)").fill("onderhoud archief")
    page.get_by_test_id("pause").click()
    assert questions[-1] == "Pause archief? 0 waiting deliveries will be held."
    expect(page.get_by_test_id("paused")).to_be_visible()
    with site.lb.broker.db.read() as s:
        assert s.get(TargetPause, "archief").reason == "onderhoud archief"

    site.creeer("1234BRPAUSE1")
    site.creeer("1234BRPAUSE2")
    time.sleep(0.5)  # ten polls of the worker: a paused target gets nothing
    assert site.target.received == []
    assert [d.state for d in site.deliveries("archief")] == ["pending", "pending"]
    later = site.deliveries("archief")[0]
    page.goto(site.url + "/dashboard/messages?target=archief")
    expect(page.get_by_test_id("message-list").locator("td.deliveries .state.paused")).to_have_count(2)
    page.goto(f"{site.url}/dashboard/messages/{later.message_id}")
    expect(page.get_by_test_id(f"paused-{later.id}")).to_have_text("held: target paused")
    expect(page.get_by_test_id(f"held-{later.id}")).to_contain_text("was paused by web:otto")

    page.goto(site.url + "/dashboard/targets/archief")
    expect(page.get_by_test_id("pause-note")).to_contain_text("its 2 waiting deliveries are held")
    page.get_by_test_id("resume").click()
    assert questions[-1] == "Resume archief? 2 held deliveries go out."
    expect(page.get_by_role("status")).to_contain_text("Target archief resumed: 2 held deliveries go out now.")
    site.wait_for(lambda: [d.state for d in site.deliveries("archief")] == ["delivered", "delivered"])
    actions = [(e.action, e.detail.get("target")) for e in audit_actions(site) if e.action.startswith("target.")]
    assert actions == [("target.pause", "archief"), ("target.resume", "archief")]
    page.reload()
    expect(page.get_by_test_id("paused")).to_have_count(0)


def test_a_target_page_retries_and_cancels_all_its_dead_deliveries(site: Site, page: Page,
                                                                   questions: list[str]) -> None:
    for i in range(2):
        dead_letter(site, f"1234BRTD{i}")
    sign_in(page, site.url, "operator")
    page.goto(site.url + "/dashboard/targets/archief")
    expect(page.get_by_test_id("dead")).to_have_text("2")
    expect(page.get_by_test_id("last-errors").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("last-errors")).to_contain_text("StUF055")
    page.get_by_test_id("retry-dead").click()
    assert questions[-1] == "Retry 2 dead deliveries of archief?"
    site.wait_for(lambda: {d.state for d in site.deliveries("archief")} == {"delivered"})
    dead_letter(site, "1234BRTD9")
    page.goto(site.url + "/dashboard/targets/archief")
    page.get_by_test_id("cancel-dead").click()
    assert questions[-1] == "Cancel 1 dead delivery of archief? It will not be sent again."
    expect(page.get_by_role("status")).to_have_text("1 dead deliveries of archief cancelled.")
    assert [d.state for d in archief(site, "1234BRTD9")] == ["cancelled"]
    kinds = {e.action: e.detail for e in audit_actions(site) if e.action.startswith("target.")}
    assert kinds["target.retry_dead"]["count"] == 2 and kinds["target.cancel_dead"]["count"] == 1
    for chart in ("Backlog", "Delivery rate", "Error rate", "Latency"):
        expect(page.get_by_role("heading", name=chart, exact=True)).to_be_visible()
    screenshot(page, "target.png")


# -- live ----------------------------------------------------------------------------------------

def test_the_list_refreshes_itself_keeps_its_filter_and_can_be_paused(site: Site, page: Page) -> None:
    site.creeer("1234BRLIVE1", zender=("GEM", "FORMS"))
    sign_in(page, site.url, "viewer")
    page.goto(site.url + "/dashboard/messages?zender=FORMS")
    rows = page.get_by_test_id("message-list").locator("tbody tr")
    expect(rows).to_have_count(1)
    before = page.get_by_test_id("as-of").locator("time").get_attribute("datetime")
    site.creeer("1234BRLIVE2", zender=("GEM", "FORMS"))
    site.creeer("1234BRLIVE3", zender=("GEM", "KCC"))
    time.sleep(1.0)  # the "as of" time has whole seconds
    assert page.evaluate("window.stufBrokerRefresh()") is True
    expect(rows).to_have_count(2)
    expect(page.get_by_label("Zender", exact=True)).to_have_value("FORMS")
    assert page.get_by_test_id("as-of").locator("time").get_attribute("datetime") != before
    page.get_by_test_id("live-toggle").click()
    expect(page.get_by_test_id("live-toggle")).to_have_attribute("aria-pressed", "true")
    site.creeer("1234BRLIVE4", zender=("GEM", "FORMS"))
    assert page.evaluate("window.stufBrokerRefresh()") is False
    expect(rows).to_have_count(2)
    page.reload()  # the pause is remembered
    expect(page.get_by_test_id("live-toggle")).to_have_text("Resume auto-refresh")


def test_time_ranges_and_charts_with_round_axes(site: Site, page: Page) -> None:
    for i in range(3):
        site.creeer(f"1234BRRNG{i}")
    sign_in(page, site.url, "viewer")
    for name in ("15m", "1h", "6h", "24h", "7d"):
        page.get_by_test_id(f"range-{name}").click()
        expect(page.get_by_test_id(f"range-{name}")).to_have_class("on")
        labels = page.locator("svg.chart").first.locator("text.axis[text-anchor=end]").all_text_contents()
        assert labels == ["0", "1", "2", "3", "4"], labels  # 3 messages on an axis to 4, not to 10
    custom = page.get_by_test_id("custom-range")
    custom.get_by_label("From").fill("gisteren")
    custom.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("range-error-from")).to_contain_text("cannot read 'gisteren'")
    custom = page.get_by_test_id("custom-range")
    custom.get_by_label("From").fill(time.strftime("%d-%m-%Y", time.localtime(time.time() - 86400)))
    custom.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("range-error-from")).to_have_count(0)
    assert "range=custom" in page.url
    expect(page.get_by_role("heading", name="Backlog of the queue")).to_be_visible()


# -- look ----------------------------------------------------------------------------------------

def test_dutch_by_default_and_english_for_who_chooses_it(tmp_path: Path, schemas, target: CountingTarget) -> None:
    s = start(tmp_path / "broker", schemas, target, language=None)
    try:
        with chromium(tmp_path / "profile-nl", locale="nl-NL") as context:
            page = context.new_page()
            page.goto(s.url + "/dashboard/login")
            expect(page.get_by_role("button", name="Inloggen")).to_be_visible()
            page.get_by_label("Gebruikersnaam").fill(USERS["operator"])
            page.get_by_label("Wachtwoord").fill("correct horse battery")
            page.get_by_role("button", name="Inloggen").click()
            page.wait_for_url(re.compile(r".*/dashboard/$"))
            assert page.locator("html").get_attribute("lang") == "nl"
            expect(page.locator("header nav")).to_contain_text("Berichten")
            page.get_by_role("link", name="Berichten").click()
            expect(page.get_by_role("button", name="Filteren")).to_be_visible()
            page.get_by_label("Taal").select_option("en")
            page.get_by_role("button", name="Wijzigen").click()
            expect(page.get_by_role("heading", name="Messages")).to_be_visible()
            page.get_by_role("button", name="Sign out").click()
        with chromium(tmp_path / "profile-2", locale="nl-NL") as context:  # the choice is the account's
            page = context.new_page()
            page.goto(s.url + "/dashboard/login")
            page.get_by_label("Gebruikersnaam").fill(USERS["operator"])
            page.get_by_label("Wachtwoord").fill("correct horse battery")
            page.get_by_role("button", name="Inloggen").click()
            expect(page.locator("header nav")).to_contain_text("Messages")
    finally:
        s.stop()


def test_an_unknown_address_gets_a_styled_page(site: Site, page: Page) -> None:
    sign_in(page, site.url, "viewer")
    response = page.goto(site.url + "/dashboard/no/such/page")
    assert response is not None and response.status == 404
    expect(page.get_by_test_id("error-page")).to_contain_text("There is no page at this address.")
    expect(page.get_by_role("link", name="Back to the overview")).to_be_visible()
    page.goto(site.url + "/dashboard/messages/999999")
    expect(page.get_by_test_id("error-page")).to_contain_text("No message 999999.")


def _pages(site: Site, message_id: int) -> list[str]:
    return ["/dashboard/", "/dashboard/messages", f"/dashboard/messages/{message_id}", "/dashboard/targets",
            "/dashboard/targets/archief", "/dashboard/audit", "/dashboard/access", "/dashboard/users", "/dashboard/afnemers",
            "/dashboard/mappings", "/dashboard/mappings/mappings/shv.yaml", "/dashboard/nothing-here"]


def test_every_page_fits_390_px_and_passes_axe(tmp_path: Path, site: Site, axe_js: str) -> None:
    body = creeer_with_person("1234BRA11Y")
    assert site.soap.call("OntvangAsynchroon", body, soap_action=CREEER).berichtcode == "Bv03"
    dead_letter(site, "1234BRA11Y2")
    message_id = site.deliveries("archief")[0].message_id
    problems: dict[str, list] = {}
    for width in (1400, 390):
        with chromium(tmp_path / f"profile-{width}", width=width, height=844, bypass_csp=True) as context:
            page = context.new_page()
            page.goto(site.url + "/dashboard/login")
            no_page_scroll(page)
            if width == 390:
                problems["login"] = axe.violations(page, axe_js)
            sign_in(page, site.url, "administrator")
            for path in _pages(site, message_id):
                page.goto(site.url + path)
                no_page_scroll(page)
                if width == 390:
                    found = axe.violations(page, axe_js)
                    if found:
                        problems[path] = found
            if width == 390:
                page.goto(site.url + "/dashboard/messages")
                screenshot(page, "messages-390.png")
                page.keyboard.press("Tab")
                assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
                for box in page.locator(".table-scroll, .scroll-box").all():
                    assert box.get_attribute("tabindex") == "0"
    assert not {k: v for k, v in problems.items() if v}, problems
