"""Every La01 is schema-valid whatever scope style the vraag uses: a named scope (``StUF:scope``), or
a list of the wanted elements marked ``xsi:nil="true"`` with ``StUF:noValue``, with bare ``xsi:nil``
(what a ZDS 1.1 client sent, including ``heeftRelevant/gerelateerde``), or relations listed without
children. For each La01-producing operation, in the ZDS 1.2 and the ZDS 1.1 shape, for an object with
and without related documents and besluiten. The suite's broker turns an invalid answer into StUF058
(tests/support/live.py); the answers are validated here again and checked for nilled elements with
content.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from lxml import etree

from tests.support import besluit_messages as bm
from tests.support import document_messages as dm
from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support import zgw_messages as zm
from tests.support.edge_live import Edge, running

NIL = f"{{{m.XSI}}}nil"

ZAAKDETAILS = (
    '<ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/><ZKN:omschrijving xsi:nil="true"/>'
    '<ZKN:toelichting xsi:nil="true"/><ZKN:startdatum xsi:nil="true"/><ZKN:einddatum xsi:nil="true"/>'
    '<ZKN:isVan StUF:entiteittype="ZAKZKT"><ZKN:gerelateerde StUF:entiteittype="ZKT">'
    '<ZKN:omschrijving xsi:nil="true"/><ZKN:code xsi:nil="true"/></ZKN:gerelateerde></ZKN:isVan>'
    '<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI"><ZKN:gerelateerde/></ZKN:heeftAlsInitiator>'
    '<ZKN:heeft StUF:entiteittype="ZAKSTT"><ZKN:gerelateerde StUF:entiteittype="STT">'
    '<ZKN:code xsi:nil="true"/><ZKN:omschrijving xsi:nil="true"/></ZKN:gerelateerde>'
    '<ZKN:datumStatusGezet xsi:nil="true"/></ZKN:heeft>'
    '<ZKN:heeftRelevant StUF:entiteittype="ZAKEDC"><ZKN:gerelateerde StUF:entiteittype="EDC">'
    '<ZKN:identificatie xsi:nil="true"/><ZKN:titel xsi:nil="true"/></ZKN:gerelateerde></ZKN:heeftRelevant>'
    '<ZKN:leidtTot StUF:entiteittype="ZAKBSL"><ZKN:gerelateerde StUF:entiteittype="BSL">'
    '<ZKN:identificatie xsi:nil="true"/></ZKN:gerelateerde></ZKN:leidtTot></ZKN:object>'
)
LIJST_ZAAKDOCUMENTEN = (
    '<ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/>'
    '<ZKN:heeftRelevant StUF:entiteittype="ZAKEDC"><ZKN:gerelateerde StUF:entiteittype="EDC">'
    '<ZKN:identificatie xsi:nil="true"/><ZKN:dct.omschrijving xsi:nil="true"/>'
    '<ZKN:creatiedatum xsi:nil="true"/><ZKN:titel xsi:nil="true"/><ZKN:formaat xsi:nil="true"/>'
    '<ZKN:versie xsi:nil="true"/></ZKN:gerelateerde>'
    '<ZKN:titel xsi:nil="true"/><ZKN:registratiedatum xsi:nil="true"/></ZKN:heeftRelevant></ZKN:object>'
)
ZAAKDOCUMENT_LEZEN = (
    '<ZKN:object StUF:entiteittype="EDC"><ZKN:identificatie xsi:nil="true"/><ZKN:dct.omschrijving xsi:nil="true"/>'
    '<ZKN:titel xsi:nil="true"/><ZKN:formaat xsi:nil="true"/><ZKN:link xsi:nil="true"/><ZKN:inhoud xsi:nil="true"/>'
    '<ZKN:isRelevantVoor StUF:entiteittype="EDCZAK"><ZKN:gerelateerde StUF:entiteittype="ZAK">'
    '<ZKN:identificatie xsi:nil="true"/></ZKN:gerelateerde></ZKN:isRelevantVoor></ZKN:object>'
)
BESLUITDETAILS = (
    '<ZKN:object StUF:entiteittype="BSL"><ZKN:identificatie xsi:nil="true"/>'
    '<ZKN:datumBeslissing xsi:nil="true"/><ZKN:toelichting xsi:nil="true"/><ZKN:ingangsdatumWerking xsi:nil="true"/>'
    '<ZKN:isUitkomstVan StUF:entiteittype="BSLZAK"><ZKN:gerelateerde StUF:entiteittype="ZAK">'
    '<ZKN:identificatie xsi:nil="true"/></ZKN:gerelateerde></ZKN:isUitkomstVan>'
    '<ZKN:isVastgelegdIn StUF:entiteittype="BSLEDC"><ZKN:gerelateerde StUF:entiteittype="EDC">'
    '<ZKN:identificatie xsi:nil="true"/><ZKN:titel xsi:nil="true"/></ZKN:gerelateerde></ZKN:isVastgelegdIn>'
    "</ZKN:object>"
)

#: operation -> (message builder, entiteittype of the scope, element list, ZDS 1.1 element, what it asks about)
OPERATIONS = {
    "geefZaakdetails": (m.geef_zaakdetails, "ZAK", ZAAKDETAILS, "zakLv01", "zaak"),
    "geefZaakstatus": (zm.geef_zaakstatus, "ZAK", zm.STATUS_SCOPE, "zakLv01", "zaak"),
    "geefLijstZaakdocumenten": (dm.geef_lijst_zaakdocumenten, "ZAK", LIJST_ZAAKDOCUMENTEN, "zakLv01", "zaak"),
    "geefZaakdocumentLezen": (dm.geef_zaakdocument_lezen, "EDC", ZAAKDOCUMENT_LEZEN, "edcLv01", "document"),
    "geefBesluitdetails": (bm.geef_besluitdetails, "BSL", BESLUITDETAILS, "bslLv01", "besluit"),
    "geefLijstBesluiten": (bm.geef_lijst_besluiten, "ZAK", bm.LIJST_SCOPE, "zakLv01", "zaak"),
}
ACTIONS = {"geefZaakdetails": "geefZaakdetails_Lv01", "geefZaakstatus": "geefZaakstatus_Lv01", "geefLijstZaakdocumenten": "geefLijstZaakdocumenten_Lv01",
           "geefZaakdocumentLezen": "geefZaakdocumentLezen_Lv01", "geefBesluitdetails": "geefBesluitdetails_Lv01",
           "geefLijstBesluiten": "geefLijstBesluiten_Lv01"}
NAMED = ("alles", "allesZonderMetagegevens", "allesMaarKerngegevensGerelateerden",
         "allesZonderMetagegevensMaarKerngegevensGerelateerden", "kerngegevens")
STYLES = (*NAMED, "nil-novalue", "bare-nil", "empty-gerelateerde", "nil-gerelateerde")


def scope_of(style: str, entiteittype: str, listed: str) -> str:
    if style in NAMED:
        return f'<ZKN:object StUF:entiteittype="{entiteittype}" StUF:scope="{style}"/>'
    listed = re.sub(r' StUF:noValue="[A-Za-z]+"', "", listed)
    if style == "nil-novalue":  # inhoud takes no noValue attribute
        return re.sub(r'(<ZKN:(?!inhoud)[\w.]+ xsi:nil="true")', r'\1 StUF:noValue="geenWaarde"', listed)
    if style == "bare-nil":
        return listed
    # a relation's gerelateerde asked without children ("its kerngegevens"): empty, or itself nil
    nil = ' xsi:nil="true"' if style == "nil-gerelateerde" else ""
    return re.sub(r'<ZKN:gerelateerde( StUF:entiteittype="[A-Z]+")?>.*?</ZKN:gerelateerde>',
                  lambda mt: f"<ZKN:gerelateerde{mt.group(1) or ''}{nil}/>", listed)


#: a named scope the ZDS 1.2 vraag type does not allow (it requires the scope to list identificatie)
NOT_IN_SCHEMA = {("geefLijstBesluiten", "zds"), ("geefZaakstatus", "zds")}


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas) -> Iterator[Edge]:
    with running(tmp_path_factory.mktemp("scopes"), schemas) as edge:
        yield edge


def _ok(answer, code: str = "Bv03"):
    assert answer.berichtcode == code, (answer.foutcode, answer.text("body/omschrijving"), answer.text("body/details"))
    return answer


@pytest.fixture(scope="module")
def objects(edge: Edge, schemas) -> dict[str, dict[str, str]]:
    """A zaak with a status, a document and a besluit (laid down in the document), a zaak with a document
    without content and a besluit with few gegevens, and a zaak without documents and besluiten."""
    def zaak() -> str:
        ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie") or ""
        _ok(edge.soap.call(e.ASYNC, m.creeer_zaak(ident)))
        return ident

    full, bare, empty = zaak(), zaak(), zaak()
    _ok(edge.soap.call(e.ASYNC, e.actualiseer_zaakstatus(full)))
    document = f"1234D{m.ref()}"
    _ok(edge.soap.call(e.ASYNC, dm.voeg_zaakdocument_toe(document, full)))
    bare_document = f"1234D{m.ref()}"
    _ok(edge.soap.call(e.ASYNC, dm.maak_zaakdocument(bare_document, bare)))
    besluit = edge.soap.call(e.SYNC_VRIJ, bm.genereer_besluit_identificatie()).text("besluit/identificatie") or ""
    _ok(edge.soap.call(e.ASYNC, bm.voeg_besluit_toe(besluit, full, documenten=(document,))))
    bare_besluit = edge.soap.call(e.SYNC_VRIJ, bm.genereer_besluit_identificatie()).text("besluit/identificatie") or ""
    _ok(edge.soap.call(e.ASYNC, bm.voeg_besluit_toe(bare_besluit, bare, toelichting=None, tijdvak=False)))
    return {"full": {"zaak": full, "document": document, "besluit": besluit},
            "bare": {"zaak": bare, "document": bare_document, "besluit": bare_besluit},
            "empty": {"zaak": empty, "document": bare_document, "besluit": bare_besluit}}


def nilled_with_content(root: etree._Element) -> list[str]:
    return [root.getroottree().getpath(el) for el in root.iter()
            if isinstance(el.tag, str) and el.get(NIL) == "true" and (len(el) or (el.text or "").strip())]


@pytest.mark.parametrize("dialect", ["zds", "zkn"])
@pytest.mark.parametrize("which", ["full", "bare", "empty"])
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_scope_style_gets_a_valid_la01(edge: Edge, schemas, objects, operation: str, style: str,
                                             which: str, dialect: str) -> None:
    build, entiteittype, listed, zkn_element, about = OPERATIONS[operation]
    if style in NAMED and (operation, dialect) in NOT_IN_SCHEMA:
        pytest.skip("the schema does not allow a named scope here")
    if which == "empty" and about != "zaak":
        pytest.skip("only a zaak can be without documents and besluiten")
    body = build(objects[which][about], scope_of(style, entiteittype, listed))
    action = None
    if dialect == "zkn":
        body = e.zkn_dialect(body, zkn_element)
        action = e.ZKN_ACTION + ACTIONS[operation]
    problems = schemas.issues(e.parse(body))
    if style.endswith("-gerelateerde") and problems:
        pytest.skip(f"the schema does not allow this scope style here: {problems[0].message}")
    assert not problems, f"the test built an invalid vraag: {problems[:3]}"
    answer = edge.soap.call(e.VRAAG, body, soap_action=action)
    _ok(answer, "La01")
    assert e.last_row(edge.broker).operation == operation
    assert schemas.issues(answer.payload) == []
    assert nilled_with_content(answer.payload) == []
    assert answer.payload.find(f".//{{{m.ZKN}}}antwoord/{{{m.ZKN}}}object") is not None
