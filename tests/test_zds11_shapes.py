"""Every ZDS 1.1 shape the broker accepts (the StUF-ZKN-namespace body elements of the operation table,
broker.zds.operations) has a test here: the message as a ZDS 1.1 client sends it, over HTTP to the
live broker, without a SOAPAction (the content decides) and with the ZDS 1.1 SOAPAction
``…/zkn/0310/<operation>_<berichtcode>``; it is processed as that operation and answered in the ZKN
namespace (or Bv02/Bv03). Among them voegBesluitToe as a bslLk01 (mutatiesoort T) and the
document Di02 messages in the StUF-ZKN namespace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from broker.stuf import ns
from broker.zds.operations import OPERATIONS
from tests.support import besluit_messages as bm
from tests.support import document_messages as dm
from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support import zgw_messages as zm
from tests.support.edge_live import Edge, running
from tests.support.soapcall import SoapAnswer, SoapCaller

LIJST_ZAAKDOCUMENTEN = (
    '<ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/>'
    '<ZKN:heeftRelevant StUF:entiteittype="ZAKEDC"><ZKN:gerelateerde StUF:entiteittype="EDC">'
    '<ZKN:identificatie xsi:nil="true"/><ZKN:titel xsi:nil="true"/></ZKN:gerelateerde>'
    '<ZKN:registratiedatum xsi:nil="true"/></ZKN:heeftRelevant></ZKN:object>'
)


def zkn(xml: str, element: str) -> str:
    """A ZDS 1.2 message of the test builders in its ZDS 1.1 shape: body element ``ZKN:<element>`` and
    every ZDS-namespace part in the StUF-ZKN namespace."""
    root = re.match(r"<ZDS:([A-Za-z_0-9]+)", xml)
    assert root is not None
    xml = xml.replace(f"<ZDS:{root.group(1)} ", f"<ZKN:{element} ", 1).replace(f"</ZDS:{root.group(1)}>",
                                                                               f"</ZKN:{element}>")
    return xml.replace("<ZDS:", "<ZKN:").replace("</ZDS:", "</ZKN:")


def voeg_besluit_toe_lk01(besluit: str) -> str:
    """voegBesluitToe as ZDS 1.1 sends it: a bslLk01 T (StUF-ZKN's besluit names no zaak)."""
    obj = ('<ZKN:object StUF:entiteittype="BSL" StUF:verwerkingssoort="T">'
           f"<ZKN:identificatie>{besluit}</ZKN:identificatie><ZKN:bst.omschrijving>Toekenning</ZKN:bst.omschrijving>"
           f"<ZKN:datumBeslissing>{m.today()}</ZKN:datumBeslissing>"
           "<ZKN:toelichting>Via ZDS 1.1</ZKN:toelichting>"
           f"<ZKN:ingangsdatumWerking>{m.today()}</ZKN:ingangsdatumWerking></ZKN:object>")
    return (f"<ZKN:bslLk01 {m.NSDECL}>{m.stuurgegevens('ZKN', 'Lk01', entiteittype='BSL')}"
            "<ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername>"
            f"</ZKN:parameters>{obj}</ZKN:bslLk01>")


class World:
    """Makes the zaken, documents, besluiten and checkouts a message needs, in the ZDS 1.2 shape."""

    def __init__(self, soap: SoapCaller) -> None:
        self.soap = soap

    def ok(self, port: str, xml: str, code: str) -> SoapAnswer:
        answer = self.soap.call(port, xml)
        assert answer.berichtcode == code, (answer.foutcode, answer.text("body/omschrijving"))
        return answer

    def zaak(self) -> str:
        ident = self.ok(e.SYNC_VRIJ, m.genereer_zaak_identificatie(), "Du02").text("zaak/identificatie") or ""
        self.ok(e.ASYNC, m.creeer_zaak(ident), "Bv03")
        return ident

    def document(self, zaak: str | None = None) -> str:
        ident = f"1234D{m.ref()}"
        self.ok(e.ASYNC, dm.voeg_zaakdocument_toe(ident, zaak or self.zaak()), "Bv03")
        return ident

    def besluit(self, zaak: str | None = None) -> str:
        ident = self.ok(e.SYNC_VRIJ, bm.genereer_besluit_identificatie(), "Du02").text("besluit/identificatie") or ""
        self.ok(e.ASYNC, bm.voeg_besluit_toe(ident, zaak or self.zaak()), "Bv03")
        return ident

    def checkout(self, document: str) -> str:
        answer = self.ok(e.SYNC_VRIJ, dm.geef_zaakdocument_bewerken(document), "Du02")
        return answer.text("parameters/checkedOutId") or ""

    def new_besluit_ident(self) -> str:
        return self.ok(e.SYNC_VRIJ, bm.genereer_besluit_identificatie(), "Du02").text("besluit/identificatie") or ""


#: (operation, ZDS 1.1 element) -> (port, the message, the answer's berichtcode)
Build = Callable[[World], str]
SHAPES: dict[tuple[str, str], tuple[str, Build, str]] = {
    ("genereerZaakIdentificatie", "genereerZaakIdentificatie_Di02"):
        (e.SYNC_VRIJ, lambda w: e.genereer_zaak_identificatie_zkn(), "Du02"),
    ("creeerZaak", "zakLk01"):
        (e.ASYNC, lambda w: m.creeer_zaak(f"1234{m.ref()}", element="ZKN:zakLk01"), "Bv03"),
    ("updateZaak", "zakLk01"):
        (e.ASYNC, lambda w: e.update_zaak(w.zaak(), "Via ZDS 1.1", element="ZKN:zakLk01"), "Bv03"),
    ("actualiseerZaakstatus", "zakLk01"):
        (e.ASYNC, lambda w: e.actualiseer_zaakstatus(w.zaak(), element="ZKN:zakLk01"), "Bv03"),
    ("geefZaakdetails", "zakLv01"):
        (e.VRAAG, lambda w: m.geef_zaakdetails(w.zaak(), element="ZKN:zakLv01"), "La01"),
    ("geefZaakstatus", "zakLv01"):
        (e.VRAAG, lambda w: zkn(zm.geef_zaakstatus(w.zaak()), "zakLv01"), "La01"),
    ("geefLijstZaakdocumenten", "zakLv01"):
        (e.VRAAG, lambda w: zkn(dm.geef_lijst_zaakdocumenten(w.zaak(), LIJST_ZAAKDOCUMENTEN), "zakLv01"), "La01"),
    ("geefLijstBesluiten", "zakLv01"):
        (e.VRAAG, lambda w: zkn(bm.geef_lijst_besluiten(w.zaak()), "zakLv01"), "La01"),
    ("voegZaakdocumentToe", "edcLk01"):
        (e.ASYNC, lambda w: zkn(dm.voeg_zaakdocument_toe(f"1234D{m.ref()}", w.zaak()), "edcLk01"), "Bv03"),
    ("maakZaakdocument", "edcLk01"):
        (e.ASYNC, lambda w: zkn(dm.maak_zaakdocument(f"1234D{m.ref()}", w.zaak()), "edcLk01"), "Bv03"),
    ("geefZaakdocumentLezen", "edcLv01"):
        (e.VRAAG, lambda w: zkn(dm.geef_zaakdocument_lezen(w.document()), "edcLv01"), "La01"),
    ("geefZaakdocumentbewerken", "geefZaakdocumentbewerken_Di02"):
        (e.SYNC_VRIJ, lambda w: zkn(dm.geef_zaakdocument_bewerken(w.document(), scope=None),
                                    "geefZaakdocumentbewerken_Di02"), "Du02"),
    ("updateZaakdocument", "updateZaakdocument_Di02"):
        (e.SYNC_VRIJ, lambda w: _update_zaakdocument(w), "Bv02"),
    ("cancelCheckout", "cancelCheckout_Di02"):
        (e.SYNC_VRIJ, lambda w: _cancel_checkout(w), "Bv02"),
    ("genereerDocumentIdentificatie", "genereerDocumentIdentificatie_Di02"):
        (e.SYNC_VRIJ, lambda w: zkn(_genereer_document_identificatie(), "genereerDocumentIdentificatie_Di02"), "Du02"),
    ("voegBesluitToe", "bslLk01"):
        (e.ASYNC, lambda w: voeg_besluit_toe_lk01(w.new_besluit_ident()), "Bv03"),
    ("updateBesluit", "bslLk01"):
        (e.ASYNC, lambda w: zkn(bm.update_besluit(w.besluit(), "<ZKN:toelichting>Schuldregeling toegekend</ZKN:toelichting>",
                                                  "<ZKN:toelichting>Via ZDS 1.1</ZKN:toelichting>"), "bslLk01"), "Bv03"),
    ("geefBesluitdetails", "bslLv01"):
        (e.VRAAG, lambda w: zkn(bm.geef_besluitdetails(w.besluit()), "bslLv01"), "La01"),
}


def _update_zaakdocument(w: World) -> str:
    document = w.document()
    return zkn(dm.update_zaakdocument(document, w.checkout(document), oud_titel="Ontvangstbevestiging",
                                      nieuw_titel="Via ZDS 1.1"), "updateZaakdocument_Di02")


def _cancel_checkout(w: World) -> str:
    document = w.document()
    return zkn(dm.cancel_checkout(document, w.checkout(document)), "cancelCheckout_Di02")


def _genereer_document_identificatie() -> str:
    return (f"<ZDS:genereerDocumentIdentificatie_Di02 {m.NSDECL}>"
            f"{m.stuurgegevens('ZDS', 'Di02', functie='genereerDocumentidentificatie')}"
            "</ZDS:genereerDocumentIdentificatie_Di02>")


def test_every_zds11_shape_of_the_operation_table_has_a_case_here() -> None:
    accepted = {(op.name, el) for op in OPERATIONS if op.supported for el in op.zkn_elements}
    assert accepted == set(SHAPES)


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas) -> Iterator[Edge]:
    with running(tmp_path_factory.mktemp("zds11"), schemas) as edge:
        yield edge


