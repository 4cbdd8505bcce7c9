"""The SOAP edge accepts ZDS 1.2 and ZDS 1.1 (StUF-ZKN namespace) bodies, SOAP 1.1 and 1.2, any prefixes
and every way of sending a SOAPAction; a SOAPAction that contradicts the body is refused with StUF040.
"""

from __future__ import annotations

import pytest

from broker.stuf import ns
from tests.support import document_messages as d
from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support.edge_live import Edge, running

ZDS_ACTION = m.ZDS_ACTION
ZKN_ACTION = e.ZKN_ACTION


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas):
    with running(tmp_path_factory.mktemp("dialects"), schemas) as edge:
        yield edge


def _valid(schemas, xml: str) -> str:
    problems = schemas.issues(e.parse(xml))
    assert not problems, f"the test built an invalid message: {problems[:3]}"
    return xml


def _new_zaak(edge: Edge, schemas) -> str:
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    assert edge.soap.call(e.ASYNC, _valid(schemas, m.creeer_zaak(ident))).berichtcode == "Bv03"
    return ident


# -- ZDS 1.2 versus ZDS 1.1 shapes --------------------------------------------------------------
@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize(
    ("dialect", "answer_ns"), [("zds", ns.ZDS), ("zkn", ns.ZKN)],
)
def test_genereer_zaak_identificatie_answers_in_the_dialect_and_soap_version_of_the_request(
    edge: Edge, schemas, dialect: str, answer_ns: str, version: str,
) -> None:
    """A Di02 in either namespace gets a Du02 in that namespace, wrapped in the request's SOAP version."""
    body = m.genereer_zaak_identificatie() if dialect == "zds" else e.genereer_zaak_identificatie_zkn()
    answer = edge.soap.call(e.SYNC_VRIJ, _valid(schemas, body), version=version)
    assert answer.status == 200
    assert answer.payload.tag == ns.q(answer_ns, "genereerZaakIdentificatie_Du02")
    assert answer.text("zaak/identificatie").startswith("1234")
    envelope = e.parse(answer.content)
    if version == "1.2":
        assert envelope.tag == ns.q(ns.SOAP12, "Envelope")
        assert answer.content_type.startswith("application/soap+xml")
    else:
        assert envelope.tag == ns.q(ns.SOAP11, "Envelope")
        assert answer.content_type.startswith("text/xml")
    row = e.last_row(edge.broker)
    assert (row.operation, row.dialect, row.soap_version) == ("genereerZaakIdentificatie", dialect, version)


def test_zkn_zaklk01_with_mutatiesoort_t_creates_a_zaak_that_zaklv01_returns_in_the_zkn_namespace(
    edge: Edge, schemas,
) -> None:
    """zakLk01 (T) without SOAPAction is creeerZaak; zakLv01 asking for everything is geefZaakdetails."""
    ident = edge.soap.call(e.SYNC_VRIJ, e.genereer_zaak_identificatie_zkn()).text("zaak/identificatie")
    bv03 = edge.soap.call(e.ASYNC, _valid(schemas, m.creeer_zaak(ident, element="ZKN:zakLk01")))
    assert bv03.payload.tag == ns.q(ns.STUF, "Bv03Bericht")
    row = e.last_row(edge.broker)
    assert (row.operation, row.dialect, row.zaak_identificatie) == ("creeerZaak", "zkn", ident)
    assert e.zaak_count(edge.broker, ident) == 1

    la01 = edge.soap.call(e.VRAAG, _valid(schemas, m.geef_zaakdetails(ident, element="ZKN:zakLv01")))
    assert la01.payload.tag == ns.q(ns.ZKN, "zakLa01")
    assert la01.payload.find(f"{{{ns.ZKN}}}stuurgegevens") is not None
    assert la01.text("antwoord/object/identificatie") == ident
    assert (e.last_row(edge.broker).operation, e.last_row(edge.broker).dialect) == ("geefZaakdetails", "zkn")


@pytest.mark.parametrize(
    "soap_action",
    [ZKN_ACTION + "geefZaakdetails_Lv01", ZKN_ACTION + "zakLv01", ZDS_ACTION + "geefZaakdetails_ZakLv01", None],
)
def test_zkn_zaklv01_is_geef_zaakdetails_with_every_soapaction_form(
    edge: Edge, schemas, soap_action: str | None,
) -> None:
    """zakLv01 is answered as geefZaakdetails whether the SOAPAction names it, names the element, or is absent."""
    ident = _new_zaak(edge, schemas)
    la01 = edge.soap.call(e.VRAAG, m.geef_zaakdetails(ident, element="ZKN:zakLv01"), soap_action=soap_action)
    assert la01.payload.tag == ns.q(ns.ZKN, "zakLa01")
    assert la01.text("antwoord/object/identificatie") == ident
    assert e.last_row(edge.broker).operation == "geefZaakdetails"


