"""The SOAP binding of StUF (protocolbindingen §3-4): reading requests, writing answers and faults.

Both SOAP 1.1 and SOAP 1.2 envelopes are accepted, with any prefixes; answers use the version of
the request. The SOAPAction may come quoted, unquoted, in the SOAP 1.2 content type, or not at all.
A StUF fault (Fo02/Fo03) travels as a SOAP Fault whose detail holds the whole Fo-bericht.
"""

from __future__ import annotations

import email.message
import functools
from dataclasses import dataclass, field

from lxml import etree

from broker.errors import RequestRejected, StufError
from broker.stuf import mtom, ns, xmlsafe
from broker.stuf.spool import Shape

_XML_TYPES = ("text/xml", "application/soap+xml", "application/xml")


@dataclass
class SoapRequest:
    version: str  # "1.1" or "1.2"
    envelope: etree._Element
    body_element: etree._Element
    soap_action: str | None
    mtom: bool = False
    headers: list[etree._Element] = field(default_factory=list)

    @property
    def env_ns(self) -> str:
        return ns.SOAP12 if self.version == "1.2" else ns.SOAP11


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    media, params = _parsed_media_type(content_type)
    return media, dict(params)


@functools.lru_cache(maxsize=256)  # a client sends the same Content-Type each time
def _parsed_media_type(content_type: str) -> tuple[str, dict[str, str]]:
    msg = email.message.Message()
    msg["Content-Type"] = content_type or ""
    params = {k.lower(): v for k, v in msg.get_params(failobj=[])[1:]}
    return msg.get_content_type().lower(), params


def clean_action(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().strip('"').strip("'").strip()
    return value or None


def parse_request(body: bytes, content_type: str, soap_action_header: str | None,
                  shape: Shape | None = None) -> SoapRequest:
    """Read a SOAP request; raise a StufError (or RequestRejected for transport problems)."""
    if not content_type:
        # Some field clients omit the header; XML is still XML.
        content_type = "text/xml"
    media, params = _media_type(content_type)
    is_mtom = mtom.is_multipart(content_type)
    if is_mtom:
        envelope, root_type = mtom.parse(body, content_type, shape)
        _, root_params = _media_type(root_type)
        action = (
            clean_action(soap_action_header)
            or clean_action(params.get("action"))
            or clean_action(root_params.get("action"))
        )
    elif media in _XML_TYPES:
        envelope = xmlsafe.parse(body)
        action = clean_action(soap_action_header)
        if media == "application/soap+xml" and not action:
            action = clean_action(params.get("action"))
    else:
        raise RequestRejected(
            "StUF055",
            f"Content-Type {media} wordt niet ondersteund; verwacht text/xml (SOAP 1.1), "
            "application/soap+xml (SOAP 1.2) of multipart/related (MTOM)",
            http_status=415,
        )
    env_ns = ns.namespace(envelope.tag)
    if ns.local(envelope.tag) != "Envelope" or env_ns not in (ns.SOAP11, ns.SOAP12):
        raise StufError(
            "StUF055",
            "Het bericht is geen SOAP-envelope",
            f"hoofdelement {ns.local(envelope.tag) or '?'} in namespace {env_ns or '(geen)'}",
        )
    version = "1.2" if env_ns == ns.SOAP12 else "1.1"
    parts = [ns.local(c.tag) if ns.namespace(c.tag) == env_ns else ns.local(c.tag) + "?"
             for c in envelope if isinstance(c.tag, str)]
    if parts not in (["Body"], ["Header", "Body"]):
        raise StufError("StUF055", "De SOAP-envelope moet een Body bevatten, eventueel na één Header, en verder niets",
                        f"gevonden: {', '.join(parts) or '(niets)'}")
    body_el = envelope.find(ns.q(env_ns, "Body"))
    if body_el is None:  # pragma: no cover - the order check above found it
        raise StufError("StUF055", "De SOAP-envelope heeft geen Body")
    children = [c for c in body_el if isinstance(c.tag, str)]
    if len(children) != 1:
        raise StufError(
            "StUF055",
            "De SOAP Body moet precies één StUF-bericht bevatten",
            f"gevonden: {len(children)} elementen",
        )
    header_el = envelope.find(ns.q(env_ns, "Header"))
    headers = [c for c in header_el if isinstance(c.tag, str)] if header_el is not None else []
    _must_understand(headers, env_ns)
    return SoapRequest(version, envelope, children[0], action, is_mtom, headers)


#: SOAP header blocks the broker processes (WS-Security) or may accept unprocessed (WS-Addressing:
#: the broker answers on the same connection, so Action, To and MessageID change nothing)
UNDERSTOOD = frozenset({
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "http://www.w3.org/2005/08/addressing",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing",
})


def _must_understand(headers: list[etree._Element], env_ns: str) -> None:
    """A header block marked mustUnderstand that the broker does not know refuses the message
    (SOAP 1.1 §4.2.3, SOAP 1.2 part 1 §5.2.3): a MustUnderstand fault."""
    for header in headers:
        flag = header.get(ns.q(env_ns, "mustUnderstand"), "")
        if flag.strip() in ("1", "true") and ns.namespace(header.tag) not in UNDERSTOOD:
            raise StufError("StUF055", f"De SOAP-header {ns.local(header.tag)} (mustUnderstand) wordt niet ondersteund",
                            f"header {{{ns.namespace(header.tag)}}}{ns.local(header.tag)}",
                            soap_fault_code="MustUnderstand")


def envelope(version: str, payload: etree._Element) -> etree._Element:
    env_ns = ns.SOAP12 if version == "1.2" else ns.SOAP11
    env = etree.Element(ns.q(env_ns, "Envelope"), nsmap={"soapenv" if version == "1.1" else "env": env_ns})
    body = etree.SubElement(env, ns.q(env_ns, "Body"))
    body.append(payload)
    return env


def fault_envelope(version: str, fault: StufError, fo_bericht: etree._Element) -> etree._Element:
    """A SOAP Fault carrying a Fo-bericht as its detail (protocolbindingen §3)."""
    env_ns = ns.SOAP12 if version == "1.2" else ns.SOAP11
    prefix = "soapenv" if version == "1.1" else "env"
    env = etree.Element(ns.q(env_ns, "Envelope"), nsmap={prefix: env_ns})
    body = etree.SubElement(env, ns.q(env_ns, "Body"))
    f = etree.SubElement(body, ns.q(env_ns, "Fault"))
    if version == "1.1":
        etree.SubElement(f, "faultcode").text = f"{prefix}:{_fault_code(fault, 'Client', 'Server')}"
        etree.SubElement(f, "faultstring").text = fault.omschrijving
        etree.SubElement(f, "detail").append(fo_bericht)
    else:
        code = etree.SubElement(f, ns.q(env_ns, "Code"))
        etree.SubElement(code, ns.q(env_ns, "Value")).text = (
            f"{prefix}:{_fault_code(fault, 'Sender', 'Receiver')}"
        )
        reason = etree.SubElement(f, ns.q(env_ns, "Reason"))
        text = etree.SubElement(reason, ns.q(env_ns, "Text"))
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "nl")
        text.text = fault.omschrijving
        etree.SubElement(f, ns.q(env_ns, "Detail")).append(fo_bericht)
    return env


def _fault_code(fault: StufError, client: str, server: str) -> str:
    return fault.soap_fault_code or (client if fault.plek == "client" else server)


def content_type(version: str) -> str:
    return "application/soap+xml; charset=utf-8" if version == "1.2" else "text/xml; charset=utf-8"


def to_bytes(env: etree._Element) -> bytes:
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")
