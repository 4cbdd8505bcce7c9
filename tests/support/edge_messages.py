"""Messages and envelopes for the SOAP-edge tests: ZDS 1.1 (ZKN namespace) shapes, W-kennisgevingen,
unusual prefixes, and reading the broker's message log.

The builders of :mod:`tests.support.messages` write ZDS 1.2 messages; :func:`zkn_dialect` turns one into
the ZDS 1.1 shape a field client sends (same content, body element in the StUF-ZKN namespace).
Tests validate what they build with the ``schemas`` fixture before sending it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from sqlalchemy import func, select

from broker.adapters.embedded.tables import ZsStatus, ZsZaak
from broker.store.tables import Message, MessagePayload
from broker.stuf import ns
from tests.support import messages as m
from tests.support.live import LiveBroker

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ZKN_ACTION = "http://www.egem.nl/StUF/sector/zkn/0310/"

#: ports
SYNC_VRIJ = "VerwerkSynchroonVrijBericht"
ASYNC = "OntvangAsynchroon"
VRAAG = "BeantwoordVraag"

#: the catalogus of config/zaaktypecatalogus.yaml the live broker uses
ZAAKTYPE = ("SHV", "Schuldhulpverlening")
STATUS_2 = ("SHV-2", "Intake afgerond", "2")


# -- messages ---------------------------------------------------------------------------------
def zkn_dialect(zds_message: str, element: str) -> str:
    """The same message as a ZDS 1.1 client sends it: body element ``ZKN:<element>``."""
    root = re.match(r"<(ZDS:[A-Za-z_0-9]+)", zds_message)
    assert root is not None, "not a ZDS 1.2 message of tests.support.messages"
    out = zds_message.replace(f"<{root.group(1)} ", f"<ZKN:{element} ", 1)
    out = out.replace(f"</{root.group(1)}>", f"</ZKN:{element}>")
    return out.replace("<ZDS:stuurgegevens>", "<ZKN:stuurgegevens>").replace("</ZDS:stuurgegevens>", "</ZKN:stuurgegevens>")


def genereer_zaak_identificatie_zkn(**sg: object) -> str:
    return zkn_dialect(m.genereer_zaak_identificatie(**sg), "genereerZaakIdentificatie_Di02")


def _lk01_w(element: str, oud: str, nieuw: str, **sg: object) -> str:
    return (f"<{element} {m.NSDECL}>{m.stuurgegevens('ZKN', 'Lk01', entiteittype='ZAK', **sg)}"
            "<ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort>"
            "<StUF:indicatorOvername>V</StUF:indicatorOvername></ZKN:parameters>"
            f'<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="W">{oud}</ZKN:object>'
            f'<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="W">{nieuw}</ZKN:object>'
            f"</{element}>")


def update_zaak(identificatie: str, toelichting: str = "Nieuwe toelichting", *,
                element: str = "ZDS:updateZaak_ZakLk01", **sg: object) -> str:
    """updateZaak: the toelichting goes from no value to ``toelichting``."""
    ident = f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
    oud = f'{ident}<ZKN:toelichting xsi:nil="true" StUF:noValue="geenWaarde"/>'
    nieuw = f"{ident}<ZKN:toelichting>{toelichting}</ZKN:toelichting>"
    return _lk01_w(element, oud, nieuw, **sg)


def actualiseer_zaakstatus(identificatie: str, status: tuple[str, str, str] = STATUS_2, *,
                           zaaktype: tuple[str, str] = ZAAKTYPE,
                           element: str = "ZDS:actualiseerZaakstatus_ZakLk01", **sg: object) -> str:
    """actualiseerZaakstatus: a new ``heeft`` (status code, omschrijving, volgnummer) on the zaak."""
    code, omschrijving, volgnummer = status
    ident = f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
    oud = f'{ident}<ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T" xsi:nil="true"/>'
    nieuw = (f'{ident}<ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T">'
             '<ZKN:gerelateerde StUF:entiteittype="STT" StUF:verwerkingssoort="I">'
             f"<ZKN:zkt.code>{zaaktype[0]}</ZKN:zkt.code><ZKN:zkt.omschrijving>{zaaktype[1]}</ZKN:zkt.omschrijving>"
             f"<ZKN:volgnummer>{volgnummer}</ZKN:volgnummer><ZKN:code>{code}</ZKN:code>"
             f"<ZKN:omschrijving>{omschrijving}</ZKN:omschrijving></ZKN:gerelateerde>"
             f"<ZKN:datumStatusGezet>{m.tijdstip()}</ZKN:datumStatusGezet>"
             '<ZKN:isGezetDoor StUF:entiteittype="ZAKSTTBTR" StUF:verwerkingssoort="T"><ZKN:gerelateerde>'
             '<ZKN:organisatorischeEenheid StUF:entiteittype="OEH" StUF:verwerkingssoort="I">'
             "<ZKN:identificatie>1234OE01</ZKN:identificatie></ZKN:organisatorischeEenheid>"
             "</ZKN:gerelateerde></ZKN:isGezetDoor></ZKN:heeft>")
    return _lk01_w(element, oud, nieuw, **sg)


def with_stuurgegeven(xml: str, name: str, value: str | None) -> str:
    """Replace the value of one stuurgegeven (``StUF:<name>``), or drop it when ``value`` is None."""
    pattern = re.compile(rf"<StUF:{name}>(?:(?!</StUF:{name}>).)*</StUF:{name}>", re.DOTALL)
    assert pattern.search(xml), f"the message has no StUF:{name}"
    replacement = "" if value is None else f"<StUF:{name}>{value}</StUF:{name}>"
    return pattern.sub(replacement, xml, count=1)


def overdragen_zaak(identificatie: str, **sg: object) -> str:
    """overdragenZaak_Di01 (ZDS 1.2 §4.2.1), optional for a zaaksysteem."""
    return (f"<ZDS:overdragenZaak_Di01 {m.NSDECL}>{m.stuurgegevens('ZKN', 'Di01', functie='overdragenZaak', **sg)}"
            '<ZKN:object StUF:entiteittype="ZAK" StUF:functie="entiteit">'
            f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"
            '<ZKN:isVan StUF:entiteittype="ZAKZKT"><ZKN:gerelateerde StUF:entiteittype="ZKT">'
            f"<ZKN:omschrijving>{ZAAKTYPE[1]}</ZKN:omschrijving><ZKN:code>{ZAAKTYPE[0]}</ZKN:code>"
            "</ZKN:gerelateerde></ZKN:isVan></ZKN:object></ZDS:overdragenZaak_Di01>")


def rename_prefixes(xml: str, renames: dict[str, str]) -> str:
    """Rewrite namespace prefixes (``{"ZKN": "z"}``); an empty new prefix makes it the default namespace."""
    for old, new in renames.items():
        xml = xml.replace(f"xmlns:{old}=", f"xmlns:{new}=" if new else "xmlns=")
        xml = re.sub(rf"(?<=[<\s/]){old}:", f"{new}:" if new else "", xml)
    return xml


def envelope(body: str, version: str = "1.1", prefix: str | None = "soapenv", header: bool = True) -> bytes:
    """A SOAP envelope with the given prefix (None: SOAP namespace as the default namespace)."""
    uri = SOAP12 if version == "1.2" else SOAP11
    p = f"{prefix}:" if prefix else ""
    decl = f'xmlns:{prefix}="{uri}"' if prefix else f'xmlns="{uri}"'
    head = f"<{p}Header/>" if header else ""
    return f"<{p}Envelope {decl}>{head}<{p}Body>{body}</{p}Body></{p}Envelope>".encode()


def parse(xml: str | bytes) -> etree._Element:
    return etree.fromstring(xml.encode() if isinstance(xml, str) else xml)


# -- the fault inside an answer --------------------------------------------------------------
@dataclass
class Fault:
    faultcode: str
    faultstring: str
    fo: etree._Element

    def fo_text(self, path: str) -> str | None:
        el = self.fo
        for part in path.split("/"):
            el = next((c for c in el if isinstance(c.tag, str) and ns.local(c.tag) == part), None)
            if el is None:
                return None
        return (el.text or "").strip()


def soap11_fault(content: bytes) -> Fault:
    env = etree.fromstring(content)
    assert env.tag == ns.q(SOAP11, "Envelope"), env.tag
    fault = env.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    assert fault is not None, "no SOAP 1.1 Fault in the answer"
    names = [c.tag for c in fault]
    assert names == ["faultcode", "faultstring", "detail"], f"Fault children {names} (no faultactor, unqualified)"
    detail = [c for c in fault.find("detail") if isinstance(c.tag, str)]
    assert len(detail) == 1, "the detail holds exactly the Fo-bericht"
    return Fault(fault.findtext("faultcode"), fault.findtext("faultstring"), detail[0])


# -- the message log and the zaaksysteem ------------------------------------------------------
def _detached(session, rows: list) -> list:
    """Rows that keep their loaded values after the read transaction ends (it rolls back)."""
    session.expunge_all()
    return rows


def log_rows(lb: LiveBroker) -> list[Message]:
    with lb.broker.db.read() as session:
        return _detached(session, list(session.execute(select(Message).order_by(Message.id)).scalars()))


def log_row(lb: LiveBroker, message_id: int) -> Message:
    with lb.broker.db.read() as session:
        row = session.get(Message, message_id)
        assert row is not None
        return _detached(session, [row])[0]


def log_payload(lb: LiveBroker, message_id: int) -> MessagePayload | None:
    with lb.broker.db.read() as session:
        return _detached(session, [session.get(MessagePayload, message_id)])[0]


def rows_for(lb: LiveBroker, referentienummer: str) -> list[Message]:
    """The log rows of the requests that carried ``referentienummer``."""
    return [r for r in log_rows(lb) if r.referentienummer == referentienummer]


def last_row(lb: LiveBroker) -> Message:
    rows = log_rows(lb)
    assert rows, "the message log is empty"
    return rows[-1]


def zaak_count(lb: LiveBroker, identificatie: str | None = None) -> int:
    stmt = select(func.count()).select_from(ZsZaak)
    if identificatie is not None:
        stmt = stmt.where(ZsZaak.identificatie == identificatie)
    with lb.broker.db.read() as session:
        return session.execute(stmt).scalar_one()


def status_count(lb: LiveBroker) -> int:
    with lb.broker.db.read() as session:
        return session.execute(select(func.count()).select_from(ZsStatus)).scalar_one()


def zaak_toelichting(lb: LiveBroker, identificatie: str) -> str | None:
    with lb.broker.db.read() as session:
        row = session.execute(select(ZsZaak).where(ZsZaak.identificatie == identificatie)).scalar_one()
        el = etree.fromstring(row.stuf_xml.encode())
    found = [c for c in el if isinstance(c.tag, str) and ns.local(c.tag) == "toelichting"]
    return (found[0].text or "").strip() if found else None