@pytest.mark.parametrize("soap_action", [ZKN_ACTION + "updateZaak_Lk01", ZDS_ACTION + "updateZaak_ZakLk01", None])
def test_zkn_zaklk01_with_mutatiesoort_w_is_update_zaak_by_soapaction_or_by_content(
    edge: Edge, schemas, soap_action: str | None,
) -> None:
    """zakLk01 (W) changing the toelichting is updateZaak, named by the SOAPAction or recognised without one."""
    ident = _new_zaak(edge, schemas)
    body = _valid(schemas, e.update_zaak(ident, "Via ZDS 1.1", element="ZKN:zakLk01"))
    bv03 = edge.soap.call(e.ASYNC, body, soap_action=soap_action)
    assert bv03.berichtcode == "Bv03", bv03.content
    assert e.last_row(edge.broker).operation == "updateZaak"
    assert e.zaak_toelichting(edge.broker, ident) == "Via ZDS 1.1"


@pytest.mark.parametrize(
    "soap_action", [ZKN_ACTION + "actualiseerZaakstatus_Lk01", ZDS_ACTION + "actualiseerZaakstatus_ZakLk01", None],
)
def test_zkn_zaklk01_adding_a_status_is_actualiseer_zaakstatus_by_soapaction_or_by_content(
    edge: Edge, schemas, soap_action: str | None,
) -> None:
    """zakLk01 (W) whose new object only adds a status is actualiseerZaakstatus, with or without SOAPAction."""
    ident = _new_zaak(edge, schemas)
    before = e.status_count(edge.broker)
    body = _valid(schemas, e.actualiseer_zaakstatus(ident, element="ZKN:zakLk01"))
    bv03 = edge.soap.call(e.ASYNC, body, soap_action=soap_action)
    assert bv03.berichtcode == "Bv03", bv03.content
    assert e.last_row(edge.broker).operation == "actualiseerZaakstatus"
    assert e.status_count(edge.broker) == before + 1


def test_zkn_zaklk01_w_named_update_zaak_by_soapaction_is_not_taken_for_actualiseer_zaakstatus(
    edge: Edge, schemas,
) -> None:
    """The SOAPAction wins over the content: a status-shaped zakLk01 sent as updateZaak is processed as
    updateZaak, which adds the status as real clients expect (tests/test_update_zaak_relations.py)."""
    ident = _new_zaak(edge, schemas)
    before = e.status_count(edge.broker)
    body = _valid(schemas, e.actualiseer_zaakstatus(ident, element="ZKN:zakLk01"))
    assert edge.soap.call(e.ASYNC, body, soap_action=ZKN_ACTION + "updateZaak_Lk01").berichtcode == "Bv03"
    assert e.last_row(edge.broker).operation == "updateZaak"
    assert e.status_count(edge.broker) == before + 1


@pytest.mark.parametrize(
    ("with_inhoud", "operation", "soap_action"),
    [
        (True, "voegZaakdocumentToe", None),
        (False, "maakZaakdocument", None),
        (True, "voegZaakdocumentToe", ZKN_ACTION + "voegZaakdocumentToe_Lk01"),
        (False, "maakZaakdocument", ZKN_ACTION + "maakZaakdocument_Lk01"),
    ],
)
def test_zkn_edclk01_is_voeg_zaakdocument_toe_with_content_and_maak_zaakdocument_without(
    edge: Edge, schemas, with_inhoud: bool, operation: str, soap_action: str | None,
) -> None:
    """edcLk01 carrying inhoud is voegZaakdocumentToe, without inhoud maakZaakdocument, by content or SOAPAction."""
    zaak = _new_zaak(edge, schemas)
    document = f"1234D{m.ref()}"
    zds = d.voeg_zaakdocument_toe(document, zaak) if with_inhoud else d.maak_zaakdocument(document, zaak)
    answer = edge.soap.call(e.ASYNC, _valid(schemas, e.zkn_dialect(zds, "edcLk01")), soap_action=soap_action)
    assert answer.berichtcode == "Bv03", answer.content
    row = e.last_row(edge.broker)
    assert (row.operation, row.dialect) == (operation, "zkn")


def test_zds12_update_and_actualiseer_bodies_name_their_operation(edge: Edge, schemas) -> None:
    """ZDS 1.2 updateZaak_ZakLk01 and actualiseerZaakstatus_ZakLk01 are processed without a SOAPAction."""
    ident = _new_zaak(edge, schemas)
    assert edge.soap.call(e.ASYNC, _valid(schemas, e.update_zaak(ident, "Via ZDS 1.2"))).berichtcode == "Bv03"
    assert e.last_row(edge.broker).operation == "updateZaak"
    assert e.zaak_toelichting(edge.broker, ident) == "Via ZDS 1.2"
    assert edge.soap.call(e.ASYNC, _valid(schemas, e.actualiseer_zaakstatus(ident))).berichtcode == "Bv03"
    assert e.last_row(edge.broker).operation == "actualiseerZaakstatus"


