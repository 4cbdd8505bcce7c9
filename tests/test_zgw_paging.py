"""List endpoints are followed to their last page, and Catalogi lookups are cached for a bounded time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.devtools.zgw_fake import ZGWFake
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm


@pytest.fixture
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        zb.seed_shv(server)
        yield server
        assert server.violations == [], server.violations


def test_every_page_of_a_list_is_followed(tmp_path: Path, fake: ZGWFake, schemas) -> None:
    fake.page_size = 2
    config = zb.write_zgw_config(tmp_path, zb.translate_routes(fake))
    with zb.start(tmp_path, config, schemas) as zgw:
        ident = "1234PAGE0001"
        assert zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak(ident), soap_action=zm.ACTION["creeer"]).berichtcode == "Bv03"
        # SHV-4 is the fourth statustype: on the second page of /statustypen
        for code, omschrijving, volgnummer in (("SHV-2", "Intake afgerond", "2"), ("SHV-3", "Schuldregeling loopt", "3")):
            answer = zgw.soap.call("OntvangAsynchroon", zm.actualiseer_zaakstatus(
                ident, zm.heeft(code, omschrijving, volgnummer)), soap_action=zm.ACTION["status"])
            assert answer.berichtcode == "Bv03", answer.text("body/details")
        details = zgw.soap.call("BeantwoordVraag", zm.geef_zaakdetails(ident), soap_action=zm.ACTION["details"])
    rollen = [c for c in details.payload.iter() if isinstance(c.tag, str) and c.tag.split("}")[1].startswith("heeftAls")]
    statussen = [c for c in details.payload.iter() if isinstance(c.tag, str) and c.tag.endswith("}heeft")]
    assert len(rollen) == 4 and len(statussen) == 3  # 4 rollen and 3 statussen: two pages each
    assert len(fake.objects("rollen")) == 4
    pages = [r for r in fake.calls("GET", "/rollen") if r.query.get("page") == "2"]
    assert pages and len([r for r in fake.calls("GET", "/statussen") if r.query.get("page") == "2"]) >= 1
    assert any(r.query.get("page") == "2" for r in fake.calls("GET", "/catalogi/api/v1/statustypen"))


def test_catalogue_lookups_are_cached_within_the_ttl_and_repeated_after(tmp_path: Path, fake: ZGWFake,
                                                                        schemas) -> None:
    config = zb.write_zgw_config(tmp_path, zb.translate_routes(fake, catalogi_cache_seconds=4.0))
    with zb.start(tmp_path, config, schemas) as zgw:
        for i in range(3):
            zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak(f"1234CACHE00{i}"), soap_action=zm.ACTION["creeer"])
        assert len(fake.calls("GET", "/catalogi/api/v1/zaaktypen")) == 1
        assert len(fake.calls("GET", "/catalogi/api/v1/roltypen")) == 1
        assert len(fake.calls("GET", "/catalogi/api/v1/statustypen")) == 1
        time.sleep(4.1)
        zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234CACHE009"), soap_action=zm.ACTION["creeer"])
        assert len(fake.calls("GET", "/catalogi/api/v1/zaaktypen")) == 2
        assert len(fake.calls("GET", "/catalogi/api/v1/statustypen")) == 2
    assert len(fake.objects("zaken")) == 4
