"""Faults caused by the message's content carry ``plek`` client (StUF 03.01 §4.4.3: the sender must
change the message), so that neither legacy clients nor the broker's own queue retry them: an unknown
zaak, zaaktype or statustype, a zaak or document that exists already, a document over the size limit,
a documenttype the zaaktype does not have, a koppeling that does not exist. On the embedded
zaaksysteem and on ZGW. A queued delivery whose target answers a content fault (a remote broker's
Fo03 with plek client) goes dead after its first attempt, even when the target would call it
retryable.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.devtools.zgw_fake import ZGWFake
from broker.errors import AdapterError, StufError
from broker.queue.engine import content_fault
from broker.queue.tables import Delivery, DeliveryAttempt
from tests.support import document_messages as dm
from tests.support import edge_messages as e
from tests.support import live
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.support.configs import fast_delivery, write_config
from tests.support.edge_live import Edge, running
from tests.support.soapcall import SoapCaller

LIMIT = 2000  # limits.max_document_bytes of the embedded broker


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas) -> Iterator[Edge]:
    with running(tmp_path_factory.mktemp("plek"), schemas, limits__max_document_bytes=LIMIT) as edge:
        yield edge


def _zaak(soap: SoapCaller, zaaktype: tuple[str, str] = ("SHV", "Schuldhulpverlening")) -> str:
    ident = soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie") or ""
    answer = soap.call(e.ASYNC, m.creeer_zaak(ident, zaaktype=zaaktype[0], zaaktype_omschrijving=zaaktype[1]))
    assert answer.berichtcode == "Bv03", answer.content
    return ident


def _document(soap: SoapCaller, zaak: str) -> str:
    document = f"1234D{m.ref()}"
    assert soap.call(e.ASYNC, dm.voeg_zaakdocument_toe(document, zaak)).berichtcode == "Bv03"
    return document


#: case -> (port, builds the message from a SoapCaller, the foutcode)
CASES = {
    "unknown zaak": (e.ASYNC, lambda s: e.update_zaak("1234ONBEKEND01", "x"), "StUF064"),
    "unknown zaaktype": (e.ASYNC, lambda s: m.creeer_zaak(f"1234{m.ref()}", zaaktype="ONBEKEND"), "StUF058"),
    "unknown statustype": (e.ASYNC, lambda s: e.actualiseer_zaakstatus(_zaak(s), ("SHV-9", "Bestaat niet", "9")),
                           "StUF064"),
    "zaak exists": (e.ASYNC, lambda s: m.creeer_zaak(_zaak(s)), "StUF058"),
    "document over the size limit": (e.ASYNC, lambda s: dm.voeg_zaakdocument_toe(
        f"1234D{m.ref()}", _zaak(s), content=b"x" * (LIMIT + 1)), "StUF058"),
    "document exists": (e.ASYNC, lambda s: dm.voeg_zaakdocument_toe(_document(s, z := _zaak(s)), z), "StUF058"),
    "documenttype not of the zaaktype": (e.ASYNC, lambda s: dm.voeg_zaakdocument_toe(
        f"1234D{m.ref()}", _zaak(s, ("OMV", "Omgevingsvergunning")), documenttype="Brief"), "StUF058"),
    "unknown document": (e.SYNC_VRIJ, lambda s: dm.geef_zaakdocument_bewerken("1234DONBEKEND"), "StUF064"),
    "koppeling that does not exist": (e.SYNC_VRIJ, lambda s: dm.ontkoppel_zaakdocument(
        _document(s, _zaak(s)), _zaak(s)), "StUF064"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_content_fault_of_the_embedded_zaaksysteem_has_plek_client(edge: Edge, case: str) -> None:
    port, build, code = CASES[case]
    answer = edge.soap.call(port, build(edge.soap))
    assert answer.is_fault, answer.content
    assert (answer.foutcode, answer.text("body/plek")) == (code, "client"), answer.text("body/omschrijving")
    row = e.last_row(edge.broker)
    assert (row.foutcode, row.fout_plek) == (code, "client")


def test_a_fault_of_the_broker_itself_keeps_plek_server() -> None:
    """The other side of the line: a failure the sender cannot mend is not a content fault."""
    assert content_fault(StufError("StUF064", "Zaak niet gevonden", plek="client"))
    assert content_fault(AdapterError("x", retryable=True, fault=StufError("StUF055", "onjuist")))
    assert not content_fault(StufError("StUF058", "Er kon geen vrije identificatie worden gegenereerd"))
    assert not content_fault(AdapterError("timeout", retryable=True))


# -- ZGW ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        yield server
        assert server.violations == [], server.violations


@pytest.fixture(scope="module")
def zgw(tmp_path_factory, fake: ZGWFake, schemas) -> Iterator[zb.ZgwBroker]:
    zb.seed_shv(fake)
    tmp: Path = tmp_path_factory.mktemp("plek-zgw")
    with zb.start(tmp, zb.write_zgw_config(tmp, zb.translate_routes(fake)), schemas) as broker:
        yield broker


ZGW_CASES = {
    "unknown zaak": (lambda s: e.update_zaak("1234ONBEKEND02", "x"), "update", "StUF064"),
    "unknown zaaktype": (lambda s: zm.creeer_zaak(f"1234{m.ref()}", zaaktype=("ONBEKEND", "Onbekend")),
                         "creeer", "StUF058"),
    "unknown statustype": (lambda s: zm.actualiseer_zaakstatus(_zgw_zaak(s), zm.heeft("SHV-9", "Bestaat niet", "9")),
                           "status", "StUF064"),
    "zaak exists": (lambda s: zm.creeer_zaak(_zgw_zaak(s)), "creeer", "StUF058"),
}


def _zgw_zaak(soap: SoapCaller) -> str:
    ident = soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie") or ""
    assert soap.call(e.ASYNC, zm.creeer_zaak(ident), soap_action=zm.ACTION["creeer"]).berichtcode == "Bv03"
    return ident


@pytest.mark.parametrize("case", sorted(ZGW_CASES))
def test_a_content_fault_on_zgw_has_plek_client(zgw: zb.ZgwBroker, case: str) -> None:
    build, action, code = ZGW_CASES[case]
    answer = zgw.soap.call(e.ASYNC, build(zgw.soap), soap_action=zm.ACTION[action])
    assert answer.is_fault, answer.content
    assert (answer.foutcode, answer.text("body/plek")) == (code, "client"), answer.text("body/details")


# -- the queue and the StUF forward -------------------------------------------------------------
@pytest.fixture
def chain(tmp_path: Path, schemas) -> Iterator[tuple[live.LiveBroker, SoapCaller]]:
    """Broker A queues creeerZaak for broker B (a StUF forward); B is a broker on the embedded zaaksysteem."""
    b = live.start(live.make_settings(tmp_path / "b"))
    routes = {"targets": {"b": {"adapter": "stuf", "url": f"{b.url}/zds", "timeout": 5}},
              "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "b", "mode": "queued"}]},
                         {"operations": ["*"], "deliver": [{"target": "zaaksysteem", "mode": "sync"}]}],
              "delivery": fast_delivery(max_attempts=50)}
    routes["targets"]["zaaksysteem"] = {"adapter": "embedded"}
    config = write_config(tmp_path / "a", routes=routes)
    a = live.start(live.make_settings(tmp_path / "a", config_dir=config))
    caller = SoapCaller(a.url, schemas)
    try:
        yield a, caller
    finally:
        caller.close()
        a.stop()
        b.stop()


def _settled(lb: live.LiveBroker, timeout: float = 20.0) -> Delivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with lb.broker.db.read() as s:
            row = s.execute(select(Delivery).where(Delivery.target == "b")).scalar_one_or_none()
            if row is not None and row.state in ("dead", "delivered"):
                s.expunge(row)
                return row
        time.sleep(0.05)
    raise AssertionError("the delivery did not settle")


def _attempts(lb: live.LiveBroker, delivery_id: int) -> list[str]:
    with lb.broker.db.read() as s:
        return list(s.execute(select(DeliveryAttempt.outcome).where(DeliveryAttempt.delivery_id == delivery_id)
                              .order_by(DeliveryAttempt.number)).scalars())


@pytest.mark.parametrize("target_says_retryable", [False, True])
def test_a_remote_content_fault_makes_a_queued_delivery_dead_at_once(chain, target_says_retryable: bool) -> None:
    """B answers Fo03 StUF058 plek client (unknown zaaktype): A's delivery is dead after one attempt,
    also when the target would call the error retryable (the queue's own rule)."""
    a, soap = chain
    if target_says_retryable:
        forward = a.broker.targets["b"]
        forward.retryable = lambda exc: True  # type: ignore[method-assign]
    answer = soap.call(e.ASYNC, m.creeer_zaak(f"1234{m.ref()}", zaaktype="ONBEKEND"))
    assert answer.berichtcode == "Bv03"  # queued: the sender has its acknowledgement
    row = _settled(a)
    assert row.state == "dead" and "(client)" in (row.last_error or ""), row.last_error
    assert _attempts(a, row.id) == ["dead"]
