"""The request hash that tells a resend from another message under the same (zender, referentienummer):
the same StUF body in another envelope is the same message (StUF 03.01 §4.4.3)."""

from __future__ import annotations

from broker.intake import messagelog
from broker.intake.messagelog import Record
from broker.stuf import soap
from tests.support import edge_messages as e
from tests.support import messages as m

ACTION = "http://www.stufstandaarden.nl/koppelvlak/zds0120/creeerZaak_ZakLk01"


def _body(envelope: bytes, version: str = "1.1"):  # type: ignore[no-untyped-def]
    content_type = "application/soap+xml; charset=utf-8" if version == "1.2" else "text/xml; charset=utf-8"
    return soap.parse_request(envelope, content_type, None if version == "1.2" else f'"{ACTION}"').body_element


def test_the_same_body_in_another_envelope_has_the_same_hash() -> None:
    xml = m.creeer_zaak("1234H0001", referentienummer="H1")
    hashes = {
        messagelog.body_hash(_body(e.envelope(xml))),
        messagelog.body_hash(_body(e.envelope(xml, version="1.2"), "1.2")),
        messagelog.body_hash(_body(e.envelope(xml, prefix="S"))),
        messagelog.body_hash(_body(e.envelope(xml, prefix=None))),
        messagelog.body_hash(_body(e.envelope(xml, header=False))),
    }
    assert len(hashes) == 1


def test_other_content_has_another_hash() -> None:
    one = messagelog.body_hash(_body(e.envelope(m.creeer_zaak("1234H0002", referentienummer="H2"))))
    other = messagelog.body_hash(_body(e.envelope(m.creeer_zaak("1234H0003", referentienummer="H2"))))
    assert one != other


def test_a_hash_stored_by_an_earlier_version_still_matches() -> None:
    body = _body(e.envelope(m.creeer_zaak("1234H0004", referentienummer="H4")))
    rec = Record(port="OntvangAsynchroon", request_hash=messagelog.content_hash(b"these bytes"),
                 body_hashes=messagelog.body_hashes(body))
    assert rec.same_content(messagelog.body_hash(body))
    assert rec.same_content(messagelog.legacy_body_hash(body))  # inclusive c14n, as stored before
    assert not rec.same_content("0" * 64)
    assert not rec.same_content(None)


def _no_canonical_form() -> tuple[str, ...]:
    raise AssertionError("a byte-identical resend needs no canonical form")


def test_a_byte_identical_resend_is_recognised_by_its_bytes_alone() -> None:
    envelope = e.envelope(m.creeer_zaak("1234H0005", referentienummer="H5"))
    rec = Record(port="OntvangAsynchroon", request_hash=messagelog.content_hash(envelope),
                 body_hashes=_no_canonical_form)
    assert rec.same_content(messagelog.content_hash(envelope), stored_body_hash=lambda: None)


def test_the_same_body_in_another_envelope_is_recognised_by_the_stored_request() -> None:
    xml = m.creeer_zaak("1234H0006", referentienummer="H6")
    stored, resent = e.envelope(xml), e.envelope(xml, version="1.2")
    rec = Record(port="OntvangAsynchroon", request_hash=messagelog.content_hash(resent),
                 body_hashes=messagelog.body_hashes(_body(resent, "1.2")))
    stored_hash = messagelog.content_hash(stored)
    assert rec.same_content(stored_hash, lambda: messagelog.body_hash(_body(stored)))
    other = e.envelope(m.creeer_zaak("1234H0007", referentienummer="H6"))
    assert not rec.same_content(messagelog.content_hash(other), lambda: messagelog.body_hash(_body(other)))
    assert not rec.same_content(stored_hash, lambda: None)  # the stored request was purged
    assert not rec.same_content(stored_hash)


def test_a_body_without_canonical_form_is_the_same_only_byte_for_byte() -> None:
    """Canonical XML refuses a relative namespace URI; such a body's hashes are none, and only the
    same bytes are the same message."""
    xml = m.creeer_zaak("1234H0008", referentienummer="H8").replace("<ZKN:object ", '<ZKN:object xmlns:q="rel" ', 1)
    envelope = e.envelope(xml)
    hashes = messagelog.body_hashes(_body(envelope))
    assert hashes() == ()
    rec = Record(port="OntvangAsynchroon", request_hash=messagelog.content_hash(envelope), body_hashes=hashes)
    assert rec.same_content(messagelog.content_hash(envelope))
    assert not rec.same_content(messagelog.content_hash(e.envelope(xml, prefix="S")), lambda: "0" * 64)
