"""StUF-BG 03.10 ``npsLv01`` questions as legacy applications send them (KCC tools, form portals)."""

from __future__ import annotations

import itertools
import os

BG = "http://www.egem.nl/StUF/sector/bg/0310"
STUF = "http://www.egem.nl/StUF/StUF0301"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_n = itertools.count(1)

#: a scope as KCC applications ask it: the person, its address, the relations with their basic data
SCOPE_VOLLEDIG = """
<BG:scope><BG:object StUF:entiteittype="NPS">
  <BG:inp.bsn xsi:nil="true"/><BG:geslachtsnaam xsi:nil="true"/><BG:voorvoegselGeslachtsnaam xsi:nil="true"/>
  <BG:voorletters xsi:nil="true"/><BG:voornamen xsi:nil="true"/><BG:adellijkeTitelPredikaat xsi:nil="true"/>
  <BG:geslachtsaanduiding xsi:nil="true"/><BG:geboortedatum xsi:nil="true"/><BG:inp.geboorteplaats xsi:nil="true"/>
  <BG:overlijdensdatum xsi:nil="true"/>
  <BG:verblijfsadres><BG:wpl.woonplaatsNaam xsi:nil="true"/><BG:gor.openbareRuimteNaam xsi:nil="true"/>
    <BG:aoa.postcode xsi:nil="true"/><BG:aoa.huisnummer xsi:nil="true"/><BG:aoa.huisletter xsi:nil="true"/></BG:verblijfsadres>
  <BG:sub.correspondentieAdres><BG:postcode xsi:nil="true"/><BG:aoa.huisnummer xsi:nil="true"/></BG:sub.correspondentieAdres>
  <BG:sub.telefoonnummer xsi:nil="true"/>
  <BG:inp.datumOpschortingBijhouding xsi:nil="true"/><BG:inp.redenOpschortingBijhouding xsi:nil="true"/>
  <BG:inp.indicatieGeheim xsi:nil="true"/>
  <BG:inOnderzoek xsi:nil="true"/>
  <BG:inp.heeftAlsEchtgenootPartner StUF:entiteittype="NPSNPSHUW">
    <BG:gerelateerde StUF:entiteittype="NPS"><BG:inp.bsn xsi:nil="true"/><BG:geslachtsnaam xsi:nil="true"/>
      <BG:voorvoegselGeslachtsnaam xsi:nil="true"/><BG:geboortedatum xsi:nil="true"/></BG:gerelateerde>
    <BG:soortVerbintenis xsi:nil="true"/><BG:datumSluiting xsi:nil="true"/>
  </BG:inp.heeftAlsEchtgenootPartner>
  <BG:inp.heeftAlsKinderen StUF:entiteittype="NPSNPSKND">
    <BG:gerelateerde StUF:entiteittype="NPS"><BG:inp.bsn xsi:nil="true"/><BG:geslachtsnaam xsi:nil="true"/>
      <BG:voornamen xsi:nil="true"/><BG:geboortedatum xsi:nil="true"/></BG:gerelateerde>
  </BG:inp.heeftAlsKinderen>
  <BG:inp.heeftAlsOuders StUF:entiteittype="NPSNPSOUD">
    <BG:gerelateerde StUF:entiteittype="NPS"><BG:inp.bsn xsi:nil="true"/><BG:geslachtsnaam xsi:nil="true"/>
      <BG:geboortedatum xsi:nil="true"/></BG:gerelateerde>
    <BG:ouderAanduiding xsi:nil="true"/>
  </BG:inp.heeftAlsOuders>
</BG:object></BG:scope>"""


def npslv01(gelijk: str, scope: str = SCOPE_VOLLEDIG, *, sortering: int = 0, maximum: int | None = None,
            vervolg: bool = False, start: str = "", extra: str = "", aantal: bool = False,
            afnemerindicatie: bool = False) -> str:
    """An npsLv01 with ``gelijk`` (the selection elements, BG-prefixed) and ``scope``."""
    params = f"<StUF:sortering>{sortering}</StUF:sortering><StUF:indicatorVervolgvraag>{str(vervolg).lower()}</StUF:indicatorVervolgvraag>"
    if maximum is not None:
        params += f"<StUF:maximumAantal>{maximum}</StUF:maximumAantal>"
    if afnemerindicatie:
        params += "<StUF:indicatorAfnemerIndicatie>true</StUF:indicatorAfnemerIndicatie>"
    if aantal:
        params += "<StUF:indicatorAantal>true</StUF:indicatorAantal>"
    return f"""<BG:npsLv01 xmlns:BG="{BG}" xmlns:StUF="{STUF}" xmlns:xsi="{XSI}">
  <BG:stuurgegevens>
    <StUF:berichtcode>Lv01</StUF:berichtcode>
    <StUF:zender><StUF:organisatie>1234</StUF:organisatie><StUF:applicatie>KCC</StUF:applicatie></StUF:zender>
    <StUF:ontvanger><StUF:organisatie>1234</StUF:organisatie><StUF:applicatie>STUFBROKER</StUF:applicatie></StUF:ontvanger>
    <StUF:referentienummer>bg-{os.getpid()}-{next(_n)}</StUF:referentienummer>
    <StUF:tijdstipBericht>20240101120000000</StUF:tijdstipBericht>
    <StUF:entiteittype>NPS</StUF:entiteittype>
  </BG:stuurgegevens>
  <BG:parameters>{params}</BG:parameters>
  <BG:gelijk StUF:entiteittype="NPS">{gelijk}</BG:gelijk>{extra}
  {scope}{start}
</BG:npsLv01>"""


def bsn(value: str, scope: str = SCOPE_VOLLEDIG, **kw: object) -> str:
    return npslv01(f"<BG:inp.bsn>{value}</BG:inp.bsn>", scope, **kw)  # type: ignore[arg-type]


def lk01(bsn_: str, mutatiesoort: str, referentie: str, applicatie: str = "KCC") -> str:
    return f"""<BG:npsLk01 xmlns:BG="{BG}" xmlns:StUF="{STUF}"><BG:stuurgegevens>
      <StUF:berichtcode>Lk01</StUF:berichtcode>
      <StUF:zender><StUF:organisatie>1234</StUF:organisatie><StUF:applicatie>{applicatie}</StUF:applicatie></StUF:zender>
      <StUF:ontvanger><StUF:organisatie>1234</StUF:organisatie><StUF:applicatie>STUFBROKER</StUF:applicatie></StUF:ontvanger>
      <StUF:referentienummer>{referentie}</StUF:referentienummer><StUF:tijdstipBericht>20240101120000000</StUF:tijdstipBericht>
      <StUF:entiteittype>NPS</StUF:entiteittype></BG:stuurgegevens>
      <BG:parameters><StUF:mutatiesoort>{mutatiesoort}</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername></BG:parameters>
      <BG:object StUF:entiteittype="NPS" StUF:verwerkingssoort="{'V' if mutatiesoort == 'V' else 'T'}">
        <BG:inp.bsn>{bsn_}</BG:inp.bsn><BG:geslachtsnaam>Wiel</BG:geslachtsnaam>
      </BG:object>
    </BG:npsLk01>"""


LK01_ACTION = "http://www.egem.nl/StUF/sector/bg/0310/npsLk01"
