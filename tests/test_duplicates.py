"""Duplicates on (zender, referentienummer), StUF 03.01 §4.4: the same message again gets the stored answer
without being processed twice; other content under the same key gets StUF016; a message the broker failed
on (plek server) is processed again when it is resent; one refused for its content (plek client) gets its
fault again, as StUF 03.01 §4.4.3 has the sender send a new message.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from broker.devtools.zgw_fake import ZGWFake
from tests.support import edge_messages as e
from tests.support import live
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.support.edge_live import Edge, running

XML = {"Content-Type": "text/xml; charset=utf-8"}


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas):
    with running(tmp_path_factory.mktemp("duplicates"), schemas) as edge:
        yield edge


def _send(edge: Edge, port: str, envelope: bytes) -> httpx.Response:
    return edge.soap.post_raw(port, envelope, XML)


def _number(identificatie: str) -> int:
    return int(identificatie[-6:])


def test_genereer_zaak_identificatie_twice_returns_the_stored_du02_and_hands_out_one_number(edge: Edge) -> None:
    """The same Di02 twice gets byte-identical Du02s with one identificatie; the counter moved once."""
    ref = m.ref()
    envelope = e.envelope(m.genereer_zaak_identificatie(referentienummer=ref))
    first, second = _send(edge, e.SYNC_VRIJ, envelope), _send(edge, e.SYNC_VRIJ, envelope)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == first.content
    ident = edge.soap.check(first).text("zaak/identificatie")
    (row,) = e.rows_for(edge.broker, ref)
    assert (row.outcome, row.replays, row.attempts) == ("ok", 1, 1)
    following = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    assert _number(following) == _number(ident) + 1


def test_creeer_zaak_twice_is_processed_once_and_answered_with_the_stored_bv03(edge: Edge) -> None:
    """The same creeerZaak twice: one zaak, one log row with replays 1, and the identical Bv03 bytes."""
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    ref = m.ref()
    envelope = e.envelope(m.creeer_zaak(ident, referentienummer=ref))
    first = _send(edge, e.ASYNC, envelope)
    assert edge.soap.check(first).berichtcode == "Bv03"
    for _ in range(2):
        again = _send(edge, e.ASYNC, envelope)
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert again.headers["content-type"] == first.headers["content-type"]
    assert e.zaak_count(edge.broker, ident) == 1
    (row,) = e.rows_for(edge.broker, ref)
    assert (row.operation, row.replays, row.attempts) == ("creeerZaak", 2, 1)


def test_the_same_creeer_zaak_in_another_envelope_is_answered_with_the_stored_bv03(edge: Edge) -> None:
    """The same StUF body resent in another envelope (other prefix, no header: other bytes) is the same
    message: recognised from the stored request's body, not processed again."""
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    ref = m.ref()
    xml = m.creeer_zaak(ident, referentienummer=ref)
    first = _send(edge, e.ASYNC, e.envelope(xml))
    assert edge.soap.check(first).berichtcode == "Bv03"
    again = _send(edge, e.ASYNC, e.envelope(xml, prefix="S", header=False))
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert e.zaak_count(edge.broker, ident) == 1
    (row,) = e.rows_for(edge.broker, ref)
    assert (row.replays, row.attempts) == (1, 1)


def test_other_content_under_a_used_referentienummer_is_stuf016_on_the_async_port(edge: Edge) -> None:
    """A different creeerZaak under a used (zender, referentienummer) gets Fo03 StUF016 and changes nothing."""
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    ref = m.ref()
    assert edge.soap.call(e.ASYNC, m.creeer_zaak(ident, referentienummer=ref)).berichtcode == "Bv03"
    other = f"{ident[:-1]}X"
    answer = edge.soap.call(e.ASYNC, m.creeer_zaak(other, referentienummer=ref))
    assert (answer.status, answer.berichtcode, answer.foutcode) == (500, "Fo03", "StUF016")
    assert answer.text("stuurgegevens/crossRefnummer") == ref
    assert e.zaak_count(edge.broker, other) == 0
    rows = e.rows_for(edge.broker, ref)
    assert [(r.outcome, r.foutcode) for r in rows] == [("ok", None), ("fault", "StUF016")]
    assert rows[0].replays == 0


def test_other_content_under_a_used_referentienummer_is_stuf016_on_a_sync_port(edge: Edge) -> None:
    """A different Di02 under a used (zender, referentienummer) gets Fo02 StUF016 and no identificatie."""
    ref = m.ref()
    edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie(referentienummer=ref, tijdstip_bericht="20250101"))
    answer = edge.soap.call(e.SYNC_VRIJ,
                            m.genereer_zaak_identificatie(referentienummer=ref, tijdstip_bericht="20250102"))
    assert (answer.status, answer.berichtcode, answer.foutcode) == (500, "Fo02", "StUF016")
    lv01 = edge.soap.call(e.VRAAG, m.geef_zaakdetails("12340000001", referentienummer=ref))
    assert (lv01.berichtcode, lv01.foutcode) == ("Fo02", "StUF016")


def test_the_same_key_from_another_zender_is_not_a_duplicate(edge: Edge) -> None:
    """The key is (zender, referentienummer): another zender may use the same referentienummer."""
    ref = m.ref()
    a = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie(referentienummer=ref))
    b = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie(referentienummer=ref, zender=("KING", "STP2")))
    assert (a.berichtcode, b.berichtcode) == ("Du02", "Du02")
    assert a.text("zaak/identificatie") != b.text("zaak/identificatie")


