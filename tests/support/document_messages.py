"""Building the ZDS 1.2 document messages (§4.3) for tests, and MTOM requests.

Each builder takes a fresh referentienummer unless given (``tests.support.messages.stuurgegevens``).
"""

from __future__ import annotations

import base64
import email.policy
import io
import uuid
from email.generator import BytesGenerator
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from xml.sax.saxutils import quoteattr

from tests.support.messages import NSDECL, ZDS_ACTION, stuurgegevens, today

XMIME = "http://www.w3.org/2005/05/xmlmime"
XOP = "http://www.w3.org/2004/08/xop/include"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"

ACTION = {
    "voegZaakdocumentToe": ZDS_ACTION + "voegZaakdocumentToe_EdcLk01",
    "maakZaakdocument": ZDS_ACTION + "maakZaakdocument_EdcLk01",
    "geefLijstZaakdocumenten": ZDS_ACTION + "geefLijstZaakdocumenten_ZakLv01",
    "geefZaakdocumentLezen": ZDS_ACTION + "geefZaakdocumentLezen_EdcLv01",
    "geefZaakdocumentbewerken": ZDS_ACTION + "geefZaakdocumentBewerken_Di02",
    "updateZaakdocument": ZDS_ACTION + "updateZaakdocument_Di02",
    "cancelCheckout": ZDS_ACTION + "cancelCheckout_Di02",
    "ontkoppelZaakdocument": ZDS_ACTION + "ontkoppelZaakdocument_Di02",
}


def inhoud(content: bytes, bestandsnaam: str = "brief.pdf", content_type: str | None = "application/pdf") -> str:
    ctype = f" xmime:contentType={quoteattr(content_type)}" if content_type else ""
    return (f'<ZKN:inhoud xmlns:xmime="{XMIME}" StUF:bestandsnaam={quoteattr(bestandsnaam)}{ctype}>'
            f"{base64.b64encode(content).decode('ascii')}</ZKN:inhoud>")


def xop_inhoud(cid: str, bestandsnaam: str = "brief.pdf", content_type: str | None = "application/pdf") -> str:
    """``inhoud`` whose content is an MTOM part (xop:Include) instead of inline base64."""
    ctype = f" xmime:contentType={quoteattr(content_type)}" if content_type else ""
    return (f'<ZKN:inhoud xmlns:xmime="{XMIME}" StUF:bestandsnaam={quoteattr(bestandsnaam)}{ctype}>'
            f'<xop:Include xmlns:xop="{XOP}" href="cid:{cid}"/></ZKN:inhoud>')


def zaak_relatie(zaak_identificatie: str, *, titel: str | None = None, zaaktype: str = "SHV",
                 zaaktype_omschrijving: str = "Schuldhulpverlening") -> str:
    extra = f"<ZKN:titel>{titel}</ZKN:titel>" if titel else ""
    return ('<ZKN:isRelevantVoor StUF:entiteittype="EDCZAK" StUF:verwerkingssoort="T">'
            '<ZKN:gerelateerde StUF:entiteittype="ZAK" StUF:verwerkingssoort="I">'
            f"<ZKN:identificatie>{zaak_identificatie}</ZKN:identificatie>"
            "</ZKN:gerelateerde>"
            f"{extra}</ZKN:isRelevantVoor>")


def _edc_object(identificatie: str, zaak_identificatie: str, *, inhoud_xml: str, titel: str,
                documenttype: str, auteur: str, relatie_titel: str | None, formaat: str | None = "pdf") -> str:
    formaat_xml = (f"<ZKN:formaat>{formaat}</ZKN:formaat>" if formaat is not None
                   else '<ZKN:formaat xsi:nil="true" StUF:noValue="geenWaarde"/>')
    return ('<ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="T">'
            f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
            f"<ZKN:dct.omschrijving>{documenttype}</ZKN:dct.omschrijving>"
            f"<ZKN:creatiedatum>{today()}</ZKN:creatiedatum>"
            f"<ZKN:ontvangstdatum>{today()}</ZKN:ontvangstdatum>"
            f"<ZKN:titel>{titel}</ZKN:titel>"
            "<ZKN:beschrijving>Brief aan de aanvrager</ZKN:beschrijving>"
            f"{formaat_xml}<ZKN:taal>nld</ZKN:taal><ZKN:versie>1</ZKN:versie>"
            "<ZKN:status>definitief</ZKN:status>"
            "<ZKN:vertrouwelijkAanduiding>VERTROUWELIJK</ZKN:vertrouwelijkAanduiding>"
            f"<ZKN:auteur>{auteur}</ZKN:auteur>"
            f"{inhoud_xml}{zaak_relatie(zaak_identificatie, titel=relatie_titel)}</ZKN:object>")


