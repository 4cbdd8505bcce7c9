"""A queued message's Bv03 written as text (broker.stuf.berichten.bv03_envelope): the same bytes as
the tree lxml would serialise, conforming to the schema, and checked against it once for the
broker's identity instead of for every message."""

from __future__ import annotations

import contextlib
import contextvars
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from broker.intake.answers import HttpAnswer
from broker.runtime import Broker
from broker.store.tables import Message, MessagePayload
from broker.stuf import berichten, soap, xmlsafe
from broker.stuf.schemas import SchemaSet
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem, answer_to
from tests.support import configs, live
from tests.support import edge_messages as e
from tests.support import messages as m

#: XML's characters, with what lxml escapes (& < > and CR) and what it writes as they are (quotes, LF, é)
_TEXT = st.text(st.sampled_from(list("aZ09 -_.&<>\"'\r\n\t\u00e9\u20ac\U0001f600")), max_size=12)
_SYSTEEM = st.builds(Systeem, *(st.none() | _TEXT for _ in range(4)))


@settings(max_examples=300, deadline=None)
@given(zender=_SYSTEEM, ontvanger=st.none() | _SYSTEEM, own=_SYSTEEM, ref=st.none() | _TEXT,
       version=st.sampled_from(["1.1", "1.2"]))
def test_the_bv03_written_as_text_is_the_tree_lxml_would_write(zender: Systeem, ontvanger: Systeem | None,
                                                               own: Systeem, ref: str | None, version: str) -> None:
    sg = answer_to(Stuurgegevens(berichtcode="Lk01", zender=zender, ontvanger=ontvanger, referentienummer=ref),
                   "Bv03", own)
    assert berichten.bv03_envelope(sg, version) == soap.to_bytes(soap.envelope(version, berichten.bv03_of(sg)))


def test_a_text_lxml_refuses_is_refused_as_lxml_refuses_it() -> None:
    sg = answer_to(Stuurgegevens(zender=Systeem(applicatie="APP\x01")), "Bv03", Systeem(applicatie="OWN"))
    with pytest.raises(ValueError, match="XML compatible"):
        berichten.bv03_envelope(sg, "1.1")


def _broker(stack: contextlib.ExitStack, tmp_path: Path) -> Broker:
    config = configs.write_config(tmp_path, routes={
        "targets": {"zs": {"adapter": "embedded"}},
        "routes": [{"operations": ["creeerZaak"], "deliver": [{"target": "zs", "mode": "queued"}]},
                   {"operations": ["*"], "deliver": [{"target": "zs", "mode": "sync"}]}],
        "delivery": {"worker_in_serve": False}})
    broker = Broker(live.make_settings(tmp_path, config_dir=config))
    stack.callback(broker.close)
    return broker


def _send(broker: Broker, identificatie: str) -> HttpAnswer:
    return contextvars.copy_context().run(
        broker.pipeline.handle, e.ASYNC, e.envelope(m.creeer_zaak(identificatie)), "text/xml; charset=utf-8",
        '"http://www.stufstandaarden.nl/koppelvlak/zds0120/creeerZaak_ZakLk01"')


def _bv03(answer_body: bytes) -> etree._Element:
    body = xmlsafe.parse(answer_body).find("{*}Body")
    assert body is not None
    return body[0]


def test_a_queued_messages_bv03_conforms_and_is_checked_once_for_the_brokers_identity(
        tmp_path: Path, schemas: SchemaSet, monkeypatch: pytest.MonkeyPatch) -> None:
    with contextlib.ExitStack() as stack:
        broker = _broker(stack, tmp_path)
        checked: list[str] = []
        issues = broker.schemas.issues
        monkeypatch.setattr(broker.schemas, "issues",
                            lambda element: checked.append(etree.QName(element).localname) or issues(element))
        invalid: list[str | None] = []
        broker.pipeline.invalid_answer_listeners.append(invalid.append)
        for n in range(3):
            answer = _send(broker, f"1234BV{n:06d}")
            assert answer.status == 200
            bv03 = _bv03(answer.body)
            assert schemas.issues(bv03) == []
            sg = bv03.find("{*}stuurgegevens")
            assert sg is not None and sg.findtext("{*}berichtcode") == "Bv03"
            with broker.db.read() as session:  # what is stored is what was answered
                row, payload = session.get(Message, answer.message_id), session.get(MessagePayload, answer.message_id)
                assert row is not None and row.answer_berichtcode == "Bv03"
                assert payload is not None and payload.answer == answer.body
        # the request of each message, and the broker's own Bv03 once
        assert checked.count("Bv03Bericht") == 1 and checked.count("creeerZaak_ZakLk01") == 3, checked
        assert invalid == []


def test_an_identity_that_makes_a_nonconforming_bv03_has_every_bv03_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with contextlib.ExitStack() as stack:
        broker = _broker(stack, tmp_path)
        broker.pipeline.own = Systeem("BROKER", "X" * 51)  # StUF:Applicatie is at most 50 characters
        checked: list[str] = []
        issues = broker.schemas.issues
        monkeypatch.setattr(broker.schemas, "issues",
                            lambda element: checked.append(etree.QName(element).localname) or issues(element))
        for n in range(2):
            answer = _send(broker, f"1234BX{n:06d}")
            # these requests name their ontvanger, which answers as the Bv03's zender: it conforms
            assert answer.status == 200 and _bv03(answer.body).find("{*}stuurgegevens") is not None
        assert checked.count("Bv03Bericht") == 3, checked  # the identity's probe, then each answer


@given(st.floats(min_value=1.6e9, max_value=2.1e9, allow_nan=False))
@example(1600000000.9999998)  # rounds up into the next second, as datetime rounds it
def test_an_answers_moment_and_reference_are_the_local_time_of_its_second(now: float) -> None:
    """tijdstipBericht (yyyyMMddHHmmssSSS) and the referentienummer's time, from the last second's
    text kept (every answer asks twice): the same as datetime writes them for that moment, also when
    the second moves on."""
    import time
    from datetime import datetime
    from types import SimpleNamespace

    from broker.stuf import stuurgegevens

    with pytest.MonkeyPatch.context() as mp:
        for moment in (now, now + 0.5, now + 1.25, now - 3600.0):
            clock = SimpleNamespace(time=lambda m=moment: m, strftime=time.strftime, localtime=time.localtime)
            mp.setattr(stuurgegevens, "time", clock)  # (this module's clock only)
            expected = datetime.fromtimestamp(moment)
            assert stuurgegevens.now_tijdstip() == expected.strftime("%Y%m%d%H%M%S%f")[:17]
            assert stuurgegevens.new_referentienummer()[2:16] == expected.strftime("%Y%m%d%H%M%S")
