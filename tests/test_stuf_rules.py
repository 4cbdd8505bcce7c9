"""The semantic rules of StUF 03.01 / ZDS 1.2 beyond the schema (docs/stuf-rules.md, broker.intake.rules).

One case per rule: a schema-valid message that breaks it gets the rule's foutcode from a live broker,
and the rule's id in the fault's details. The StUF Testplatform templates, which must keep passing,
run in tests/test_stp_scenarios.py; here every request template is also checked offline against the
rules (so a rule that would refuse one shows up here first, with its template named).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from lxml import etree

from broker.errors import StufError
from broker.intake import rules
from broker.stuf import stuurgegevens as sgmod
from broker.stuf.schemas import SchemaSet
from broker.zds import dispatch
from tests.stp.runner import HERE as STP_HERE
from tests.stp.runner import Runner
from tests.support import messages as m
from tests.support.edge_live import Edge, running

ASYNC, VRAAG = "OntvangAsynchroon", "BeantwoordVraag"
ZKN_ACTION = "http://www.egem.nl/StUF/sector/zkn/0310/"
STP = Path(__file__).resolve().parents[1].parent / "shared" / "stuf-testplatform"
NIL_GEEN = 'xsi:nil="true" StUF:noValue="geenWaarde"'


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas):
    with running(tmp_path_factory.mktemp("rules"), schemas) as edge:
        yield edge


def _day(offset: int) -> str:
    return (datetime.now() + timedelta(days=offset)).strftime("%Y%m%d")


def tijdvak(begin: str | None, eind: str | None) -> str:
    b = f"<StUF:beginGeldigheid>{begin}</StUF:beginGeldigheid>" if begin else f"<StUF:beginGeldigheid {NIL_GEEN}/>"
    e = f"<StUF:eindGeldigheid>{eind}</StUF:eindGeldigheid>" if eind else f"<StUF:eindGeldigheid {NIL_GEEN}/>"
    return f"<StUF:tijdvakGeldigheid>{b}{e}</StUF:tijdvakGeldigheid>"


def update(oud_extra: str = "", nieuw_extra: str = "", *, oud_attrs: str = "", nieuw_attrs: str = "",
           oud_after: str = "", nieuw_after: str = "", soort: str = "W", oud_soort: str = "W") -> str:
    """An updateZaak (W) of omschrijving; ``*_extra`` after omschrijving, ``*_after`` after isVan."""
    is_van = m.zaaktype_xml().replace('verwerkingssoort="T"', 'verwerkingssoort="I"', 1)

    def obj(omschrijving: str, extra: str, attrs: str, after: str, vs: str = "W") -> str:
        return (f'<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="{vs}"{attrs}>'
                f"<ZKN:identificatie>1234RULE01</ZKN:identificatie><ZKN:omschrijving>{omschrijving}</ZKN:omschrijving>"
                f"{extra}{is_van}{after}</ZKN:object>")
    return (f"<ZDS:updateZaak_ZakLk01 {m.NSDECL}>{m.stuurgegevens('ZKN', 'Lk01', entiteittype='ZAK')}"
            f"<ZKN:parameters><StUF:mutatiesoort>{soort}</StUF:mutatiesoort><StUF:indicatorOvername>V"
            "</StUF:indicatorOvername></ZKN:parameters>"
            f"{obj('oud', oud_extra, oud_attrs, oud_after, oud_soort)}{obj('nieuw', nieuw_extra, nieuw_attrs, nieuw_after)}"
            "</ZDS:updateZaak_ZakLk01>")


def without_new_object(xml: str) -> str:
    second = xml.index("<ZKN:object ", xml.index("<ZKN:object ") + 1)
    end = xml.index("</ZKN:object>", second) + len("</ZKN:object>")
    return xml[:second] + xml[end:]


def creeer(extra_object: str = "", *, gerelateerde: str = "I", relation: str = "") -> str:
    xml = m.creeer_zaak("1234RULE02", extra=relation)
    xml = xml.replace('<ZKN:gerelateerde StUF:entiteittype="ZKT" StUF:verwerkingssoort="I">',
                      f'<ZKN:gerelateerde StUF:entiteittype="ZKT" StUF:verwerkingssoort="{gerelateerde}">')
    return xml.replace("<ZKN:deelzakenIndicatie>N</ZKN:deelzakenIndicatie>",
                       f"<ZKN:deelzakenIndicatie>N</ZKN:deelzakenIndicatie>{extra_object}")


def status(heeft_attrs: str = "", inner: str = "") -> str:
    """A creeerZaak with a status relation (heeft T) holding ``inner`` after datumStatusGezet."""
    rel = (f'<ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T"{heeft_attrs}>'
           '<ZKN:gerelateerde StUF:entiteittype="STT" StUF:verwerkingssoort="I"><ZKN:zkt.code>SHV</ZKN:zkt.code>'
           "<ZKN:volgnummer>1</ZKN:volgnummer></ZKN:gerelateerde>"
           f"<ZKN:datumStatusGezet>{m.today()}120000</ZKN:datumStatusGezet>{inner}</ZKN:heeft>")
    return creeer(relation=rel)


def vraag(gelijk_inner: str = "<ZKN:identificatie>1234RULE03</ZKN:identificatie>", *, parts: str = "",
          gelijk_attrs: str = "", sortering: str = "0", vervolg: str = "false", start: str = "") -> str:
    """A ZDS 1.1 zakLv01 (which allows vanaf, totEnMet and start) asking for a zaak's details."""
    return (f"<ZKN:zakLv01 {m.NSDECL}>{m.stuurgegevens('ZKN', 'Lv01', entiteittype='ZAK')}"
            f"<ZKN:parameters><StUF:sortering>{sortering}</StUF:sortering><StUF:indicatorVervolgvraag>{vervolg}"
            "</StUF:indicatorVervolgvraag></ZKN:parameters>"
            f'<ZKN:gelijk StUF:entiteittype="ZAK"{gelijk_attrs}>{gelijk_inner}</ZKN:gelijk>{parts}'
            '<ZKN:scope><ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"/></ZKN:scope>'
            f"{start}</ZKN:zakLv01>")


