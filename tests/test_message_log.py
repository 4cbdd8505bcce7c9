"""Every request and the broker's answer are stored in the message log (``messages`` + ``message_payloads``),
while personal data never reaches a log line.
"""

from __future__ import annotations

import logging

import pytest
from structlog.testing import capture_logs

from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support.edge_live import Edge, running

XML = {"Content-Type": "text/xml; charset=utf-8"}
BSN = "123456782"
NAMES = ("Bijlsma-Oudeman", "Geertruida Johanna", "Wübbenhorst")


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas):
    with running(tmp_path_factory.mktemp("log"), schemas) as edge:
        yield edge


def _with_person(xml: str) -> str:
    """The creeerZaak initiator with a BSN and names (a woman with a double surname and a voorvoegsel)."""
    person = (f"<BG:inp.bsn>{BSN}</BG:inp.bsn><BG:geslachtsnaam>{NAMES[0]}</BG:geslachtsnaam>"
              f"<BG:voorvoegselGeslachtsnaam>van</BG:voorvoegselGeslachtsnaam><BG:voorletters>GJ</BG:voorletters>"
              f"<BG:voornamen>{NAMES[1]} {NAMES[2]}</BG:voornamen><BG:geslachtsaanduiding>V</BG:geslachtsaanduiding>")
    return xml.replace("<BG:inp.bsn>111222333</BG:inp.bsn>", person)


def test_each_request_is_logged_with_its_answer_stuurgegevens_and_timings(edge: Edge, schemas) -> None:
    """Di02, Lk01, Lv01 and a fault each leave a row with raw request and answer, metadata and timings."""
    sent: dict[str, tuple[bytes, str, bytes]] = {}  # referentienummer -> (request, soap action, answer)
    ident = None
    for name in ("genereer", "creeer", "geef", "fout"):
        ref = m.ref()
        if name == "genereer":
            port, body, action = e.SYNC_VRIJ, m.genereer_zaak_identificatie(referentienummer=ref), None
        elif name == "creeer":
            port, body = e.ASYNC, m.creeer_zaak(ident, referentienummer=ref)
            action = m.ZDS_ACTION + "creeerZaak_ZakLk01"
        elif name == "geef":
            port, body, action = e.VRAAG, m.geef_zaakdetails(ident, referentienummer=ref), None
        else:
            port, body, action = e.ASYNC, e.update_zaak(f"1234{ref}", referentienummer=ref), None
        envelope = e.envelope(body)
        headers = dict(XML, **({"SOAPAction": f'"{action}"'} if action else {}))
        response = edge.soap.post_raw(port, envelope, headers)
        answer = edge.soap.check(response)
        if name == "genereer":
            ident = answer.text("zaak/identificatie")
        sent[ref] = (envelope, action, response.content)

    expected = {
        # operation, port, berichtcode, answer berichtcode, outcome, http status, zaak identificatie
        "genereer": ("genereerZaakIdentificatie", e.SYNC_VRIJ, "Di02", "Du02", "ok", 200, ident),
        "creeer": ("creeerZaak", e.ASYNC, "Lk01", "Bv03", "ok", 200, ident),
        "geef": ("geefZaakdetails", e.VRAAG, "Lv01", "La01", "ok", 200, ident),
        "fout": ("updateZaak", e.ASYNC, "Lk01", "Fo03", "fault", 500, None),
    }
    for (ref, (request, action, answer)), want in zip(sent.items(), expected.values(), strict=True):
        (row,) = e.rows_for(edge.broker, ref)
        operation, port, code, answer_code, outcome, status, zaak = want
        assert (row.operation, row.port, row.berichtcode, row.answer_berichtcode) == (operation, port, code, answer_code)
        assert (row.outcome, row.http_status) == (outcome, status)
        assert (row.zender_organisatie, row.zender_applicatie) == ("KING", "STP")
        assert (row.ontvanger_organisatie, row.ontvanger_applicatie) == ("ORG", "TTA")
        assert (row.soap_version, row.dialect, row.soap_action) == ("1.1", "zds", action)
        assert row.tijdstip_bericht and row.received_at is not None
        if zaak is not None:
            assert row.zaak_identificatie == zaak
        assert (row.request_size, row.answer_size) == (len(request), len(answer))
        timings = row.timings or {}
        assert {"parse_ms", "validate_ms", "total_ms"} <= set(timings), timings
        if outcome == "ok":
            assert "process_ms" in timings
        assert all(v >= 0 for v in timings.values())
        assert row.duration_ms == pytest.approx(timings["total_ms"], abs=0.01)
        assert timings["total_ms"] >= timings["parse_ms"]
        payload = e.log_payload(edge.broker, row.id)
        assert payload.request == request
        assert payload.answer == answer
        assert payload.request_content_type == XML["Content-Type"]
        assert payload.answer_content_type.startswith("text/xml")
    fault_row = e.rows_for(edge.broker, list(sent)[-1])[0]
    assert (fault_row.foutcode, fault_row.fout_plek) == ("StUF064", "client")  # an unknown zaak: the content
    assert fault_row.fout_omschrijving


def test_personal_data_never_reaches_a_log_line(edge: Edge, schemas, caplog: pytest.LogCaptureFixture) -> None:
    """A creeerZaak with a BSN and names, accepted or refused, leaves neither in any structlog or stdlib log event."""
    caplog.set_level(logging.DEBUG)
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    accepted = _with_person(m.creeer_zaak(ident))
    assert not schemas.issues(e.parse(accepted)), "the test built an invalid message"
    too_long = "X" * 250  # the schema allows 200 characters: the schema error quotes the value
    refused = _with_person(m.creeer_zaak(f"{ident}9")).replace(NAMES[0], NAMES[0] + too_long)
    with capture_logs() as events:
        assert edge.soap.call(e.ASYNC, accepted).berichtcode == "Bv03"
        assert edge.soap.call(e.ASYNC, refused).foutcode == "StUF055"
        assert edge.soap.call(e.VRAAG, m.geef_zaakdetails(ident)).berichtcode == "La01"
        geef = edge.soap.call(e.VRAAG, m.geef_zaakdetails(ident))
    assert BSN in geef.content.decode()  # the data are in the answers and the message log...
    # structlog's own capture, or (once broker.logging configured cached loggers in this process) the
    # stdlib records those loggers write to
    assert [ev for ev in events if ev.get("event") == "message handled"] or [
        r for r in caplog.records if "message handled" in str(r.msg)], "no log events captured"
    lines = [repr(ev) for ev in events] + [f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records]
    for secret in (BSN, *NAMES):
        leaking = [line for line in lines if secret in line]
        assert not leaking, f"{secret!r} reached the log: {leaking[:2]}"  # ...but never in the log


def test_refused_garbage_is_kept_as_metadata_and_an_excerpt(edge: Edge) -> None:
    """What is not even a SOAP message keeps its size and its first bytes, not all of it."""
    junk = b"<not-soap>" + b"x" * 50_000
    r = edge.soap.post_raw(e.ASYNC, junk, {"Content-Type": "text/xml"})
    assert r.status_code in (400, 500)
    row = e.last_row(edge.broker)
    assert row.request_size == len(junk) and row.outcome == "rejected"
    payload = e.log_payload(edge.broker, row.id)
    assert payload is not None and payload.request is not None and len(payload.request) == 4096