# -- SOAPAction in every form -------------------------------------------------------------------
_GZI = "genereerZaakIdentificatie_Di02"


@pytest.mark.parametrize(
    ("content_type", "headers"),
    [
        ("text/xml; charset=utf-8", {"SOAPAction": f'"{ZDS_ACTION}{_GZI}"'}),
        ("text/xml; charset=utf-8", {"SOAPAction": f"{ZDS_ACTION}{_GZI}"}),
        ("text/xml; charset=utf-8", {"SOAPAction": f"'{ZDS_ACTION}{_GZI}'"}),
        ("text/xml; charset=utf-8", {"SOAPAction": '""'}),
        ("text/xml; charset=utf-8", {}),
        ("text/xml", {"SOAPAction": f"{ZKN_ACTION}{_GZI}"}),
        ("TEXT/XML; Charset=UTF-8", {"soapaction": f'"{ZDS_ACTION}{_GZI}"'}),
    ],
    ids=["quoted", "unquoted", "single-quoted", "empty", "absent", "zds11-style", "header-case"],
)
def test_soap11_soapaction_quoted_unquoted_empty_or_absent_is_accepted(
    edge: Edge, content_type: str, headers: dict[str, str],
) -> None:
    """A SOAP 1.1 request is served whatever form its SOAPAction header takes, or without one."""
    response = edge.soap.post_raw(e.SYNC_VRIJ, e.envelope(m.genereer_zaak_identificatie()),
                                  {"Content-Type": content_type, **headers})
    answer = edge.soap.check(response)
    assert answer.status == 200, answer.content
    assert answer.berichtcode == "Du02"


@pytest.mark.parametrize(
    "content_type",
    [
        f'application/soap+xml; charset=utf-8; action="{ZDS_ACTION}{_GZI}"',
        f"application/soap+xml;action={ZDS_ACTION}{_GZI};charset=utf-8",
        "application/soap+xml; charset=utf-8",
    ],
    ids=["quoted-action", "unquoted-action", "no-action"],
)
def test_soap12_action_parameter_of_the_content_type_is_accepted(edge: Edge, content_type: str) -> None:
    """A SOAP 1.2 request carries its action in the content type (quoted, unquoted or not at all)."""
    response = edge.soap.post_raw(e.SYNC_VRIJ, e.envelope(m.genereer_zaak_identificatie(), "1.2", "env"),
                                  {"Content-Type": content_type})
    answer = edge.soap.check(response)
    assert answer.status == 200, answer.content
    assert answer.content_type.startswith("application/soap+xml")
    assert e.parse(answer.content).tag == ns.q(ns.SOAP12, "Envelope")
    assert e.last_row(edge.broker).soap_action == (f"{ZDS_ACTION}{_GZI}" if "action" in content_type else None)


def test_zds11_style_soapaction_on_zkn_creeer_zaak_is_accepted(edge: Edge, schemas) -> None:
    """``…/zkn/0310/creeerZaak_Lk01`` (what ZDS 1.1 clients send) names creeerZaak for a zakLk01."""
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    body = _valid(schemas, m.creeer_zaak(ident, element="ZKN:zakLk01"))
    assert edge.soap.call(e.ASYNC, body, soap_action=ZKN_ACTION + "creeerZaak_Lk01").berichtcode == "Bv03"
    row = e.last_row(edge.broker)
    assert (row.operation, row.soap_action) == ("creeerZaak", ZKN_ACTION + "creeerZaak_Lk01")
    assert e.zaak_count(edge.broker, ident) == 1


# -- prefixes -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("version", "env_prefix", "renames"),
    [
        ("1.1", "s", {"ZDS": "s", "StUF": "a", "ZKN": "z"}),
        ("1.1", None, {"ZKN": "", "StUF": "a", "ZDS": "zds"}),
        ("1.2", "soap12", {"ZKN": "b", "StUF": "stuf", "ZDS": "ns1"}),
        ("1.2", None, {"ZDS": "", "StUF": "x"}),
    ],
    ids=["s-and-a", "default-envelope-default-zkn", "soap12-prefix", "default-envelope-default-zds"],
)
def test_unusual_prefixes_and_default_namespaces_are_read_by_namespace(
    edge: Edge, schemas, version: str, env_prefix: str | None, renames: dict[str, str],
) -> None:
    """The broker resolves namespaces, not prefixes: a creeerZaak with unusual prefixes is processed."""
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    body = e.rename_prefixes(m.creeer_zaak(ident), renames)
    if renames.get("ZDS") == "":
        # the ZDS namespace as default: the ZDS-namespace children need no prefix either
        body = body.replace("<ZDS:", "<").replace("</ZDS:", "</")
    _valid(schemas, body)
    ctype = "text/xml; charset=utf-8" if version == "1.1" else "application/soap+xml; charset=utf-8"
    response = edge.soap.post_raw(e.ASYNC, e.envelope(body, version, env_prefix), {"Content-Type": ctype})
    answer = edge.soap.check(response)
    assert answer.berichtcode == "Bv03", answer.content
    assert e.zaak_count(edge.broker, ident) == 1