def test_a_client_side_fault_is_answered_again_from_the_log(edge: Edge) -> None:
    """A message refused as the sender's fault (StUF055) gets the stored Fo03 again, not a new verdict."""
    ref = m.ref()
    xml = m.creeer_zaak(f"1234{ref}", referentienummer=ref).replace("<ZKN:zaakniveau>1<", "<ZKN:zaakniveau>x<")
    envelope = e.envelope(xml)
    first, second = _send(edge, e.ASYNC, envelope), _send(edge, e.ASYNC, envelope)
    assert edge.soap.check(first).foutcode == "StUF055"
    assert (second.status_code, second.content) == (first.status_code, first.content)
    (row,) = e.rows_for(edge.broker, ref)
    assert (row.outcome, row.fout_plek, row.replays, row.attempts) == ("fault", "client", 1, 1)


def test_a_server_side_fault_is_processed_again_when_resent(tmp_path: Path, schemas) -> None:
    """creeerZaak failed on the broker's side (the Zaken API answered 503: StUF058, plek server) succeeds
    when resent with the same referentienummer."""
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as fake:
        zb.seed_shv(fake)
        with zb.start(tmp_path, zb.write_zgw_config(tmp_path, zb.translate_routes(fake)), schemas) as zgw:
            ident = zgw.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
            ref = m.ref()
            envelope = e.envelope(zm.creeer_zaak(ident, referentienummer=ref))
            fake.fail_next(1, status=503, path_contains="/zaken/api/v1/zaken", method="POST")
            first = zgw.soap.check(_post(zgw.live.endpoint(e.ASYNC), envelope))
            assert (first.foutcode, first.text("body/plek")) == ("StUF058", "server"), first.content
            second = zgw.soap.check(_post(zgw.live.endpoint(e.ASYNC), envelope))
            assert second.berichtcode == "Bv03", second.content
            (row,) = e.rows_for(zgw.live, ref)
            assert (row.outcome, row.foutcode, row.replays) == ("ok", None, 0) and row.attempts >= 2
            third = _post(zgw.live.endpoint(e.ASYNC), envelope)
            assert third.content == second.content  # from now on the stored Bv03 is the answer
        assert [z["identificatie"] for z in fake.objects("zaken")] == [ident]


def test_a_content_fault_is_answered_again_when_resent_and_a_new_message_is_processed(edge: Edge) -> None:
    """updateZaak on a zaak that does not exist (StUF064, plek client: the sender must change the message)
    gets the stored fault again when resent, even after the zaak exists; sent anew (a new
    referentienummer, StUF 03.01 §4.4.3) it is processed."""
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    ref = m.ref()
    envelope = e.envelope(e.update_zaak(ident, "Na herhaling", referentienummer=ref))
    first = _send(edge, e.ASYNC, envelope)
    assert (edge.soap.check(first).foutcode, edge.soap.check(first).text("body/plek")) == ("StUF064", "client")
    assert edge.soap.call(e.ASYNC, m.creeer_zaak(ident)).berichtcode == "Bv03"
    again = _send(edge, e.ASYNC, envelope)
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert e.rows_for(edge.broker, ref)[0].replays == 1
    anew = edge.soap.call(e.ASYNC, e.update_zaak(ident, "Na herhaling"))
    assert anew.berichtcode == "Bv03", anew.content
    assert e.zaak_toelichting(edge.broker, ident) == "Na herhaling"


def _post(url: str, envelope: bytes) -> httpx.Response:
    return httpx.post(url, content=envelope, headers=XML, timeout=30)


def test_concurrent_identical_requests_to_two_brokers_on_one_database_are_processed_once(
    edge: Edge, tmp_path: Path,
) -> None:
    """The same creeerZaak and Di02 sent at once to two brokers sharing a database: one zaak, one number, one answer."""
    twin = live.start(live.make_settings(tmp_path, database_url=edge.broker.broker.settings.database_url))
    try:
        ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
        creeer_ref, gzi_ref = m.ref(), m.ref()
        creeer = e.envelope(m.creeer_zaak(ident, referentienummer=creeer_ref))
        gzi = e.envelope(m.genereer_zaak_identificatie(referentienummer=gzi_ref))
        jobs = [(lb, port, body) for lb in (edge.broker, twin) for port, body in ((e.ASYNC, creeer), (e.SYNC_VRIJ, gzi))]
        jobs *= 4
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            responses = list(pool.map(lambda job: _post(job[0].endpoint(job[1]), job[2]), jobs))
    finally:
        twin.stop()
    assert {r.status_code for r in responses} == {200}, [r.text for r in responses if r.status_code != 200][:1]
    assert len({r.content for r in responses[0::2]}) == 1  # every creeerZaak got the same Bv03
    assert len({r.content for r in responses[1::2]}) == 1  # every Di02 the same Du02
    assert e.zaak_count(edge.broker, ident) == 1
    for ref in (creeer_ref, gzi_ref):
        (row,) = e.rows_for(edge.broker, ref)
        assert (row.outcome, row.attempts, row.replays) == ("ok", 1, len(jobs) // 2 - 1)