def _lk01(element: str, obj: str, **sg: object) -> str:
    return (f"<{element} {NSDECL}>{stuurgegevens('ZKN', 'Lk01', entiteittype='EDC', **sg)}"
            "<ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername>"
            f"</ZKN:parameters>{obj}</{element}>")


def voeg_zaakdocument_toe(identificatie: str, zaak_identificatie: str, content: bytes = b"%PDF-1.4 brief", *,
                          bestandsnaam: str = "brief.pdf", content_type: str | None = "application/pdf",
                          inhoud_xml: str | None = None, titel: str = "Ontvangstbevestiging",
                          documenttype: str = "Brief", auteur: str = "Team Schuldhulp",
                          relatie_titel: str | None = None, formaat: str | None = "pdf", **sg: object) -> str:
    inh = inhoud_xml if inhoud_xml is not None else inhoud(content, bestandsnaam, content_type)
    obj = _edc_object(identificatie, zaak_identificatie, inhoud_xml=inh, titel=titel,
                      documenttype=documenttype, auteur=auteur, relatie_titel=relatie_titel, formaat=formaat)
    return _lk01("ZDS:voegZaakdocumentToe_EdcLk01", obj, **sg)


def maak_zaakdocument(identificatie: str, zaak_identificatie: str, *, titel: str = "Besluitbrief",
                      documenttype: str = "Brief", auteur: str = "Team Schuldhulp", **sg: object) -> str:
    obj = _edc_object(identificatie, zaak_identificatie, inhoud_xml="", titel=titel,
                      documenttype=documenttype, auteur=auteur, relatie_titel=None)
    return _lk01("ZDS:maakZaakdocument_EdcLk01", obj, **sg)


def _lv01(element: str, entiteittype: str, gelijk: str, scope: str, **sg: object) -> str:
    return (f"<{element} {NSDECL}>{stuurgegevens('ZKN', 'Lv01', entiteittype=entiteittype, **sg)}"
            "<ZKN:parameters><StUF:sortering>0</StUF:sortering>"
            "<StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag></ZKN:parameters>"
            f'<ZKN:gelijk StUF:entiteittype="{entiteittype}">{gelijk}</ZKN:gelijk>'
            f"<ZKN:scope>{scope}</ZKN:scope></{element}>")


ALLES_ZAK = '<ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"/>'
ALLES_EDC = '<ZKN:object StUF:entiteittype="EDC" StUF:scope="alles"/>'


def geef_lijst_zaakdocumenten(zaak_identificatie: str, scope: str = ALLES_ZAK, **sg: object) -> str:
    return _lv01("ZDS:geefLijstZaakdocumenten_ZakLv01", "ZAK",
                 f"<ZKN:identificatie>{zaak_identificatie}</ZKN:identificatie>", scope, **sg)


