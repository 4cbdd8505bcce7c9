"""genereerZaak-/Document-/BesluitIdentificatie hand out unique identificaties under concurrency,
with the gemeentecode in front and at most 40 characters (ZDS 1.2 §4.1.6, RGBZ)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support import live
from tests.support import messages as m
from tests.support.pg import schema_url
from tests.support.soapcall import SoapCaller

FUNCTIES = {
    "genereerZaakIdentificatie": ("genereerZaakidentificatie", "zaak"),
    "genereerDocumentIdentificatie": ("genereerDocumentidentificatie", "document"),
    "genereerBesluitIdentificatie": ("genereerBesluitidentificatie", "besluit"),
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def brokers(request, tmp_path: Path, schemas) -> Iterator[list[SoapCaller]]:
    """Two broker processes' worth of intake (two servers) on one database."""
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / 'broker.db'}"]
        ctx = None
    else:
        ctx = schema_url()
        urls = [ctx.__enter__()]
    started = [live.start(live.make_settings(tmp_path / f"b{i}", database_url=urls[0])) for i in range(2)]
    callers = [SoapCaller(lb.url, schemas) for lb in started]
    yield callers
    for c in callers:
        c.close()
    for lb in started:
        lb.stop()
    if ctx is not None:
        ctx.__exit__(None, None, None)


def di02(element: str, functie: str) -> str:
    return (f"<ZDS:{element}_Di02 {m.NSDECL}>{m.stuurgegevens('ZDS', 'Di02', functie=functie)}</ZDS:{element}_Di02>")


@pytest.mark.parametrize("element", list(FUNCTIES))
def test_identificaties_stay_unique_when_many_are_asked_for_at_once(brokers, element):
    functie, part = FUNCTIES[element]

    def ask(i: int) -> str:
        answer = brokers[i % 2].call("VerwerkSynchroonVrijBericht", di02(element, functie))
        assert answer.berichtcode == "Du02", answer.content
        assert answer.text("stuurgegevens/functie") == functie
        return answer.text(f"{part}/identificatie")

    with ThreadPoolExecutor(8) as pool:
        identificaties = list(pool.map(ask, range(60)))
    assert len(set(identificaties)) == 60
    assert all(i.startswith("1234") and len(i) <= 40 for i in identificaties)