def rng(tag: str, inner: str) -> str:
    return f'<ZKN:{tag} StUF:entiteittype="ZAK">{inner}</ZKN:{tag}>'


def sd(value: str = "20200101", attrs: str = "") -> str:
    return f"<ZKN:startdatum{attrs}>{value}</ZKN:startdatum>"


def rd(value: str = "20200101") -> str:
    return f"<ZKN:registratiedatum>{value}</ZKN:registratiedatum>"


def lijst_documenten(sortering: str) -> str:
    return vraag(sortering=sortering).replace(
        '<ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"/>',
        '<ZKN:object StUF:entiteittype="ZAK"><ZKN:heeftRelevant StUF:entiteittype="ZAKEDC"><ZKN:gerelateerde '
        'StUF:entiteittype="EDC"><ZKN:identificatie xsi:nil="true"/></ZKN:gerelateerde></ZKN:heeftRelevant>'
        "</ZKN:object>")


def stuf(version: str) -> str:
    return m.genereer_zaak_identificatie().replace("<ZDS:genereerZaakIdentificatie_Di02 ",
                                                   f'<ZDS:genereerZaakIdentificatie_Di02 xmlns:S2="http://www.egem.nl/StUF/StUF{version}" ') \
        .replace("<StUF:berichtcode>Di02</StUF:berichtcode>", "<S2:berichtcode>Di02</S2:berichtcode>")


def sector(namespace: str) -> str:
    return (f'<Z:zakLv01 xmlns:Z="{namespace}" xmlns:StUF="{m.STUF}">'
            f"{m.stuurgegevens('Z', 'Lv01', entiteittype='ZAK')}</Z:zakLv01>")


def async_answer() -> str:
    return (f'<StUF:Bv01Bericht xmlns:StUF="{m.STUF}">{m.stuurgegevens("StUF", "Bv01")}'
            "</StUF:Bv01Bericht>").replace("</StUF:tijdstipBericht>",
                                           "</StUF:tijdstipBericht><StUF:crossRefnummer>X1</StUF:crossRefnummer>")