@pytest.mark.parametrize("with_action", [False, True], ids=["by-content", "zds11-soapaction"])
@pytest.mark.parametrize(("operation", "element"), sorted(SHAPES))
def test_a_zds11_shape_is_processed_as_its_operation(edge: Edge, schemas, operation: str, element: str,
                                                     with_action: bool) -> None:
    port, build, answer_code = SHAPES[(operation, element)]
    body = build(World(edge.soap))
    problems = schemas.issues(e.parse(body))
    assert not problems, f"the test built an invalid message: {problems[:3]}"
    berichtcode = re.search(r"<StUF:berichtcode>(\w+)</StUF:berichtcode>", body).group(1)  # type: ignore[union-attr]
    action = f"{e.ZKN_ACTION}{operation}_{berichtcode}" if with_action else None
    answer = edge.soap.call(port, body, soap_action=action)
    assert answer.berichtcode == answer_code, (answer.foutcode, answer.text("body/omschrijving"),
                                               answer.text("body/details"))
    row = e.last_row(edge.broker)
    assert (row.operation, row.dialect, row.outcome) == (operation, "zkn", "ok")
    if answer_code in ("La01", "Du02"):
        assert ns.namespace(answer.payload.tag) == ns.ZKN
    assert schemas.issues(answer.payload) == []


