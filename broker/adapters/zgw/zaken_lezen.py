"""geefZaakdetails and geefZaakstatus from the Zaken API (ZDS 1.2 §4.1.1, §4.1.2): a ZAAK with its
zaaktype, resultaat, rollen and statussen as the case model (broker.model), without StUF; the ZDS
service of the koppelvlak builds the StUF answer from it.

The zaaktype code is the mapping read backwards (Catalogi identificatie -> ZDS code), a status code
likewise (statustype -> the ZDS code the mapping names for it); values translated on the way in
(``waarden``) are translated back.
"""

from __future__ import annotations

from typing import Any

from broker.adapters.zgw import rollen
from broker.adapters.zgw.base import Work, ZgwBase
from broker.adapters.zgw.convert import (
    archiefnominatie_out,
    betalingsindicatie_out,
    date_out,
    duur_out,
    tijdstip_out,
)
from broker.mappings.schema import ZaaktypeMapping
from broker.model import Opschorting, Rol, Status, Verlenging, Zaak, ZaakObject, ZaakType
from broker.model.ports import Context
from broker.model.selectie import ZaakSelectie


def status_code(mapping: ZaaktypeMapping, statustype: dict[str, Any]) -> str | None:
    """The ZDS status code the mapping gives this statustype (None when it names only omschrijvingen)."""
    for key, wanted in mapping.statustypen.items():
        hit = (wanted == statustype.get("volgnummer")) if isinstance(wanted, int) else wanted == statustype.get("omschrijving")
        if hit and key != statustype.get("omschrijving"):
            return key
    return None