@dataclass(frozen=True)
class Case:
    rule: str
    code: str
    port: str
    message: Callable[[], str]
    action: str | None = None
    #: where the rule is checked when not in broker.intake.rules: "schema" (the ZDS schemas refuse it
    #: before the rule module sees it) or "service" (the operation's service, broker.zds)
    checked_by: str | None = None


TODAY_TV = lambda: tijdvak(m.today(), None)  # noqa: E731

CASES = [
    # A. stuurgegevens
    Case("R-SG-01", "StUF001", "VerwerkSynchroonVrijBericht", lambda: stuf("0204")),
    Case("R-SG-02", "StUF004", VRAAG, lambda: sector("http://www.egem.nl/StUF/sector/ztc/0310")),
    Case("R-SG-02", "StUF007", VRAAG, lambda: sector("http://www.egem.nl/StUF/sector/zkn/0201")),
    Case("R-SG-12", "StUF043", ASYNC, async_answer),
    # C. kennisgevingen (R-KG-02/03/05 and R-ZDS-02 are checked by each service, broker.zds.kennisgeving)
    Case("R-ZDS-02", "StUF055", ASYNC, lambda: creeer().replace("<StUF:mutatiesoort>T<", "<StUF:mutatiesoort>V<"),
         checked_by="service"),
    Case("R-KG-03", "StUF055", ASYNC, lambda: without_new_object(update()).replace("ZDS:updateZaak_ZakLk01",
                                                                                   "ZKN:zakLk01"),
         m.ZDS_ACTION + "updateZaak_ZakLk01", checked_by="service"),
    Case("R-KG-05", "StUF055", ASYNC, lambda: creeer().replace(
        '<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="T">',
        '<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="W">'), checked_by="service"),
    Case("R-KG-04", "StUF055", ASYNC, lambda: creeer().replace(
        '<ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="T">', '<ZKN:isVan StUF:entiteittype="ZAKZKT">'),
         checked_by="schema"),
    Case("R-KG-04", "StUF055", ASYNC, lambda: creeer().replace(
        '<ZKN:gerelateerde StUF:entiteittype="ZKT" StUF:verwerkingssoort="I">',
        '<ZKN:gerelateerde StUF:entiteittype="ZKT">'), checked_by="schema"),
    Case("R-KG-06", "StUF055", ASYNC, lambda: update().replace(
        '<ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="I">',
        '<ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="W">', 1)),
    Case("R-KG-08", "StUF055", ASYNC, lambda: creeer(gerelateerde="W")),
    Case("R-KG-10", "StUF055", ASYNC, lambda: update(oud_attrs=' StUF:sleutelVerzendend="A1"',
                                                     nieuw_attrs=' StUF:sleutelVerzendend="A2"')),
    Case("STV0000047", "StUF055", ASYNC, lambda: update(nieuw_extra="<ZKN:toelichting>nieuw</ZKN:toelichting>")),
    Case("R-KG-12", "StUF066", ASYNC, lambda: update(soort="C").replace(">oud<", ">nieuw<")),
    Case("R-KG-15", "StUF068", ASYNC, lambda: creeer(tijdvak(_day(3), None))),
    # D. tijdvakGeldigheid, tijdstipRegistratie
    Case("R-TV-02", "StUF062", ASYNC, lambda: creeer(tijdvak(m.today(), _day(-1)))),
    Case("R-TV-03", "StUF062", ASYNC, lambda: update(oud_extra=tijdvak(_day(-5), _day(-2)),
                                                     nieuw_extra=tijdvak(_day(-1), None))),
    Case("R-TV-04", "StUF062", ASYNC, lambda: update(oud_extra=tijdvak(_day(-5), _day(-1)),
                                                     nieuw_extra=tijdvak(_day(-5), None), soort="C")),
    Case("R-TV-06", "StUF055", ASYNC, lambda: update(
        oud_extra=tijdvak(_day(-3), m.today()) + f"<StUF:tijdstipRegistratie>{m.tijdstip()}</StUF:tijdstipRegistratie>",
        nieuw_extra=TODAY_TV() + f"<StUF:tijdstipRegistratie>{m.tijdstip()}</StUF:tijdstipRegistratie>")),
    Case("STV0000025", "StUF062", ASYNC, lambda: update(
        nieuw_extra=f"<StUF:tijdstipRegistratie>{m.tijdstip()}</StUF:tijdstipRegistratie>")),
    Case("R-TV-07", "StUF062", ASYNC, lambda: update(oud_extra=TODAY_TV(), nieuw_extra=TODAY_TV(), oud_soort="I")),
    Case("R-TV-08", "StUF055", ASYNC, lambda: status(inner="").replace(
        "<ZKN:volgnummer>1</ZKN:volgnummer></ZKN:gerelateerde>",
        "<ZKN:volgnummer>1</ZKN:volgnummer>" + tijdvak(m.today(), None) + "</ZKN:gerelateerde>"), checked_by="schema"),
    Case("R-TV-10", "StUF062", ASYNC, lambda: status(inner=(
        f"<StUF:tijdvakRelatie><StUF:beginRelatie>{m.today()}</StUF:beginRelatie>"
        f"<StUF:eindRelatie>{m.today()}</StUF:eindRelatie></StUF:tijdvakRelatie>"))),
    # E. noValue
    Case("R-NV-03", "StUF055", ASYNC, lambda: creeer().replace(
        "<ZKN:omschrijving>Aanvraag schuldhulp</ZKN:omschrijving>",
        '<ZKN:omschrijving StUF:noValue="geenWaarde">Aanvraag schuldhulp</ZKN:omschrijving>')),
    # G. identificaties
    Case("R-ID-02", "StUF055", ASYNC, lambda: m.creeer_zaak("9999RULE09"), checked_by="service"),
    # F. vraag
    Case("R-VA-03", "StUF076", VRAAG, lambda: vraag(parts=rng("vanaf", sd()) + rng("totEnMet", rd())),
         ZKN_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-04", "StUF079", VRAAG, lambda: vraag(gelijk_inner=sd(), parts=rng("vanaf", sd()) + rng("totEnMet", sd())),
         ZKN_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-05", "StUF082", VRAAG, lambda: vraag(parts=rng("vanaf", sd(attrs=' StUF:exact="true"'))
                                                    + rng("totEnMet", sd())), ZKN_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-06", "StUF085", VRAAG, lambda: vraag(parts=rng("vanaf", sd("20200100", ' StUF:indOnvolledigeDatum="D"'))
                                                    + rng("totEnMet", sd())), ZKN_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-07", "StUF088", VRAAG, lambda: vraag(
        "", gelijk_attrs=' StUF:sleutelVerzendend="1" StUF:sleutelOntvangend="2"'), ZKN_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-07", "StUF091", VRAAG, lambda: vraag(gelijk_attrs=' StUF:sleutelOntvangend="2"'),
         ZKN_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-07", "StUF094", VRAAG, lambda: vraag("", gelijk_attrs=' StUF:sleutelVerzendend="1"'),
         ZKN_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-08", "StUF097", VRAAG, lambda: m.geef_zaakdetails("1234RULE03", scope=(
        '<ZKN:object StUF:entiteittype="ZAK" StUF:scope="alles"><ZKN:omschrijving xsi:nil="true"/></ZKN:object>')),
         m.ZDS_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-09", "StUF103", VRAAG, lambda: vraag(vervolg="true"), ZKN_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-09", "StUF106", VRAAG, lambda: vraag(
        vervolg="true", parts=rng("vanaf", sd()) + rng("totEnMet", sd()),
        start='<ZKN:start><ZKN:object StUF:entiteittype="ZAK"><ZKN:identificatie>1234R</ZKN:identificatie>'
              "</ZKN:object></ZKN:start>"), ZKN_ACTION + "geefZaakdetails_ZakLv01"),
    Case("R-VA-10", "StUF133", VRAAG, lambda: lijst_documenten("3"), ZKN_ACTION + "geefLijstZaakdocumenten_ZakLv01"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}-{c.code}" for c in CASES])
