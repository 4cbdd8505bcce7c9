"""The dashboard in a real browser (Debian's Chromium, headless, via Playwright): signing in per role,
masking for viewers, filtering, retrying a dead delivery, a bulk retry, and editing a mapping with an
inline validation error, a preview, a save and a rollback. Screenshots of the overview and a message
detail go to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support import messages as m
from tests.support.dashboard_browser import chromium, screenshot, sign_in
from tests.support.dashboard_site import PERSON, Site, start_site
from tests.support.target import CountingTarget

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def site(tmp_path: Path, schemas, target: CountingTarget) -> Iterator[Site]:
    s = start_site(tmp_path / "broker", schemas, target, on_dead="skip")
    yield s
    s.stop()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with chromium(tmp_path / "profile") as context:
        p = context.new_page()
        p.on("dialog", lambda dialog: dialog.accept())  # the confirmations of actions
        yield p


def dead_letter(site: Site, zaak: str, **sg: object) -> int:
    site.target.fail_next = ["client"]
    site.creeer(zaak, **sg)
    site.wait_for(lambda: any(d.state == "dead" for d in site.deliveries("archief") if d.ordering_key == zaak))
    return next(d for d in site.deliveries("archief") if d.ordering_key == zaak).message_id


def nav(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("header nav a").all_inner_texts()]


def test_each_role_signs_in_and_gets_its_own_menu(site: Site, page: Page) -> None:
    menus = {}
    for role in ("viewer", "operator", "administrator"):
        sign_in(page, site.url, role)
        expect(page.get_by_test_id("whoami")).to_contain_text(role)
        menus[role] = nav(page)
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r".*/dashboard/login$"))
    # afnemerindicaties: every role sees which application follows which person (BSNs masked by role)
    assert menus["viewer"] == ["Overview", "Messages", "Targets", "Afnemerindicaties"]
    assert menus["operator"] == ["Overview", "Messages", "Targets", "Afnemerindicaties", "Audit log"]
    assert menus["administrator"] == ["Overview", "Messages", "Targets", "Afnemerindicaties", "Audit log",
                                      "Mappings", "Users", "Access log"]


def test_a_wrong_password_keeps_the_visitor_out(site: Site, page: Page) -> None:
    page.goto(site.url + "/dashboard/login")
    page.get_by_label("User name").fill("otto")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Unknown user name or wrong password.")


def test_a_viewer_sees_the_message_masked_and_an_operator_unmasked(site: Site, page: Page) -> None:
    site.creeer("1234BRMASK", person=True)
    message_id = site.deliveries("zaaksysteem")[-1].message_id
    sign_in(page, site.url, "viewer")
    page.goto(f"{site.url}/dashboard/messages/{message_id}")
    body = page.locator("main").inner_text()
    for secret in (PERSON["bsn"], PERSON["geslachtsnaam"], PERSON["straat"], PERSON["postcode"], PERSON["woonplaats"]):
        assert secret not in body, secret
    assert "1234BRMASK" in body and "masked for your role" in body
    screenshot(page, "message-detail-viewer.png")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site.url, "operator")
    page.goto(f"{site.url}/dashboard/messages/{message_id}")
    expect(page.get_by_test_id("request-xml")).to_contain_text(PERSON["geslachtsnaam"])
    expect(page.get_by_test_id("case-model")).to_contain_text(PERSON["bsn"])
    screenshot(page, "message-detail.png")


def test_filtering_the_message_list(site: Site, page: Page) -> None:
    for i in range(3):
        site.creeer(f"1234BRF{i}", zender=("GEM", "FORMS"))
    site.creeer("1234BRK0", zender=("GEM", "KCC"))
    site.soap.call("BeantwoordVraag", m.geef_zaakdetails("1234BRF0", zender=("GEM", "KCC")))
    sign_in(page, site.url, "viewer")
    page.get_by_role("link", name="Messages").click()
    rows = page.get_by_test_id("message-list").locator("tbody tr")
    expect(rows).to_have_count(5)
    page.get_by_label("Zender", exact=True).fill("KCC")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    page.get_by_label("Operation", exact=True).select_option("creeerZaak")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1234BRK0")
    assert "zender=KCC" in page.url and "operation=creeerZaak" in page.url
    page.get_by_role("link", name="clear").click()
    page.get_by_label("Zaak", exact=True).fill("1234BRF2")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("FORMS")


def test_an_operator_retries_a_dead_delivery_and_it_is_delivered(site: Site, page: Page) -> None:
    message_id = dead_letter(site, "1234BRRT1")
    delivery = next(d.id for d in site.deliveries("archief") if d.message_id == message_id)
    sign_in(page, site.url, "operator")
    screenshot(page, "overview.png")
    expect(page.get_by_test_id("kpi-dead")).to_have_text("1")
    page.get_by_role("link", name=str(message_id), exact=True).first.click()
    state = page.get_by_test_id(f"delivery-state-{delivery}")
    expect(state).to_have_text("dead")
    page.get_by_test_id(f"retry-{delivery}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Delivery {delivery} queued again.")
    site.wait_for(lambda: next(d.state for d in site.deliveries() if d.id == delivery) == "delivered")
    page.reload()
    expect(state).to_have_text("delivered")
    assert site.target.applied_count == 1


def test_an_operator_retries_the_dead_deliveries_of_a_filtered_selection(site: Site, page: Page) -> None:
    first = dead_letter(site, "1234BRBK1", zender=("GEM", "FORMS"))
    second = dead_letter(site, "1234BRBK2", zender=("GEM", "FORMS"))
    other = dead_letter(site, "1234BRBK3", zender=("GEM", "KCC"))
    sign_in(page, site.url, "operator")
    page.goto(site.url + "/dashboard/messages")
    page.get_by_label("Zender", exact=True).fill("FORMS")
    page.get_by_role("button", name="Filter").click()
    page.get_by_test_id("bulk-retry").click()
    expect(page.get_by_role("status")).to_have_text("2 dead deliveries queued again.")

    def states() -> dict[int, str]:
        return {d.message_id: d.state for d in site.deliveries("archief")}

    site.wait_for(lambda: states()[first] == states()[second] == "delivered")
    assert states()[other] == "dead"
    page.goto(site.url + "/dashboard/audit")
    expect(page.get_by_test_id("audit-log")).to_contain_text("queue.bulk_retry")


def test_an_unreadable_date_is_refused_and_the_bulk_count_is_what_gets_retried(site: Site, page: Page) -> None:
    dead = [dead_letter(site, f"1234BRDT{i}") for i in range(3)]
    questions: list[str] = []
    page.on("dialog", lambda dialog: questions.append(dialog.message))
    sign_in(page, site.url, "operator")
    page.goto(site.url + "/dashboard/messages")
    page.get_by_label("From", exact=True).fill("gisteren")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("error-since")).to_contain_text("cannot read 'gisteren'")
    expect(page.get_by_label("From", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("bulk-retry")).to_have_count(0)
    assert {d.state for d in site.deliveries("archief")} == {"dead"}

    page.get_by_label("From", exact=True).fill("")
    page.get_by_label("Zaak", exact=True).fill("1234BRDT1")
    page.get_by_role("button", name="Filter").click()
    button = page.get_by_test_id("bulk-retry")
    expect(button).to_have_text("Retry 1 dead delivery of these messages")
    button.click()
    expect(page.get_by_role("status")).to_have_text("1 dead deliveries queued again.")
    assert questions[-1].startswith("Retry 1 dead delivery")
    site.wait_for(lambda: {d.message_id: d.state for d in site.deliveries("archief")}[dead[1]] == "delivered")
    assert [d.state for d in site.deliveries("archief") if d.message_id != dead[1]] == ["dead", "dead"]


def test_an_administrator_edits_a_mapping_sees_the_error_inline_previews_saves_and_rolls_back(
        site: Site, page: Page) -> None:
    name = "mappings/shv.yaml"
    store = site.lb.broker.config_store
    original = store.active(name).text
    site.creeer("1234BRMAP1")
    message_id = site.deliveries()[-1].message_id
    sign_in(page, site.url, "administrator")
    page.get_by_role("link", name="Mappings").click()
    page.get_by_role("link", name=name).click()
    editor = page.get_by_test_id("editor")
    expect(editor).to_have_value(original)

    bad = original.replace("    vertrouwelijkheidaanduiding: vertrouwelijk", "    vertrouwelijkheidaanduiding: geheimpje")
    line = bad.splitlines().index("    vertrouwelijkheidaanduiding: geheimpje") + 1
    editor.fill(bad)
    page.get_by_role("button", name="Validate").click()
    problems = page.get_by_test_id("problems")
    expect(problems).to_contain_text(f"shv.yaml:{line}")
    expect(problems).to_contain_text("vertrouwelijkheidaanduiding")
    expect(page.locator(".gutter li.bad")).to_have_count(1)
    assert page.locator(".gutter li").nth(line - 1).get_attribute("class") == "bad"
    problems.get_by_role("link").first.click()  # jumps to the line in the editor
    assert page.evaluate("document.activeElement.id") == "editor"

    editor.fill(original.replace("    vertrouwelijkheidaanduiding: vertrouwelijk",
                                 "    vertrouwelijkheidaanduiding: geheim"))
    page.get_by_test_id("preview-message").fill(str(message_id))
    page.get_by_test_id("preview").click()
    preview = page.get_by_test_id("preview-result")
    expect(preview).to_contain_text('"vertrouwelijkheidaanduiding": "geheim"')
    assert store.active(name).version == 1

    page.get_by_label("Comment for this version").fill("zaken voortaan geheim")
    page.get_by_test_id("save").click()
    expect(page.get_by_role("status")).to_contain_text("version 2 saved and active")
    versions = page.get_by_test_id("versions")
    expect(versions.locator("tbody tr")).to_have_count(2)
    expect(versions.locator('tr[data-version="2"]')).to_contain_text("active")
    assert store.active(name).version == 2 and "geheim" in store.active(name).text

    page.get_by_test_id("rollback-1").click()
    expect(page.get_by_role("status")).to_contain_text("version 1 restored as version 3")
    expect(editor).to_have_value(original)
    assert store.active(name).text == original
    page.get_by_role("link", name="text and diff").first.click()
    expect(page.get_by_test_id("diff")).to_contain_text("vertrouwelijkheidaanduiding: vertrouwelijk")