class ZakenLezenMixin(ZgwBase):
    def geef_zaak(self, ctx: Context, identificatie: str) -> Zaak | None:
        work = self._work(ctx)
        found = self._find_zaak(work, identificatie)
        if found is None:
            return None
        return self._zaak_model(work, found)

    def zoek_zaken(self, ctx: Context, selectie: ZaakSelectie) -> list[Zaak]:
        """``GET /zaken?rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn=`` (and the zaaktype); the
        filter matches any rol of the person, so the initiator is checked on each zaak's rollen."""
        work = self._work(ctx)
        params = {"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": selectie.initiator_bsn,
                  "rol__omschrijvingGeneriek": "initiator"}
        if selectie.zaaktype_code:
            zaaktype = self.catalogi.zaaktype(work.mappings.catalogi_zaaktype(selectie.zaaktype_code),
                                              selectie.zaaktype_code)
            params["zaaktype"] = zaaktype["url"]
        found = self.client.all(self.client.url("zaken", "zaken"), params, work.user)
        zaken = [self._zaak_model(work, z) for z in sorted(found, key=lambda z: z.get("identificatie") or "")]
        if selectie.zaaktype_omschrijving and not selectie.zaaktype_code:
            zaken = [z for z in zaken if z.zaaktype and z.zaaktype.omschrijving == selectie.zaaktype_omschrijving]
        return [z for z in zaken if any(r.relatie == "heeftAlsInitiator" and r.betrokkene is not None
                                        and r.betrokkene.bsn == selectie.initiator_bsn for r in z.rollen)]

    def _zaak_model(self, work: Work, zaak: dict[str, Any]) -> Zaak:
        zaaktype = self._zaaktype_of(zaak)
        code = self._zds_code(work, zaaktype)
        profile = self._profile(work, code)
        mapping = work.mappings.zaaktype(code)
        model = Zaak(
            identificatie=zaak.get("identificatie"),
            omschrijving=zaak.get("omschrijving") or None,
            toelichting=zaak.get("toelichting") or None,
            zaaktype=ZaakType(code=code, omschrijving=zaaktype.get("omschrijving"),
                              ingangsdatum=date_out(zaaktype.get("beginGeldigheid"))),
            startdatum=date_out(zaak.get("startdatum")),
            registratiedatum=date_out(zaak.get("registratiedatum")),
            publicatiedatum=date_out(zaak.get("publicatiedatum")),
            einddatum_gepland=date_out(zaak.get("einddatumGepland")),
            uiterlijke_einddatum=date_out(zaak.get("uiterlijkeEinddatumAfdoening")),
            einddatum=date_out(zaak.get("einddatum")),
            archiefnominatie=archiefnominatie_out(profile.from_zgw("zaak.archiefnominatie", zaak.get("archiefnominatie"))),
            datum_vernietiging_dossier=date_out(zaak.get("archiefactiedatum")),
            opschorting=_opschorting(zaak.get("opschorting")),
            verlenging=_verlenging(zaak.get("verlenging")),
            betalingsindicatie=betalingsindicatie_out(profile.from_zgw("zaak.betalingsindicatie",
                                                                       zaak.get("betalingsindicatie"))),
            laatste_betaaldatum=date_out(zaak.get("laatsteBetaaldatum")),
            # both derived by the Zaken API: a deelzaak has a hoofdzaak; deelzaken is read-only
            zaakniveau="2" if zaak.get("hoofdzaak") else "1",
            deelzaken_indicatie="J" if zaak.get("deelzaken") else "N",
            kenmerken=[{"kenmerk": k.get("kenmerk"), "bron": k.get("bron")} for k in zaak.get("kenmerken") or []],
        )
        if zaak.get("resultaat"):
            resultaat = self.client.get(zaak["resultaat"], user=work.user)
            resultaattype = self.catalogi.resource(resultaat["resultaattype"])
            omschrijving = resultaattype.get("omschrijving")
            back = [k for k, v in mapping.resultaattypen.items() if v == omschrijving]
            model.resultaat_omschrijving = back[0] if back else omschrijving
            model.resultaat_toelichting = resultaat.get("toelichting") or None
        for rol in self.client.pages(self.client.url("zaken", "rollen"), {"zaak": zaak["url"]}, work.user):
            roltype = self.catalogi.resource(rol["roltype"])
            model.rollen.append(Rol(
                relatie=rollen.relatie(rol, roltype, mapping),
                betrokkene=rollen.betrokkene(rol.get("betrokkeneType", ""), rol.get("betrokkeneIdentificatie") or {}),
                rolomschrijving=roltype.get("omschrijving") or None,
                toelichting=rol.get("roltoelichting") or None,
                contactpersoon=rollen.contactpersoon_out(rol.get("contactpersoonRol")),
            ))
        model.statussen = self._statussen(work, zaak, zaaktype, code, mapping)
        model.zaakobjecten = self._zaakobjecten(work, zaak)
        return model

    def _zaakobjecten(self, work: Work, zaak: dict[str, Any]) -> list[ZaakObject]:
        """The zaakobjecten the adapter registered (objectType overige: the StUF object's kind and its
        gegevens, see ZakenMixin._add_zaakobject)."""
        out = []
        for obj in self.client.pages(self.client.url("zaken", "zaakobjecten"), {"zaak": zaak["url"]}, work.user):
            if obj.get("objectType") != "overige" or not obj.get("objectTypeOverige"):
                continue
            data = (obj.get("objectIdentificatie") or {}).get("overigeData") or {}
            out.append(ZaakObject(soort=obj["objectTypeOverige"], omschrijving=obj.get("relatieomschrijving") or None,
                                  gegevens={k: str(v) for k, v in data.items() if isinstance(v, (str, int, float))}))
        return out

    def _statussen(self, work: Work, zaak: dict[str, Any], zaaktype: dict[str, Any], code: str,
                   mapping: ZaaktypeMapping) -> list[Status]:
        found = list(self.client.pages(self.client.url("zaken", "statussen"), {"zaak": zaak["url"]}, work.user))
        found.sort(key=lambda s: s.get("datumStatusGezet") or "")  # stable: equal moments keep the API's order
        out = []
        for s in found:
            statustype = self.catalogi.resource(s["statustype"])
            out.append(Status(
                zaaktype_code=code,
                zaaktype_omschrijving=zaaktype.get("omschrijving"),
                code=status_code(mapping, statustype),
                omschrijving=statustype.get("omschrijving"),
                volgnummer=str(statustype.get("volgnummer")) if statustype.get("volgnummer") is not None else None,
                datum_status_gezet=tijdstip_out(s.get("datumStatusGezet")),
                toelichting=s.get("statustoelichting") or None,
                indicatie_laatste_status="J" if s.get("indicatieLaatstGezetteStatus") else "N",
            ))
        return out


def _opschorting(value: dict[str, Any] | None) -> Opschorting | None:
    """The Zaken API answers an opschorting for every zaak: one that is not on and has no reden is none."""
    if not value or (not value.get("indicatie") and not value.get("reden")):
        return None
    return Opschorting(indicatie=bool(value.get("indicatie")), reden=value.get("reden") or None)


def _verlenging(value: dict[str, Any] | None) -> Verlenging | None:
    duur = duur_out((value or {}).get("duur"))
    if duur is None:
        return None
    return Verlenging(duur=duur, reden=(value or {}).get("reden") or None)
