"""Namespace URIs used by the broker, in one place."""

STUF = "http://www.egem.nl/StUF/StUF0301"
ZKN = "http://www.egem.nl/StUF/sector/zkn/0310"
BG = "http://www.egem.nl/StUF/sector/bg/0310"
ZDS = "http://www.stufstandaarden.nl/koppelvlak/zds0120"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"
GML = "http://www.opengis.net/gml"
XMIME = "http://www.w3.org/2005/05/xmlmime"
XOP = "http://www.w3.org/2004/08/xop/include"

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"

WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"

#: Prefixes the broker uses when it writes StUF (readers must never depend on prefixes).
NSMAP = {
    "StUF": STUF,
    "ZKN": ZKN,
    "BG": BG,
    "ZDS": ZDS,
    "xsi": XSI,
    "gml": GML,
    "xmime": XMIME,
}


def q(ns: str, local: str) -> str:
    """Clark notation ``{ns}local``."""
    return f"{{{ns}}}{local}"


def local(tag: object) -> str:
    """Local part of an lxml tag (comments and PIs have non-string tags)."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def namespace(tag: object) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].partition("}")[0]