def test_one_namespace_under_two_prefixes_in_one_message_is_accepted(edge: Edge, schemas) -> None:
    """A message that declares the ZKN namespace under two prefixes (a known STP crash) is processed."""
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    body = m.creeer_zaak(ident).replace(
        '<ZKN:object StUF:entiteittype="ZAK"',
        f'<zkn2:object xmlns:zkn2="{m.ZKN}" StUF:entiteittype="ZAK"', 1,
    ).replace("</ZKN:object>", "</zkn2:object>")
    _valid(schemas, body)
    assert edge.soap.call(e.ASYNC, body).berichtcode == "Bv03"
    assert e.zaak_count(edge.broker, ident) == 1


# -- a SOAPAction that contradicts the body -----------------------------------------------------
@pytest.mark.parametrize(
    ("port", "body", "soap_action", "kind"),
    [
        (e.SYNC_VRIJ, "gzi", ZDS_ACTION + "geefZaakdetails_ZakLv01", "Fo02"),
        (e.SYNC_VRIJ, "gzi-zkn", ZKN_ACTION + "genereerDocumentIdentificatie_Di02", "Fo02"),
        (e.ASYNC, "creeer", ZDS_ACTION + "updateZaak_ZakLk01", "Fo03"),
        (e.ASYNC, "creeer-zkn", ZKN_ACTION + "geefZaakdetails_Lv01", "Fo03"),
        (e.VRAAG, "lv01-zkn", ZKN_ACTION + "creeerZaak_Lk01", "Fo02"),
    ],
)
def test_soapaction_contradicting_the_body_is_refused_with_stuf040(
    edge: Edge, schemas, port: str, body: str, soap_action: str, kind: str,
) -> None:
    """A SOAPAction naming another operation than the body gets StUF040 (Fo02 or Fo03) and nothing is processed."""
    ident = f"1234{m.ref()}"
    xml = {
        "gzi": m.genereer_zaak_identificatie(),
        "gzi-zkn": e.genereer_zaak_identificatie_zkn(),
        "creeer": m.creeer_zaak(ident),
        "creeer-zkn": m.creeer_zaak(ident, element="ZKN:zakLk01"),
        "lv01-zkn": m.geef_zaakdetails(ident, element="ZKN:zakLv01"),
    }[body]
    answer = edge.soap.call(port, _valid(schemas, xml), soap_action=soap_action)
    assert answer.status == 500
    assert answer.is_fault
    assert answer.payload.tag == ns.q(ns.STUF, f"{kind}Bericht")
    assert answer.foutcode == "StUF040"
    assert soap_action in answer.text("body/omschrijving")
    assert e.zaak_count(edge.broker, ident) == 0
    row = e.last_row(edge.broker)
    assert (row.outcome, row.foutcode) == ("fault", "StUF040")
    assert row.zender_applicatie == "STP"  # the builders' zender KING/STP, ontvanger ORG/TTA
    if kind == "Fo03":
        assert answer.text("stuurgegevens/crossRefnummer") == row.referentienummer
        assert answer.text("stuurgegevens/ontvanger/applicatie") == "STP"
        assert answer.text("stuurgegevens/zender/applicatie") == "TTA"


def test_soap12_contradicting_action_gets_a_soap12_fault(edge: Edge, schemas) -> None:
    """The action parameter of a SOAP 1.2 request is checked too; the fault is a SOAP 1.2 Fault (Receiver)."""
    answer = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie(), version="1.2",
                            soap_action=ZDS_ACTION + "cancelCheckout_Di02")
    assert answer.foutcode == "StUF040"
    assert answer.content_type.startswith("application/soap+xml")
    fault = answer.fault
    assert fault.tag == ns.q(ns.SOAP12, "Fault")
    value = fault.find(f"{{{ns.SOAP12}}}Code/{{{ns.SOAP12}}}Value")
    assert value.text.endswith(":Receiver")
    reason = fault.find(f"{{{ns.SOAP12}}}Reason/{{{ns.SOAP12}}}Text")
    assert reason.text == answer.text("body/omschrijving")