def test_voeg_besluit_toe_as_bsllk01_and_the_zaak_relating_it_with_update_zaak(edge: Edge, schemas) -> None:
    """The besluit of a bslLk01 has no zaak until an updateZaak (leidtTot T) relates it; then both
    geefBesluitdetails and geefLijstBesluiten show the relation, once."""
    w = World(edge.soap)
    zaak, besluit = w.zaak(), w.new_besluit_ident()
    w.ok(e.ASYNC, voeg_besluit_toe_lk01(besluit), "Bv03")
    details = w.ok(e.VRAAG, bm.geef_besluitdetails(besluit), "La01")
    assert details.text("antwoord/object/toelichting") == "Via ZDS 1.1"
    assert details.text("antwoord/object/isUitkomstVan/gerelateerde/identificatie") is None
    ident = f"<ZKN:identificatie>{zaak}</ZKN:identificatie>"
    relatie = ('<ZKN:leidtTot StUF:entiteittype="ZAKBSL" StUF:verwerkingssoort="T">'
               '<ZKN:gerelateerde StUF:entiteittype="BSL" StUF:verwerkingssoort="I">'
               f"<ZKN:identificatie>{besluit}</ZKN:identificatie></ZKN:gerelateerde></ZKN:leidtTot>")
    placeholder = '<ZKN:leidtTot StUF:entiteittype="ZAKBSL" StUF:verwerkingssoort="T" xsi:nil="true"/>'
    update = zm._w("ZKN:zakLk01", ident + placeholder, ident + relatie)
    assert not schemas.issues(e.parse(update))
    w.ok(e.ASYNC, update, "Bv03")
    details = w.ok(e.VRAAG, bm.geef_besluitdetails(besluit), "La01")
    assert details.text("antwoord/object/isUitkomstVan/gerelateerde/identificatie") == zaak
    lijst = w.ok(e.VRAAG, bm.geef_lijst_besluiten(zaak), "La01")
    besluiten = lijst.payload.findall(f".//{{{ns.ZKN}}}leidtTot/{{{ns.ZKN}}}gerelateerde/{{{ns.ZKN}}}identificatie")
    assert [b.text for b in besluiten] == [besluit]
    again = edge.soap.call(e.ASYNC, voeg_besluit_toe_lk01(besluit))
    assert (again.foutcode, again.text("body/plek")) == ("StUF058", "client")  # the besluit exists
