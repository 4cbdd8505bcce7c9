"""The SOAP envelope as SOAP prescribes it: one Body (after at most one Header), and header blocks
marked mustUnderstand that the broker does not know refused with a MustUnderstand fault."""

from __future__ import annotations

import pytest

from broker.errors import StufError
from broker.stuf import soap
from tests.support import messages as m

S11 = "http://schemas.xmlsoap.org/soap/envelope/"
S12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSA = "http://www.w3.org/2005/08/addressing"
BODY = m.genereer_zaak_identificatie()


def env(inner: str, ns: str = S11) -> bytes:
    return f'<s:Envelope xmlns:s="{ns}">{inner}</s:Envelope>'.encode()


def refused(data: bytes, content_type: str = "text/xml") -> StufError:
    with pytest.raises(StufError) as caught:
        soap.parse_request(data, content_type, None)
    assert caught.value.code == "StUF055"
    return caught.value


@pytest.mark.parametrize("inner", [
    f"<s:Body>{BODY}</s:Body><s:Body>{BODY}</s:Body>",                          # a second Body
    f"<s:Header/><s:Header/><s:Body>{BODY}</s:Body>",                           # two Headers
    f"<s:Body>{BODY}</s:Body><s:Header/>",                                      # Header after Body
    f'<s:Body>{BODY}</s:Body><x:extra xmlns:x="urn:x"/>',                       # something else
    "",                                                                         # nothing
])
def test_an_envelope_that_is_not_header_then_body_is_refused(inner: str) -> None:
    assert "Body" in refused(env(inner)).omschrijving


def test_a_header_then_a_body_is_read() -> None:
    assert soap.parse_request(env(f"<s:Header/><s:Body>{BODY}</s:Body>"), "text/xml", None).body_element is not None


@pytest.mark.parametrize(("ns", "content_type"), [(S11, "text/xml"), (S12, "application/soap+xml")])
def test_an_unknown_header_marked_must_understand_gets_a_must_understand_fault(ns: str, content_type: str) -> None:
    header = '<s:Header><x:Transaction xmlns:x="urn:tx" s:mustUnderstand="1">42</x:Transaction></s:Header>'
    error = refused(env(f"{header}<s:Body>{BODY}</s:Body>", ns), content_type)
    assert error.soap_fault_code == "MustUnderstand" and "Transaction" in error.omschrijving
    fault = soap.fault_envelope("1.1" if ns == S11 else "1.2", error, soap.envelope("1.1", soap.parse_request(
        env(f"<s:Body>{BODY}</s:Body>"), "text/xml", None).body_element))
    assert b"MustUnderstand" in soap.to_bytes(fault)


@pytest.mark.parametrize("header", [
    '<x:Transaction xmlns:x="urn:tx" s:mustUnderstand="0">42</x:Transaction>',    # not marked
    '<x:Transaction xmlns:x="urn:tx">42</x:Transaction>',
    f'<w:Security xmlns:w="{WSSE}" s:mustUnderstand="1"/>',                          # WS-Security: processed
    f'<a:Action xmlns:a="{WSA}" s:mustUnderstand="1">urn:creeerZaak</a:Action>',     # WS-Addressing (.NET)
])
def test_known_or_optional_headers_are_accepted(header: str) -> None:
    soap.parse_request(env(f"<s:Header>{header}</s:Header><s:Body>{BODY}</s:Body>"), "text/xml", None)