def test_a_message_breaking_the_rule_gets_its_foutcode(edge: Edge, schemas: SchemaSet, case: Case) -> None:
    xml = case.message()
    body = etree.fromstring(xml.encode())
    if case.code not in ("StUF001", "StUF004", "StUF007", "StUF043") and case.checked_by != "schema":
        assert not schemas.issues(body), f"the test message must be schema-valid: {schemas.issues(body)[:2]}"
    answer = edge.soap.call(case.port, xml, soap_action=case.action)
    assert answer.foutcode == case.code, (answer.text("body/omschrijving"), answer.text("body/details"))
    if case.checked_by is None:
        assert f"regel {case.rule}" in (answer.text("body/details") or "")


def test_the_same_messages_without_the_break_pass_the_rules(edge: Edge) -> None:
    """The builders above make valid messages when nothing is broken (a rule that refused all would
    otherwise pass every case)."""
    for xml, port, action in ((update(), ASYNC, None), (creeer(TODAY_TV()), ASYNC, None),
                              (status(), ASYNC, None),
                              (update(oud_extra=tijdvak(_day(-5), m.today()), nieuw_extra=TODAY_TV()), ASYNC, None),
                              (vraag(parts=rng("vanaf", sd()) + rng("totEnMet", sd())), VRAAG,
                               ZKN_ACTION + "geefZaakdetails_ZakLv01")):
        answer = edge.soap.call(port, xml, soap_action=action)
        assert answer.foutcode is None or not (answer.text("body/details") or "").startswith("regel "), \
            (answer.foutcode, answer.text("body/omschrijving"), answer.text("body/details"))


