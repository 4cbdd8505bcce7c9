"""StUF046 (StUF 03.01 Tabel 4.1, R-SG-13): an asynchronous message the broker could not store gets no
Bv03 but a Fo03 StUF046 (plek server: send it again later); StUF046 exists only in Fo03, so a
synchronous message gets StUF058. The database failure is injected where the message log is written
(the one stand-in here: a database that fails on demand)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from broker.intake import messagelog
from tests.support import messages as m
from tests.support.edge_live import Edge, running


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas):
    with running(tmp_path_factory.mktemp("stuf046"), schemas) as edge:
        yield edge


def _failing(*args: object, **kwargs: object) -> int:
    raise OperationalError("INSERT INTO messages", {}, Exception("disk I/O error"))


def test_an_asynchronous_message_that_cannot_be_stored_gets_stuf046(edge: Edge, monkeypatch) -> None:
    monkeypatch.setattr(messagelog, "store_answered", _failing)
    answer = edge.soap.call("OntvangAsynchroon", m.creeer_zaak("1234DB00001"), soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01")
    assert answer.berichtcode == "Fo03" and answer.foutcode == "StUF046", answer.content
    assert answer.text("body/plek") == "server"
    monkeypatch.undo()
    again = edge.soap.call("OntvangAsynchroon", m.creeer_zaak("1234DB00001"), soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01")
    assert again.berichtcode == "Bv03", "nothing of the refused message may have stayed behind"


def test_a_synchronous_message_gets_stuf058(edge: Edge, monkeypatch) -> None:
    monkeypatch.setattr(messagelog, "store_answered", _failing)
    answer = edge.soap.call("VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie(),
                            soap_action=m.ZDS_ACTION + "genereerZaakIdentificatie_Di02")
    assert answer.berichtcode == "Fo02" and answer.foutcode == "StUF058", answer.content
