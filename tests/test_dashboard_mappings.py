"""Mapping administration on the dashboard: validation shown with the file's line, a preview that
sends nothing, saving as a new version, the diff, a rollback; saves and rollbacks are audited, and a
preview on a stored message is in the access log."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.web.dashboard.tables import AuditEntry, MessageView
from tests.support.dashboard_site import Site, start_site

NAME = "mappings/shv.yaml"
SETTING = "    vertrouwelijkheidaanduiding: vertrouwelijk"


@pytest.fixture
def site(tmp_path: Path, schemas) -> Iterator[Site]:
    s = start_site(tmp_path, schemas)
    yield s
    s.stop()


def text_of(site: Site) -> str:
    return site.lb.broker.config_store.active(NAME).text


def plain(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_list_shows_the_catalogus_and_every_mapping_file(site: Site) -> None:
    page = site.client("administrator").get("/mappings")
    assert page.status_code == 200
    assert re.findall(r'href="/dashboard/mappings/([^"]+)"', page.text) == [
        "zaaktypecatalogus.yaml", "mappings/omv.yaml", "mappings/shv.yaml"]


def test_an_invalid_text_is_shown_with_its_line_and_not_saved(site: Site) -> None:
    before = site.lb.broker.config_store.active(NAME).version
    bad = text_of(site).replace(SETTING, "    vertrouwelijkheidaanduiding: geheimpje")
    line = bad.splitlines().index("    vertrouwelijkheidaanduiding: geheimpje") + 1
    c = site.client("administrator")
    for action in ("validate", "save"):
        page = c.post(f"/mappings/{NAME}", {"action": action, "text": bad})
        assert page.status_code == 400
        assert f'<li data-line="{line}">' in page.text and "geheimpje" in page.text  # the edit is kept
        assert f"shv.yaml:{line}" in plain(page.text) and "allowed: openbaar, " in plain(page.text)
    assert site.lb.broker.config_store.active(NAME).version == before


def test_a_preview_on_a_stored_message_shows_the_requests_and_is_in_the_access_log(site: Site) -> None:
    site.creeer("1234PREV1", person=True)
    message_id = site.deliveries()[-1].message_id
    changed = text_of(site).replace(SETTING, "    vertrouwelijkheidaanduiding: geheim")
    page = site.client("administrator").post(f"/mappings/{NAME}", {"action": "preview", "text": changed,
                                                                   "message_id": str(message_id)})
    assert page.status_code == 200 and 'data-testid="preview-result"' in page.text
    shown = plain(page.text)
    assert '"vertrouwelijkheidaanduiding": "geheim"' in shown and "/zaken/api/v1/zaken" in shown
    assert site.lb.broker.config_store.active(NAME).version == 1  # a preview saves nothing
    with site.lb.broker.db.read() as s:
        [view] = s.execute(select(MessageView)).scalars()
    assert (view.username, view.message_id, view.what) == ("ada", message_id, "preview")


def test_a_preview_on_an_uploaded_file(site: Site) -> None:
    from tests.support.dashboard_site import creeer_with_person
    from tests.support.edge_messages import envelope

    upload = envelope(creeer_with_person("1234PREV2"))
    page = site.client("administrator").post(f"/mappings/{NAME}", {"action": "preview", "text": text_of(site)},
                                             files={"file": ("message.xml", upload, "text/xml")})
    assert page.status_code == 200 and "1234PREV2" in plain(page.text)


def test_saving_makes_a_new_version_with_a_diff_and_a_rollback_restores_an_old_one_both_audited(site: Site) -> None:
    original = text_of(site)
    changed = original.replace(SETTING, "    vertrouwelijkheidaanduiding: geheim")
    c = site.client("administrator")
    saved = c.post(f"/mappings/{NAME}", {"action": "save", "text": changed, "comment": "geheim voortaan"})
    assert saved.status_code == 303
    active = site.lb.broker.config_store.active(NAME)
    assert (active.version, active.author, active.comment) == (2, "ada", "geheim voortaan") and active.text == changed
    diff = plain(c.get(f"/mappings/{NAME}/versions/2").text)
    assert "-    vertrouwelijkheidaanduiding: vertrouwelijk" in diff and "+    vertrouwelijkheidaanduiding: geheim" in diff
    assert c.post(f"/mappings/{NAME}/rollback", {"version": "1"}).status_code == 303
    active = site.lb.broker.config_store.active(NAME)
    assert active.version == 3 and active.text == original
    assert "version 1 restored as version 3" in c.get(f"/mappings/{NAME}").text
    with site.lb.broker.db.read() as s:
        entries = [(e.actor, e.action, e.detail) for e in s.execute(
            select(AuditEntry).where(AuditEntry.action.like("mapping.%")).order_by(AuditEntry.id)).scalars()]
    assert entries == [("web:ada", "mapping.save", {"name": NAME, "version": 2, "comment": "geheim voortaan"}),
                       ("web:ada", "mapping.rollback", {"name": NAME, "to_version": 1, "version": 3})]


def test_an_unknown_configuration_or_version_is_not_found(site: Site) -> None:
    c = site.client("administrator")
    assert c.get("/mappings/mappings/nope.yaml").status_code == 404
    assert c.get(f"/mappings/{NAME}/versions/9").status_code == 404


def test_typos_in_a_catalogue_changed_on_disk_are_shown_to_the_administrator_all_at_once(site: Site) -> None:
    store = site.lb.broker.config_store
    path = store.config_dir / "zaaktypecatalogus.yaml"
    original = path.read_text()
    path.write_text(original.replace("omschrijving: Aanmelding ontvangen", "omschrijvng: Aanmelding ontvangen")
                    .replace("generiek: Behandelaar}", "generiek: Behandelaars}"))
    store.refresh()
    assert store.active("zaaktypecatalogus.yaml").text == original  # the previous version stays in use
    page = plain(site.client("administrator").get("/mappings").text)
    assert "Changes refused" in page
    assert "zaaktypecatalogus.yaml:9: unknown setting 'zaaktypen.0.statustypen.0.omschrijvng'" in page
    assert "zaaktypecatalogus.yaml:15: zaaktypen.0.roltypen.1.generiek: 'Behandelaars' is not allowed" in page
    path.write_text(original)
    store.refresh()
    assert "Changes refused" not in plain(site.client("administrator").get("/mappings").text)


def test_the_routes_in_use_are_shown_with_their_zenders(site: Site) -> None:
    page = site.client("administrator").get("/mappings").text
    table = page[page.index('data-testid="routes"'):]
    rows = [[plain(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", table[:table.index("</table>")], re.S)]
    assert rows[0] == ["#", "operations", "zenders", "zaaktypen", "deliver to"]
    assert rows[1][:4] == ["1", "*", "any", "any"]


def test_an_administrator_adds_a_subscriber_in_the_dashboard(tmp_path: Path, schemas) -> None:
    """applications.yaml is edited like the mappings: an invalid subscriber block is shown with its line
    and not saved; a valid one becomes a new version and a subscriber at once."""
    site = start_site(tmp_path, schemas)
    try:
        store = site.lb.broker.config_store
        path = site.lb.broker.settings.config_dir / "applications.yaml"
        path.write_text("applications:\n  - applicatie: BBB\n    organisatie: '1234'\n"
                        "    authentication: {certificate: {subject: CN=bbb}}\n")
        store.refresh()
        c = site.client("administrator")
        assert "applications.yaml" in c.get("/mappings").text
        base = store.active("applications.yaml").text
        bad = base + "    subscriber:\n      url: http://127.0.0.1:9/zds/OntvangAsynchroon\n      zds: '2.0'\n"
        page = c.post("/mappings/applications.yaml", {"action": "save", "text": bad})
        line = bad.splitlines().index("      zds: '2.0'") + 1
        assert page.status_code == 400 and f"applications.yaml:{line}" in plain(page.text)
        assert store.active("applications.yaml").text == base
        good = base + "    subscriber:\n      url: http://127.0.0.1:9/zds/OntvangAsynchroon\n      zds: '1.1'\n"
        assert c.post("/mappings/applications.yaml", {"action": "save", "text": good,
                                                     "comment": "BBB volgt de zaken"}).status_code == 303
        assert store.active("applications.yaml").text == good
        [bbb] = store.applications.subscribers
        assert bbb.subscriber is not None and (bbb.name, bbb.subscriber.zds) == ("1234/BBB", "1.1")
    finally:
        site.stop()
