"""updateZaak adding a relation the way real clients send it: the old object holds an empty
placeholder (``xsi:nil``, verwerkingssoort T, often with ``StUF:noValue="geenWaarde"``) and the new
object the relation with content. A status sent so (ZDS 1.1 zakLk01 with SOAPAction updateZaak_Lk01)
is added and answered Bv03, on the embedded zaaksysteem and on ZGW; so is every other relation kind
an updateZaak carries, including the statussen that the adapters keep apart from the zaak.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from broker.adapters.embedded.tables import ZsRol, ZsZaak
from broker.devtools.zgw_fake import SeededZaaktype, ZGWFake
from broker.stuf import ns
from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.support.edge_live import Edge, running

UPDATE_11 = e.ZKN_ACTION + "updateZaak_Lk01"
NOVALUE = ' StUF:noValue="geenWaarde"'


def placeholder(relation: str, entiteittype: str) -> str:
    return (f'<ZKN:{relation} StUF:entiteittype="{entiteittype}" StUF:verwerkingssoort="T" xsi:nil="true"'
            f"{NOVALUE}/>")


def _zaak_ref(relation: str, entiteittype: str, ident: str) -> str:
    return (f'<ZKN:{relation} StUF:entiteittype="{entiteittype}" StUF:verwerkingssoort="T">'
            f'<ZKN:gerelateerde StUF:entiteittype="ZAK" StUF:verwerkingssoort="I">'
            f"<ZKN:identificatie>{ident}</ZKN:identificatie></ZKN:gerelateerde></ZKN:{relation}>")


ZAAKOBJECT = ('<ZKN:heeftBetrekkingOp StUF:entiteittype="ZAKOBJ" StUF:verwerkingssoort="T"><ZKN:gerelateerde>'
              '<ZKN:adres StUF:entiteittype="AOA" StUF:verwerkingssoort="I">'
              "<BG:identificatie>0599200000000002</BG:identificatie>"
              "<BG:wpl.woonplaatsNaam>Rotterdam</BG:wpl.woonplaatsNaam>"
              "<BG:gor.openbareRuimteNaam>Blaak</BG:gor.openbareRuimteNaam>"
              "<BG:huisnummer>8</BG:huisnummer></ZKN:adres></ZKN:gerelateerde>"
              "<ZKN:omschrijving>bezoekadres</ZKN:omschrijving></ZKN:heeftBetrekkingOp>")

#: relation -> (entiteittype, the relation with content)
ROL_RELATIONS = {
    "heeftAlsInitiator": ("ZAKBTRINI", zm.rol("heeftAlsInitiator", "natuurlijkPersoon")),
    "heeftAlsBelanghebbende": ("ZAKBTRBLH", zm.rol("heeftAlsBelanghebbende", "nietNatuurlijkPersoon")),
    "heeftAlsUitvoerende": ("ZAKBTRUTV", zm.rol("heeftAlsUitvoerende", "medewerker")),
    "heeftAlsOverigBetrokkene": ("ZAKBTROVR", zm.rol("heeftAlsOverigBetrokkene", "vestiging")),
}
STATUS = zm.heeft("SHV-2", "Intake afgerond", "2")


def update_11(ident: str, relation: str, entiteittype: str, content: str) -> str:
    """A ZDS 1.1 zakLk01 (W): placeholder in the old object, the relation in the new one."""
    id_xml = f"<ZKN:identificatie>{ident}</ZKN:identificatie>"
    return zm._w("ZKN:zakLk01", id_xml + placeholder(relation, entiteittype), id_xml + content)


def _valid(schemas, xml: str) -> str:
    problems = schemas.issues(e.parse(xml))
    assert not problems, f"the test built an invalid message: {problems[:3]}"
    return xml


def _bv03(answer) -> None:
    assert answer.berichtcode == "Bv03", (answer.foutcode, answer.text("body/omschrijving"), answer.text("body/details"))


# -- the embedded zaaksysteem -------------------------------------------------------------------
@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas) -> Iterator[Edge]:
    with running(tmp_path_factory.mktemp("update-relations"), schemas) as edge:
        yield edge


def _new_zaak(edge: Edge, schemas) -> str:
    ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie")
    _bv03(edge.soap.call(e.ASYNC, _valid(schemas, m.creeer_zaak(ident))))
    return ident


def _details(edge: Edge, ident: str) -> etree._Element:
    la01 = edge.soap.call(e.VRAAG, m.geef_zaakdetails(ident))
    assert la01.berichtcode == "La01", la01.content
    obj = la01.payload.find(f"{{{ns.ZKN}}}antwoord/{{{ns.ZKN}}}object")
    assert obj is not None
    return obj


def _relations(obj: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in obj if isinstance(c.tag, str) and ns.local(c.tag) == name
            and c.get(f"{{{m.XSI}}}nil") != "true"]


def test_a_status_sent_with_update_zaak_is_added_and_answered_bv03(edge: Edge, schemas) -> None:
    """The captured shape: zakLk01 W, SOAPAction updateZaak_Lk01, placeholder heeft with noValue, a new
    heeft with gerelateerde STT, datumStatusGezet and a nested isGezetDoor ZAKSTTBTR T."""
    ident = _new_zaak(edge, schemas)
    before = e.status_count(edge.broker)
    body = _valid(schemas, update_11(ident, "heeft", "ZAKSTT", STATUS))
    _bv03(edge.soap.call(e.ASYNC, body, soap_action=UPDATE_11))
    assert e.last_row(edge.broker).operation == "updateZaak"
    assert e.status_count(edge.broker) == before + 1
    statussen = _relations(_details(edge, ident), "heeft")
    assert [s.findtext(f"{{{ns.ZKN}}}gerelateerde/{{{ns.ZKN}}}code") for s in statussen] == ["SHV-2"]
    assert statussen[-1].findtext(f"{{{ns.ZKN}}}indicatieLaatsteStatus") == "J"


def test_a_status_with_an_unknown_statustype_in_update_zaak_is_refused_and_nothing_changes(edge: Edge, schemas) -> None:
    ident = _new_zaak(edge, schemas)
    before = e.status_count(edge.broker)
    body = _valid(schemas, update_11(ident, "heeft", "ZAKSTT", zm.heeft("SHV-9", "Bestaat niet", "9")))
    answer = edge.soap.call(e.ASYNC, body, soap_action=UPDATE_11)
    assert answer.is_fault and answer.foutcode == "StUF064"
    assert e.status_count(edge.broker) == before


@pytest.mark.parametrize("relation", sorted(ROL_RELATIONS))
def test_a_betrokkene_added_with_update_zaak_behind_a_placeholder(edge: Edge, schemas, relation: str) -> None:
    ident = _new_zaak(edge, schemas)
    entiteittype, content = ROL_RELATIONS[relation]
    _bv03(edge.soap.call(e.ASYNC, _valid(schemas, update_11(ident, relation, entiteittype, content)),
                         soap_action=UPDATE_11))
    with edge.broker.broker.db.read() as session:
        zaak_id = session.execute(select(ZsZaak.id).where(ZsZaak.identificatie == ident)).scalar_one()
        relaties = session.execute(select(ZsRol.relatie).where(ZsRol.zaak_id == zaak_id)).scalars().all()
    # the creeerZaak's initiator is replaced (one initiator); any other kind comes beside it
    expected = ["heeftAlsInitiator"] if relation == "heeftAlsInitiator" else ["heeftAlsInitiator", relation]
    assert sorted(relaties) == sorted(expected)
    assert len(_relations(_details(edge, ident), relation)) == 1


@pytest.mark.parametrize(("relation", "entiteittype"), [("heeftBetrekkingOpAndere", "ZAKZAKBTR"),
                                                         ("heeftAlsDeelzaak", "ZAKZAKDEL")])
def test_a_related_zaak_added_with_update_zaak_behind_a_placeholder(edge: Edge, schemas, relation: str,
                                                                     entiteittype: str) -> None:
    ident, other = _new_zaak(edge, schemas), _new_zaak(edge, schemas)
    body = _valid(schemas, update_11(ident, relation, entiteittype, _zaak_ref(relation, entiteittype, other)))
    _bv03(edge.soap.call(e.ASYNC, body, soap_action=UPDATE_11))
    (rel,) = _relations(_details(edge, ident), relation)
    assert rel.findtext(f"{{{ns.ZKN}}}gerelateerde/{{{ns.ZKN}}}identificatie") == other


def test_a_zaakobject_added_with_update_zaak_behind_a_placeholder(edge: Edge, schemas) -> None:
    ident = _new_zaak(edge, schemas)
    body = _valid(schemas, update_11(ident, "heeftBetrekkingOp", "ZAKOBJ", ZAAKOBJECT))
    _bv03(edge.soap.call(e.ASYNC, body, soap_action=UPDATE_11))
    (rel,) = _relations(_details(edge, ident), "heeftBetrekkingOp")
    assert rel.findtext(f"{{{ns.ZKN}}}omschrijving") == "bezoekadres"


def test_a_besluit_relation_added_with_update_zaak_behind_a_placeholder(edge: Edge, schemas) -> None:
    """leidtTot T behind a placeholder is kept with the zaak (STP updateZaak_ZakLk01_05 sends one)."""
    ident = _new_zaak(edge, schemas)
    rel = ('<ZKN:leidtTot StUF:entiteittype="ZAKBSL" StUF:verwerkingssoort="T">'
           '<ZKN:gerelateerde StUF:entiteittype="BSL" StUF:verwerkingssoort="I">'
           "<ZKN:identificatie>1234BSL0001</ZKN:identificatie></ZKN:gerelateerde></ZKN:leidtTot>")
    _bv03(edge.soap.call(e.ASYNC, _valid(schemas, update_11(ident, "leidtTot", "ZAKBSL", rel)),
                         soap_action=UPDATE_11))
    (found,) = _relations(_details(edge, ident), "leidtTot")
    assert found.findtext(f"{{{ns.ZKN}}}gerelateerde/{{{ns.ZKN}}}identificatie") == "1234BSL0001"


def test_a_status_removed_with_update_zaak_is_refused(edge: Edge, schemas) -> None:
    ident = _new_zaak(edge, schemas)
    id_xml = f"<ZKN:identificatie>{ident}</ZKN:identificatie>"
    oud = id_xml + STATUS.replace('StUF:verwerkingssoort="T">', 'StUF:verwerkingssoort="V">', 1)
    nieuw = id_xml + '<ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="V" xsi:nil="true"/>'
    answer = edge.soap.call(e.ASYNC, _valid(schemas, zm._w("ZKN:zakLk01", oud, nieuw)), soap_action=UPDATE_11)
    assert answer.foutcode == "StUF055" and "verwerkingssoort V" in (answer.text("body/omschrijving") or "")


# -- ZGW ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        yield server
        assert server.violations == [], server.violations


@pytest.fixture(scope="module")
def zaaktype(fake: ZGWFake) -> SeededZaaktype:
    return zb.seed_shv(fake)


@pytest.fixture(scope="module")
def zgw(tmp_path_factory, fake: ZGWFake, zaaktype: SeededZaaktype, schemas) -> Iterator[zb.ZgwBroker]:
    tmp: Path = tmp_path_factory.mktemp("update-relations-zgw")
    config = zb.write_zgw_config(tmp, zb.translate_routes(fake))
    with zb.start(tmp, config, schemas) as broker:
        yield broker


def _zgw_zaak(zgw: zb.ZgwBroker, fake: ZGWFake) -> tuple[str, str]:
    ident = zgw.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie") or ""
    _bv03(zgw.soap.call(e.ASYNC, zm.creeer_zaak(ident), soap_action=zm.ACTION["creeer"]))
    (zaak,) = [z for z in fake.objects("zaken") if z["identificatie"] == ident]
    return ident, zaak["url"]


def test_zgw_a_status_sent_with_update_zaak_is_posted(zgw: zb.ZgwBroker, fake: ZGWFake, zaaktype: SeededZaaktype,
                                                      schemas) -> None:
    ident, url = _zgw_zaak(zgw, fake)
    _bv03(zgw.soap.call(e.ASYNC, _valid(schemas, update_11(ident, "heeft", "ZAKSTT", STATUS)), soap_action=UPDATE_11))
    statussen = [s for s in fake.objects("statussen") if s["zaak"] == url]
    assert sorted(s["statustype"] for s in statussen) == sorted([zaaktype.statustypen[1], zaaktype.statustypen[2]])


def test_zgw_a_betrokkene_added_with_update_zaak_behind_a_placeholder(zgw: zb.ZgwBroker, fake: ZGWFake,
                                                                      schemas) -> None:
    ident, url = _zgw_zaak(zgw, fake)
    before = len([r for r in fake.objects("rollen") if r["zaak"] == url])
    entiteittype, content = ROL_RELATIONS["heeftAlsBelanghebbende"]
    _bv03(zgw.soap.call(e.ASYNC, _valid(schemas, update_11(ident, "heeftAlsBelanghebbende", entiteittype, content)),
                        soap_action=UPDATE_11))
    assert len([r for r in fake.objects("rollen") if r["zaak"] == url]) == before + 1


def test_zgw_a_zaakobject_added_with_update_zaak_behind_a_placeholder(zgw: zb.ZgwBroker, fake: ZGWFake,
                                                                      schemas) -> None:
    ident, url = _zgw_zaak(zgw, fake)
    _bv03(zgw.soap.call(e.ASYNC, _valid(schemas, update_11(ident, "heeftBetrekkingOp", "ZAKOBJ", ZAAKOBJECT)),
                        soap_action=UPDATE_11))
    objecten = [o for o in fake.objects("zaakobjecten") if o["zaak"] == url]
    assert sorted(o["relatieomschrijving"] for o in objecten) == ["bezoekadres", "woonadres"]


def test_zgw_a_related_zaak_added_with_update_zaak_joins_relevante_andere_zaken(zgw: zb.ZgwBroker, fake: ZGWFake,
                                                                               schemas) -> None:
    (ident, url), (other, other_url) = _zgw_zaak(zgw, fake), _zgw_zaak(zgw, fake)
    rel = _zaak_ref("heeftBetrekkingOpAndere", "ZAKZAKBTR", other)
    _bv03(zgw.soap.call(e.ASYNC, _valid(schemas, update_11(ident, "heeftBetrekkingOpAndere", "ZAKZAKBTR", rel)),
                        soap_action=UPDATE_11))
    (zaak,) = [z for z in fake.objects("zaken") if z["url"] == url]
    assert [r["url"] for r in zaak["relevanteAndereZaken"]] == [other_url]


def test_zgw_a_deelzaak_added_with_update_zaak_gets_the_zaak_as_hoofdzaak(zgw: zb.ZgwBroker, fake: ZGWFake,
                                                                         schemas) -> None:
    (ident, url), (deel, deel_url) = _zgw_zaak(zgw, fake), _zgw_zaak(zgw, fake)
    rel = _zaak_ref("heeftAlsDeelzaak", "ZAKZAKDEL", deel)
    _bv03(zgw.soap.call(e.ASYNC, _valid(schemas, update_11(ident, "heeftAlsDeelzaak", "ZAKZAKDEL", rel)),
                        soap_action=UPDATE_11))
    (deelzaak,) = [z for z in fake.objects("zaken") if z["url"] == deel_url]
    assert deelzaak["hoofdzaak"] == url