def geef_zaakdocument_lezen(identificatie: str, scope: str = ALLES_EDC, **sg: object) -> str:
    return _lv01("ZDS:geefZaakdocumentLezen_EdcLv01", "EDC",
                 f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>", scope, **sg)


def _di02(element: str, functie: str, content: str, **sg: object) -> str:
    return f"<{element} {NSDECL}>{stuurgegevens('ZDS', 'Di02', functie=functie, **sg)}{content}</{element}>"


def geef_zaakdocument_bewerken(identificatie: str, scope: str | None = ALLES_EDC, **sg: object) -> str:
    scope_xml = f"<ZKN:scope>{scope}</ZKN:scope>" if scope else ""
    vraag = ('<ZDS:edcLv01 StUF:entiteittype="EDC" StUF:functie="selectie"><ZKN:parameters/>'
             f'<ZKN:gelijk StUF:entiteittype="EDC"><ZKN:identificatie>{identificatie}</ZKN:identificatie></ZKN:gelijk>'
             f"{scope_xml}</ZDS:edcLv01>")
    return _di02("ZDS:geefZaakdocumentBewerken_Di02", "geefZaakdocumentbewerken", vraag, **sg)


def _parameters(checkout_id: str | None) -> str:
    cid = f"<ZDS:checkedOutId>{checkout_id}</ZDS:checkedOutId>" if checkout_id is not None else ""
    return f"<ZDS:parameters>{cid}<ZDS:versioningState>major</ZDS:versioningState></ZDS:parameters>"


def update_zaakdocument(identificatie: str, checkout_id: str | None, *, oud_titel: str, nieuw_titel: str,
                        content: bytes | None = None, bestandsnaam: str = "brief-v2.pdf",
                        content_type: str | None = "application/pdf", extra_nieuw: str = "",
                        **sg: object) -> str:
    """An edcLk02 W pair changing the titel, and the content when ``content`` is given."""
    new_inhoud = inhoud(content, bestandsnaam, content_type) if content is not None else ""
    lk02 = ('<ZDS:edcLk02 StUF:entiteittype="EDC" StUF:functie="update">'
            "<ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort></ZKN:parameters>"
            '<ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="W">'
            f"<ZKN:identificatie>{identificatie}</ZKN:identificatie><ZKN:titel>{oud_titel}</ZKN:titel>"
            "</ZKN:object>"
            '<ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="W">'
            f"<ZKN:identificatie>{identificatie}</ZKN:identificatie><ZKN:titel>{nieuw_titel}</ZKN:titel>"
            f"{extra_nieuw}{new_inhoud}</ZKN:object></ZDS:edcLk02>")
    return _di02("ZDS:updateZaakdocument_Di02", "updateZaakdocument", _parameters(checkout_id) + lk02, **sg)


def cancel_checkout(identificatie: str, checkout_id: str | None, **sg: object) -> str:
    document = ('<ZDS:document StUF:entiteittype="EDC" StUF:functie="entiteit" StUF:verwerkingssoort="I">'
                f"<ZKN:identificatie>{identificatie}</ZKN:identificatie></ZDS:document>")
    return _di02("ZDS:cancelCheckout_Di02", "cancelCheckout", _parameters(checkout_id) + document, **sg)


def ontkoppel_zaakdocument(identificatie: str, zaak_identificatie: str, **sg: object) -> str:
    lk02 = ('<ZDS:edcLk02 StUF:entiteittype="EDC" StUF:functie="update">'
            "<ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort></ZKN:parameters>"
            '<ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="W">'
            f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
            '<ZKN:isRelevantVoor StUF:entiteittype="EDCZAK" StUF:verwerkingssoort="V">'
            '<ZKN:gerelateerde StUF:entiteittype="ZAK" StUF:verwerkingssoort="I">'
            f"<ZKN:identificatie>{zaak_identificatie}</ZKN:identificatie></ZKN:gerelateerde></ZKN:isRelevantVoor>"
            "</ZKN:object>"
            '<ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="W">'
            f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
            '<ZKN:isRelevantVoor StUF:entiteittype="EDCZAK" StUF:verwerkingssoort="V" '
            'xsi:nil="true" StUF:noValue="geenWaarde"/>'
            "</ZKN:object></ZDS:edcLk02>")
    return _di02("ZDS:ontkoppelZaakdocument_Di02", "ontkoppelZaakdocument", "<ZDS:parameters/>" + lk02, **sg)


# -- MTOM ------------------------------------------------------------------------------------
class _BinaryGenerator(BytesGenerator):
    """The stdlib generator rewrites line ends in every body; parts sent with
    Content-Transfer-Encoding: binary must go out byte for byte (XOP, SOAP 1.1 MTOM)."""

    def _handle_text(self, msg) -> None:  # email.message.Message
        if str(msg.get("Content-Transfer-Encoding", "")).lower() == "binary" and isinstance(msg._payload, str):
            self.write(msg._payload)  # surrogate-escaped bytes, written back unchanged
            return
        super()._handle_text(msg)

    _writeBody = _handle_text


def mtom_request(body: str, attachments: dict[str, bytes], soap_action: str) -> tuple[bytes, dict[str, str]]:
    """A SOAP 1.1 MTOM request (multipart/related, application/xop+xml root part) built with the
    email package; returns the HTTP body and headers."""
    envelope = (f'<soapenv:Envelope xmlns:soapenv="{SOAP11}"><soapenv:Header/>'
                f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>").encode()
    start = f"<root.{uuid.uuid4().hex}@test>"
    msg = MIMEMultipart("related", type="application/xop+xml", start=start, **{"start-info": "text/xml"})
    root = MIMEBase("application", "xop+xml", charset="UTF-8", type="text/xml")
    root.set_payload(envelope)
    root["Content-Transfer-Encoding"] = "binary"
    root["Content-ID"] = start
    msg.attach(root)
    for cid, data in attachments.items():
        part = MIMEBase("application", "octet-stream")
        part.set_payload(data)
        part["Content-Transfer-Encoding"] = "binary"
        part["Content-ID"] = f"<{cid}>"
        msg.attach(part)
    out = io.BytesIO()
    _BinaryGenerator(out, policy=email.policy.HTTP).flatten(msg)
    _, _, http_body = out.getvalue().partition(b"\r\n\r\n")
    headers = {"Content-Type": str(msg["Content-Type"]), "SOAPAction": f'"{soap_action}"'}
    return http_body, headers

