"""The zaken of a person: a ZDS 1.1 zakLv01 whose gelijk names the initiator (``identificatie`` "11" +
BSN), optionally the zaaktype (isVan) and the current status (heeft), answered with that person's
zaken, sorted, at most ``maximumAantal`` with ``indicatorVervolgvraag`` and a vervolgvraag, from the
embedded zaaksysteem and from ZGW (``rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn``, the
request checked against the Zaken API spec by the fake). What the schemas do not allow (ZDS 1.2, a
``natuurlijkPersoon`` in the BTR) and what the broker does not answer get a clear fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.devtools.zgw_fake import ZGWFake
from broker.stuf import ns
from tests.support import edge_messages as e
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.support.edge_live import Edge, running
from tests.support.soapcall import SoapAnswer, SoapCaller

PERSOON, ANDER = "111222333", "123456782"
SCOPE = ('<ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/>'
         '<ZKN:omschrijving xsi:nil="true"/><ZKN:startdatum xsi:nil="true"/>'
         '<ZKN:isVan StUF:entiteittype="ZAKZKT"><ZKN:gerelateerde StUF:entiteittype="ZKT">'
         '<ZKN:code xsi:nil="true"/></ZKN:gerelateerde></ZKN:isVan></ZKN:object>')


def initiator(identificatie: str) -> str:
    return ('<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI"><ZKN:gerelateerde StUF:entiteittype="BTR">'
            f"<ZKN:identificatie>{identificatie}</ZKN:identificatie></ZKN:gerelateerde></ZKN:heeftAlsInitiator>")


def zaken_van(bsn: str = PERSOON, *, zaaktype: str | None = None, status: str | None = None, maximum: int = 15,
              sortering: int = 0, start: str | None = None, gelijk: str | None = None,
              element: str = "ZKN:zakLv01") -> str:
    isvan = ('<ZKN:isVan StUF:entiteittype="ZAKZKT"><ZKN:gerelateerde StUF:entiteittype="ZKT">'
             f"<ZKN:code>{zaaktype}</ZKN:code></ZKN:gerelateerde></ZKN:isVan>") if zaaktype else ""
    heeft = ('<ZKN:heeft StUF:entiteittype="ZAKSTT"><ZKN:gerelateerde StUF:entiteittype="STT">'
             f"<ZKN:code>{status}</ZKN:code></ZKN:gerelateerde></ZKN:heeft>") if status else ""
    selection = gelijk if gelijk is not None else isvan + initiator("11" + bsn) + heeft
    start_xml = (f'<ZKN:start><ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie>{start}</ZKN:identificatie>'
                 "</ZKN:object></ZKN:start>") if start else ""
    return (f"<{element} {m.NSDECL}>{m.stuurgegevens('ZKN', 'Lv01', entiteittype='ZAK')}"
            f"<ZKN:parameters><StUF:sortering>{sortering}</StUF:sortering>"
            f"<StUF:indicatorVervolgvraag>{'true' if start else 'false'}</StUF:indicatorVervolgvraag>"
            f"<StUF:maximumAantal>{maximum}</StUF:maximumAantal></ZKN:parameters>"
            f'<ZKN:gelijk StUF:entiteittype="ZAK">{selection}</ZKN:gelijk>'
            f"<ZKN:scope>{SCOPE}</ZKN:scope>{start_xml}</{element}>")


def _identificaties(answer: SoapAnswer) -> list[str]:
    assert answer.berichtcode == "La01", (answer.foutcode, answer.text("body/omschrijving"))
    objs = answer.payload.findall(f"{{{ns.ZKN}}}antwoord/{{{ns.ZKN}}}object")
    return [o.findtext(f"{{{ns.ZKN}}}identificatie") or "" for o in objs]


def _vervolg(answer: SoapAnswer) -> str | None:
    return answer.text("parameters/indicatorVervolgvraag")


def _ask(soap: SoapCaller, schemas, body: str) -> SoapAnswer:
    assert not schemas.issues(e.parse(body)), schemas.issues(e.parse(body))[:2]
    return soap.call(e.VRAAG, body)


# -- the embedded zaaksysteem -------------------------------------------------------------------
@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas) -> Iterator[Edge]:
    with running(tmp_path_factory.mktemp("zaken-van-persoon"), schemas) as edge:
        yield edge


@pytest.fixture(scope="module")
def zaken(edge: Edge) -> dict[str, str]:
    """Three zaken of the person (two SHV, one OMV; one SHV with status SHV-2), one of another person
    in which the person is belanghebbende only."""
    def creeer(omschrijving: str, bsn: str = PERSOON, zaaktype: tuple[str, str] = ("SHV", "Schuldhulpverlening"),
               extra: str = "") -> str:
        ident = edge.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie") or ""
        xml = m.creeer_zaak(ident, omschrijving=omschrijving, zaaktype=zaaktype[0], zaaktype_omschrijving=zaaktype[1],
                            extra=extra).replace("<BG:inp.bsn>111222333</BG:inp.bsn>", f"<BG:inp.bsn>{bsn}</BG:inp.bsn>")
        assert edge.soap.call(e.ASYNC, xml).berichtcode == "Bv03"
        return ident

    made = {"b": creeer("B schulden"), "c": creeer("C bouwen", zaaktype=("OMV", "Omgevingsvergunning")),
            "a": creeer("A schulden")}
    assert edge.soap.call(e.ASYNC, e.actualiseer_zaakstatus(made["b"])).berichtcode == "Bv03"
    made["ander"] = creeer("Van een ander", bsn=ANDER)
    return made


def test_the_zaken_of_a_person_are_answered_sorted_on_identificatie(edge: Edge, schemas, zaken) -> None:
    answer = _ask(edge.soap, schemas, zaken_van())
    assert _identificaties(answer) == sorted([zaken["a"], zaken["b"], zaken["c"]])
    assert _vervolg(answer) == "false"
    assert e.last_row(edge.broker).operation == "geefZaakdetails"
    assert schemas.issues(answer.payload) == []


def test_selected_on_zaaktype_and_on_the_current_status(edge: Edge, schemas, zaken) -> None:
    assert _identificaties(_ask(edge.soap, schemas, zaken_van(zaaktype="SHV"))) == sorted([zaken["a"], zaken["b"]])
    assert _identificaties(_ask(edge.soap, schemas, zaken_van(status="SHV-2"))) == [zaken["b"]]
    assert _identificaties(_ask(edge.soap, schemas, zaken_van(zaaktype="OMV", status="SHV-2"))) == []


def test_maximum_aantal_sets_indicator_vervolgvraag_and_a_vervolgvraag_continues(edge: Edge, schemas, zaken) -> None:
    ordered = sorted([zaken["a"], zaken["b"], zaken["c"]])
    first = _ask(edge.soap, schemas, zaken_van(maximum=2))
    assert _identificaties(first) == ordered[:2] and _vervolg(first) == "true"
    rest = _ask(edge.soap, schemas, zaken_van(maximum=2, start=ordered[1]))
    assert _identificaties(rest) == ordered[2:] and _vervolg(rest) == "false"


def test_sortering_on_omschrijving_and_an_unsupported_one(edge: Edge, schemas, zaken) -> None:
    answer = _ask(edge.soap, schemas, zaken_van(sortering=4))
    assert _identificaties(answer) == [zaken["a"], zaken["b"], zaken["c"]]  # A schulden, B schulden, C bouwen
    refused = _ask(edge.soap, schemas, zaken_van(sortering=9))
    assert refused.foutcode == "StUF133"


def test_a_person_without_zaken_gets_an_answer_without_objects(edge: Edge, schemas, zaken) -> None:
    assert _identificaties(_ask(edge.soap, schemas, zaken_van("999999999"))) == []


@pytest.mark.parametrize(("gelijk", "named"), [
    ("<ZKN:omschrijving>A schulden</ZKN:omschrijving>" + initiator("11" + PERSOON), "omschrijving"),
    (initiator("12" + PERSOON), "natuurlijk persoon"),
    ('<ZKN:heeftAlsBelanghebbende StUF:entiteittype="ZAKBTRBLH"><ZKN:gerelateerde StUF:entiteittype="BTR">'
     f"<ZKN:identificatie>11{PERSOON}</ZKN:identificatie></ZKN:gerelateerde></ZKN:heeftAlsBelanghebbende>"
     + initiator("11" + PERSOON), "heeftAlsBelanghebbende"),
])
def test_a_selection_the_broker_does_not_answer_gets_a_fault_naming_it(edge: Edge, schemas, zaken, gelijk: str,
                                                                       named: str) -> None:
    answer = _ask(edge.soap, schemas, zaken_van(gelijk=gelijk))
    assert answer.foutcode == "StUF058", answer.content
    assert named in (answer.text("body/omschrijving") or "")


def test_what_the_schemas_do_not_allow_is_refused_by_them(edge: Edge, schemas, zaken) -> None:
    """natuurlijkPersoon/inp.bsn in the initiator's gerelateerde is no BTR; ZDS 1.2's geefZaakdetails
    requires gelijk/identificatie."""
    nps = ('<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI"><ZKN:gerelateerde>'
           '<ZKN:natuurlijkPersoon StUF:entiteittype="NPS"><BG:inp.bsn>111222333</BG:inp.bsn>'
           "</ZKN:natuurlijkPersoon></ZKN:gerelateerde></ZKN:heeftAlsInitiator>")
    for body in (zaken_van(gelijk=nps), zaken_van(element="ZDS:geefZaakdetails_ZakLv01")):
        assert schemas.issues(e.parse(body))
        answer = edge.soap.call(e.VRAAG, body)
        assert answer.foutcode == "StUF055", answer.content


# -- ZGW ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        yield server
        assert server.violations == [], server.violations
        assert server.unsupported == []


@pytest.fixture(scope="module")
def zgw(tmp_path_factory, fake: ZGWFake, schemas) -> Iterator[zb.ZgwBroker]:
    zb.seed_shv(fake)
    tmp: Path = tmp_path_factory.mktemp("zaken-van-persoon-zgw")
    with zb.start(tmp, zb.write_zgw_config(tmp, zb.translate_routes(fake)), schemas) as broker:
        yield broker


def test_zgw_the_zaken_of_a_person_with_paging(zgw: zb.ZgwBroker, schemas) -> None:
    def creeer(rollen: dict[str, str] | None = None, initiator_bsn: str = zm.BSN) -> str:
        ident = zgw.soap.call(e.SYNC_VRIJ, m.genereer_zaak_identificatie()).text("zaak/identificatie") or ""
        xml = zm.creeer_zaak(ident, rollen=rollen)
        at = xml.rfind(f"<BG:inp.bsn>{zm.BSN}<")  # the initiator comes after the belanghebbende
        xml = xml[:at] + f"<BG:inp.bsn>{initiator_bsn}<" + xml[at + len(f"<BG:inp.bsn>{zm.BSN}<"):]
        answer = zgw.soap.call(e.ASYNC, xml, soap_action=zm.ACTION["creeer"])
        assert answer.berichtcode == "Bv03", (answer.text("body/omschrijving"), answer.text("body/details"))
        return ident

    mine = sorted([creeer(), creeer()])
    # the person as belanghebbende of another's zaak: a rol of the person, but not the initiator
    creeer(rollen={"heeftAlsBelanghebbende": "natuurlijkPersoon", "heeftAlsInitiator": "natuurlijkPersoon"},
           initiator_bsn=ANDER)
    assert _identificaties(_ask(zgw.soap, schemas, zaken_van(zm.BSN))) == mine
    first = _ask(zgw.soap, schemas, zaken_van(zm.BSN, maximum=1))
    assert _identificaties(first) == mine[:1] and _vervolg(first) == "true"
    assert _identificaties(_ask(zgw.soap, schemas, zaken_van(zm.BSN, zaaktype="SHV", status="SHV-1"))) == mine
    assert _identificaties(_ask(zgw.soap, schemas, zaken_van(zm.BSN, status="SHV-2"))) == []
