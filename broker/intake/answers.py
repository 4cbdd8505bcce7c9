"""What the intake sends back: the HTTP answer, the SOAP envelope around a StUF answer (inline or
MTOM), and the berichtcode an answer carries (for the message log)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from broker.stuf import mtom, ns, soap
from broker.zds.xmlutil import child

#: ZKN elements whose content an answer may carry as an MTOM part
_BINAIRE_INHOUD = ("inhoud",)
_BINAIRE_TAGS = tuple(ns.q(ns.ZKN, name) for name in _BINAIRE_INHOUD)


@dataclass
class HttpAnswer:
    status: int
    body: bytes
    content_type: str
    message_id: int | None = None
    #: the request's correlation id (broker.logging), answered in the X-Correlation-ID header
    correlation_id: str | None = None


def berichtcode(answer: etree._Element) -> str | None:
    name = ns.local(answer.tag)
    if name.endswith("Bericht"):
        return name[:4]
    sg = child(answer, "stuurgegevens")
    code = child(sg, "berichtcode") if sg is not None else None
    return code.text if code is not None else None


def binary_elements(answer: etree._Element) -> list[etree._Element]:
    """The ZKN content elements with content, in document order (lxml matches the names in C: only
    those elements become Python objects, where an answer has hundreds)."""
    return [el for el in answer.iter(*_BINAIRE_TAGS) if (el.text or "").strip()]


def envelope_bytes(request: soap.SoapRequest, answer: etree._Element, binary_answers: str) -> HttpAnswer:
    """The answer in the request's SOAP version; document content as MTOM parts when configured
    (``mtom``) or when the request came as MTOM (``mirror``)."""
    env = soap.envelope(request.version, answer)
    may_be_mtom = binary_answers == "mtom" or (binary_answers == "mirror" and request.mtom)
    binaries = binary_elements(answer) if may_be_mtom else []
    if binaries:
        body, ctype = mtom.serialize(env, binaries, "application/soap+xml" if request.version == "1.2" else "text/xml")
        return HttpAnswer(200, body, ctype)
    return HttpAnswer(200, soap.to_bytes(env), soap.content_type(request.version))