def test_criteria_with_a_novalue_to_ignore_are_left_out_of_the_selection(edge: Edge) -> None:
    """R-NV-06: startdatum waardeOnbekend in gelijk is no criterion, so it is not "in gelijk and in
    vanaf" (StUF079)."""
    def ask(startdatum: str) -> str | None:
        xml = vraag(gelijk_inner=f"<ZKN:identificatie>1234RULE03</ZKN:identificatie>{startdatum}",
                    parts=rng("vanaf", sd()) + rng("totEnMet", sd()))
        return edge.soap.call(VRAAG, xml, soap_action=ZKN_ACTION + "geefZaakdetails_ZakLv01").foutcode

    assert ask('<ZKN:startdatum xsi:nil="true" StUF:noValue="waardeOnbekend"/>') != "StUF079"
    assert ask(sd()) == "StUF079"


def test_a_tr01_is_not_a_zds_message(edge: Edge) -> None:
    """Tr01 is declined (docs/stuf-rules.md): ZDS has no trigger service; it is refused as such."""
    tr01 = (f'<StUF:Tr01Bericht xmlns:StUF="{m.STUF}">{m.stuurgegevens("StUF", "Tr01")}</StUF:Tr01Bericht>')
    answer = edge.soap.call(ASYNC, tr01)
    assert answer.foutcode == "StUF025"


def test_every_testplatform_request_passes_the_rules(schemas: SchemaSet) -> None:
    runner = Runner(None, STP)  # type: ignore[arg-type]  # only fills templates

    class Any(dict):  # identificaties captured from earlier answers: any value will do here
        def __contains__(self, key: object) -> bool:
            return True

        def __missing__(self, key: str) -> str:
            return "1234567890"

    runner.context = Any(runner.context)
    steps = yaml.safe_load((STP_HERE / "scenario.yaml").read_text(encoding="utf-8"))["steps"]
    refused = []
    for step in steps:
        if not isinstance(step, list):
            continue
        body = etree.fromstring(runner.fill_request(step[0]).encode())
        sg = sgmod.read(body)
        try:
            rules.check_first(body, sg)
            operation = dispatch.resolve(body, None).operation.name
            tolerated = rules.Tolerated()
            rules.validate(schemas, body, operation, tolerated)
            rules.check(body, operation, sg, tolerated)
        except StufError as exc:
            refused.append(f"{step[0]}: {exc.code} {exc.details}")
    assert not refused, refused
