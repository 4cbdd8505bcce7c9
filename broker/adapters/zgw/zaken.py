"""creeerZaak, updateZaak and actualiseerZaakstatus in the Zaken API (ZDS 1.2 §4.1.3-§4.1.5).

creeerZaak (a zakLk01 T) becomes, each call a step that a retry does not repeat:

1. ``POST /zaken``: identificatie, bronorganisatie and verantwoordelijkeOrganisatie (the RSIN of the
   gemeente the identificatie starts with), the zaaktype found in the Catalogi API, the dates,
   kenmerken, opschorting, verlenging, betalingsindicatie, archiefnominatie; the vertrouwelijkheid,
   defaults and overrides of the mapping;
2. ``POST /rollen`` per betrokkene relation (broker.adapters.zgw.rollen);
3. ``POST /zaakobjecten`` per ``heeftBetrekkingOp`` (objectType ``overige``: the StUF object, by its
   element name, with its gegevens in ``overigeData``);
4. ``POST /resultaten`` when the zaak comes with a resultaat, ``POST /statussen`` per status (``heeft``).

updateZaak (W): ``PATCH /zaken/{uuid}`` with what the new object holds; betrokkene relations follow
their verwerkingssoort (T: a new rol; V and E: the rol is deleted; R and W: deleted and created anew,
a ZGW rol cannot be changed; I: nothing); a status or zaakobject the new object adds (T) is posted, a
related zaak it adds joins ``relevanteAndereZaken``, a deelzaak it adds gets this zaak as ``hoofdzaak``. actualiseerZaakstatus: the same for the zaak's own data, then
the status; an eindstatus (``isEindstatus``) first needs a resultaat (Zaken API: a zaak is closed with
its resultaat) — the one the message names, else the mapping's ``resultaat``, else the zaaktype's only
resultaattype. StUF relations that ZGW cannot hold (tijdvakRelatie, deelzaken that do not exist, a
besluit named inside creeerZaak: besluiten come with voegBesluitToe) are not sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from broker.adapters.zgw import rollen
from broker.adapters.zgw.base import Work, ZgwBase
from broker.adapters.zgw.catalogi import by_omschrijving, omschrijvingen
from broker.adapters.zgw.client import ZgwError
from broker.adapters.zgw.convert import archiefnominatie_in, betalingsindicatie_in, date_in, duur_in, tijdstip_in
from broker.errors import StufError
from broker.mappings.mapping import Profile
from broker.model import Rol, Status, Zaak, ZaakObject
from broker.model.ports import Context

#: fields of the case model's zaak and the ZGW field each becomes (dates converted)
_DATES = {"startdatum": "startdatum", "registratiedatum": "registratiedatum", "publicatiedatum": "publicatiedatum",
          "einddatum_gepland": "einddatumGepland", "uiterlijke_einddatum": "uiterlijkeEinddatumAfdoening",
          "datum_vernietiging_dossier": "archiefactiedatum"}
_TEXTS = {"omschrijving": "omschrijving", "toelichting": "toelichting"}


def _today() -> str:
    return date.today().isoformat()


class ZakenMixin(ZgwBase):
    # -- creeerZaak ----------------------------------------------------------------------------
    def creeer_zaak(self, ctx: Context, zaak: Zaak) -> None:
        work = self._work(ctx)
        code = zaak.zaaktype.code if zaak.zaaktype else None
        zaaktype = self.catalogi.zaaktype(work.mappings.catalogi_zaaktype(code or ""), code)
        profile = self._profile(work, code)
        rsin = self._rsin(work, zaak.identificatie)

        def find() -> str | None:  # created by an attempt whose answer was lost
            found = self._find_zaak(work, zaak.identificatie)
            return found["url"] if found is not None and found.get("zaaktype") == zaaktype["url"] else None

        def create() -> str:
            body = {"identificatie": zaak.identificatie, "bronorganisatie": rsin, "verantwoordelijkeOrganisatie": rsin,
                    "zaaktype": zaaktype["url"], **self._zaak_fields(work, zaak, profile)}
            body.setdefault("registratiedatum", _today())
            body.setdefault("startdatum", body["registratiedatum"])
            if profile.vertrouwelijkheidaanduiding:
                body["vertrouwelijkheidaanduiding"] = profile.vertrouwelijkheidaanduiding
            hoofdzaak = self._related_zaak(work, zaak.hoofdzaak)
            if hoofdzaak:
                body["hoofdzaak"] = hoofdzaak
            andere = [url for url in map(lambda i: self._related_zaak(work, i), zaak.andere_zaken) if url]
            if andere:
                body["relevanteAndereZaken"] = [{"url": url, "aardRelatie": "bijdrage"} for url in andere]
            profile.apply("zaak", body)
            try:
                created = self.client.post(self.client.url("zaken", "zaken"), body, work.user)
            except ZgwError as exc:
                if exc.has_param_code("identificatie-niet-uniek"):
                    raise StufError("StUF058", f"Zaak {zaak.identificatie} bestaat al",
                                    "creeerZaak met een identificatie die al in gebruik is (ZDS 1.2 §4.1.4)", plek="client") from None
                raise
            return created["url"]

        url = work.step("zaak", lambda: work.create_once("zaak", find, create))
        for i, rol in enumerate(zaak.rollen):
            if rol.betrokkene is not None:
                work.step(f"rol:{i}", partial(self._add_rol, work, url, zaaktype, code, rol, f"rol:{i}"))
        for i, obj in enumerate(zaak.zaakobjecten):
            work.step(f"zaakobject:{i}", partial(self._add_zaakobject, work, url, obj, f"zaakobject:{i}"))
        if zaak.resultaat_omschrijving:
            work.step("resultaat", lambda: self._add_resultaat(work, url, zaaktype, code, zaak))
        for i, status in enumerate(zaak.statussen):
            work.step(f"status:{i}", partial(self._add_status, work, url, zaaktype, code, status, zaak, f"status:{i}"))

    # -- updateZaak ----------------------------------------------------------------------------
    def update_zaak(self, ctx: Context, oud: Zaak, nieuw: Zaak) -> None:
        work = self._work(ctx)
        zaak, zaaktype, code = self._update(work, oud, nieuw)
        # relations the new object adds (T) that ZGW keeps as parts of their own: a new status (a real
        # client's way of setting one with updateZaak), a new zaakobject
        for i, obj in enumerate(o for o in nieuw.zaakobjecten if o.verwerkingssoort == "T"):
            step = f"zaakobject+:{i}"
            work.step(step, partial(self._add_zaakobject, work, zaak["url"], obj, step))
        for i, status in enumerate(s for s in nieuw.statussen if s.verwerkingssoort == "T"):
            step = f"status+:{i}"
            work.step(step, partial(self._add_status, work, zaak["url"], zaaktype, code, status, nieuw, step))
        andere = [i for i in nieuw.andere_zaken if i not in oud.andere_zaken]
        if andere:
            work.step("andere-zaken+", lambda: self._relate_andere(work, zaak, andere))
        for i, ident in enumerate(d for d in nieuw.deelzaken if d not in oud.deelzaken):
            work.step(f"deelzaak+:{i}", partial(self._relate_deelzaak, work, zaak["url"], ident))

    def _relate_andere(self, work: Work, zaak: dict[str, Any], identificaties: list[str]) -> None:
        """relevanteAndereZaken gains the zaken the new object adds (those the Zaken API has)."""
        current = list(zaak.get("relevanteAndereZaken") or [])
        known = {r.get("url") for r in current}
        new = [u for u in (self._related_zaak(work, i) for i in identificaties) if u and u not in known]
        if new:
            self.client.patch(zaak["url"], {"relevanteAndereZaken": current + [
                {"url": u, "aardRelatie": "bijdrage"} for u in new]}, work.user)

    def _relate_deelzaak(self, work: Work, hoofdzaak_url: str, identificatie: str) -> None:
        """A deelzaak is a zaak whose hoofdzaak is this one (``deelzaken`` is read-only in the Zaken API)."""
        deelzaak = self._find_zaak(work, identificatie)
        if deelzaak is not None and deelzaak.get("hoofdzaak") != hoofdzaak_url:
            self.client.patch(deelzaak["url"], {"hoofdzaak": hoofdzaak_url}, work.user)

    def _update(self, work: Work, oud: Zaak, nieuw: Zaak) -> tuple[dict[str, Any], dict[str, Any], str]:
        found = self._zaak(work, oud.identificatie or nieuw.identificatie)
        zaaktype = self._zaaktype_of(found)
        code = self._zds_code(work, zaaktype)
        if nieuw.zaaktype and nieuw.zaaktype.code and nieuw.zaaktype.code != code:
            raise StufError("StUF058", f"Het zaaktype van zaak {found['identificatie']} kan niet worden gewijzigd",
                            f"de zaak heeft zaaktype {code}; de Zaken API staat geen ander zaaktype toe", plek="client")
        profile = self._profile(work, code)
        # StUF 03.01 §5: what the new object holds differently from the old one is the change
        before = self._zaak_fields(work, oud, profile, changed_only=True)
        changes = {k: v for k, v in self._zaak_fields(work, nieuw, profile, changed_only=True).items()
                   if (k not in before or before[k] != v) and found.get(k) != v}
        if changes:
            work.step("zaak", lambda: self.client.patch(found["url"], changes, work.user)["url"])
        self._update_rollen(work, found, zaaktype, code, oud, nieuw)
        if nieuw.resultaat_omschrijving and nieuw.resultaat_omschrijving != oud.resultaat_omschrijving:
            work.step("resultaat", lambda: self._add_resultaat(work, found["url"], zaaktype, code, nieuw))
        return found, zaaktype, code

    def _update_rollen(self, work: Work, zaak: dict[str, Any], zaaktype: dict[str, Any], code: str,
                       oud: Zaak, nieuw: Zaak) -> None:
        existing: list[dict[str, Any]] | None = None

        def current() -> list[dict[str, Any]]:
            nonlocal existing
            if existing is None:
                existing = self.client.all(self.client.url("zaken", "rollen"), {"zaak": zaak["url"]}, work.user)
            return existing

        for name in rollen.GENERIEK:
            olds = [r for r in oud.rollen if r.relatie == name]
            news = [r for r in nieuw.rollen if r.relatie == name]
            for i in range(max(len(olds), len(news))):
                old = olds[i] if i < len(olds) else None
                new = news[i] if i < len(news) else None
                soort = (new if new is not None else old).verwerkingssoort  # type: ignore[union-attr]
                if soort in (None, "I"):
                    continue
                if soort in ("V", "E", "R", "W") and old is not None and old.betrokkene is not None:
                    for rol in [r for r in current() if rollen.same_betrokkene(r, old.betrokkene)
                                and self._relatie_of(work, r, code) == name]:
                        work.step(f"rol-{name}:{i}:{rol['url']}", partial(self.client.delete, rol["url"], work.user))
                        current().remove(rol)
                if soort in ("T", "R", "W") and new is not None:
                    if new.betrokkene is None:
                        continue
                    if soort == "T" and name == "heeftAlsInitiator":  # one initiator (RGBZ): the new replaces the old
                        for rol in [r for r in current() if self._relatie_of(work, r, code) == name]:
                            work.step(f"rol-{name}:{i}:{rol['url']}",
                                      partial(self.client.delete, rol["url"], work.user))
                            current().remove(rol)
                    step = f"rol+{name}:{i}"
                    work.step(step, partial(self._add_rol, work, zaak["url"], zaaktype, code, new, step))

    def _relatie_of(self, work: Work, zgw_rol: dict[str, Any], code: str) -> str:
        return rollen.relatie(zgw_rol, self.catalogi.resource(zgw_rol["roltype"]), work.mappings.zaaktype(code))

    # -- actualiseerZaakstatus -----------------------------------------------------------------
    def actualiseer_zaakstatus(self, ctx: Context, oud: Zaak, nieuw: Zaak, status: Status) -> None:
        work = self._work(ctx)
        zaak, zaaktype, code = self._update(work, oud, nieuw)
        statustype = self._statustype(work, zaaktype, code, status)
        if statustype.get("isEindstatus") and not zaak.get("resultaat") and not work.done("resultaat"):
            work.step("resultaat", lambda: self._add_resultaat(work, zaak["url"], zaaktype, code, nieuw))
        work.step("status", lambda: self._post_status(work, zaak["url"], statustype, status, code, "status"))

    # -- parts ---------------------------------------------------------------------------------
    def _zaak_fields(self, work: Work, z: Zaak, profile: Profile, *, changed_only: bool = False) -> dict[str, Any]:
        """The ZGW fields of the zaak's data: those the message included (``Zaak.present``; for a W the
        changes, where an included field without a value empties it)."""
        body: dict[str, Any] = {}
        present = z.present
        for name, field in _TEXTS.items():
            if name in present:
                body[field] = getattr(z, name) or ""
        for name, field in _DATES.items():
            if name in present:
                body[field] = date_in(getattr(z, name))
        if "kenmerken" in present:
            body["kenmerken"] = [{"kenmerk": k["kenmerk"], "bron": k.get("bron") or work.zender or "ZDS"}
                                 for k in z.kenmerken if k.get("kenmerk")]
        if "archiefnominatie" in present:
            body["archiefnominatie"] = profile.to_zgw("zaak.archiefnominatie", archiefnominatie_in(z.archiefnominatie))
        if "betalingsindicatie" in present:
            body["betalingsindicatie"] = profile.to_zgw("zaak.betalingsindicatie",
                                                        betalingsindicatie_in(z.betalingsindicatie)) or ""
        if "laatste_betaaldatum" in present:
            day = date_in(z.laatste_betaaldatum)
            body["laatsteBetaaldatum"] = f"{day}T00:00:00Z" if day else None
        if "opschorting" in present:
            o = z.opschorting
            body["opschorting"] = {"indicatie": bool(o and o.indicatie), "reden": (o.reden if o else None) or ""}
        if "verlenging" in present:
            v = z.verlenging
            body["verlenging"] = ({"reden": v.reden or "", "duur": duur_in(v.duur)}
                                  if v is not None and v.duur is not None else None)
        if not changed_only:
            body = {k: v for k, v in body.items() if v is not None}
        return body

    def _related_zaak(self, work: Work, ident: str | None) -> str | None:
        """URL of a zaak the message relates to, when the Zaken API has it (otherwise not sent)."""
        found = self._find_zaak(work, ident) if ident else None
        return found["url"] if found else None

    def _add_rol(self, work: Work, zaak_url: str, zaaktype: dict[str, Any], code: str | None, rol: Rol,
                 step: str) -> str:
        assert rol.betrokkene is not None
        roltype = rollen.roltype(self.catalogi.roltypen(zaaktype["url"]), work.mappings.zaaktype(code), rol,
                                 code or zaaktype.get("identificatie", ""))
        kind, ident = rollen.identificatie(rol.betrokkene)
        body: dict[str, Any] = {"zaak": zaak_url, "betrokkeneType": kind, "roltype": roltype["url"],
                                "roltoelichting": rol.toelichting or "",
                                "betrokkeneIdentificatie": ident}
        if rol.relatie == "heeftAlsGemachtigde":
            body["indicatieMachtiging"] = "gemachtigde"
        contact = rollen.contactpersoon_in(rol.contactpersoon)
        if contact is not None:
            body["contactpersoonRol"] = contact
        self._profile(work, code).apply("rol", body)
        return self._post_part(work, step, "rollen", body, {"zaak": zaak_url, "roltype": roltype["url"]}, _same_rol)

    def _add_zaakobject(self, work: Work, zaak_url: str, obj: ZaakObject, step: str) -> str:
        body = {"zaak": zaak_url, "objectType": "overige", "objectTypeOverige": obj.soort[:100],
                "relatieomschrijving": (obj.omschrijving or "")[:80],
                "objectIdentificatie": {"overigeData": dict(obj.gegevens)}}
        return self._post_part(work, step, "zaakobjecten", body, {"zaak": zaak_url, "objectType": "overige"},
                               _same_fields("objectTypeOverige", "relatieomschrijving", "objectIdentificatie"))

    def _statustype(self, work: Work, zaaktype: dict[str, Any], code: str | None, status: Status) -> dict[str, Any]:
        statustypen = self.catalogi.statustypen(zaaktype["url"])
        mapping = work.mappings.zaaktype(code)
        wanted = mapping.statustypen.get(status.code or "") if status.code else None
        if wanted is None and status.omschrijving:
            wanted = mapping.statustypen.get(status.omschrijving)
        if wanted is not None:
            for st in statustypen:
                if (isinstance(wanted, int) and st.get("volgnummer") == wanted) or st.get("omschrijving") == wanted:
                    return st
        else:
            for st in statustypen:
                if status.omschrijving and st.get("omschrijving") == status.omschrijving:
                    return st
            volgnummer = (status.volgnummer or "").lstrip("0")
            for st in statustypen:
                if volgnummer.isdigit() and st.get("volgnummer") == int(volgnummer):
                    return st
        known = ", ".join(f"{s.get('volgnummer')} {s.get('omschrijving')}" for s in statustypen) or "geen"
        raise StufError(
            "StUF064",
            f"Onbekend statustype {status.code or status.omschrijving or status.volgnummer} voor zaaktype {code}",
            f"statustype code {status.code!r} / omschrijving {status.omschrijving!r} bestaat niet bij zaaktype "
            f"{code}" + (f" (de mapping noemt {wanted!r})" if wanted is not None else "")
            + f"; statustypen in de Catalogi API: {known}",
            plek="client",
        )

    def _add_status(self, work: Work, zaak_url: str, zaaktype: dict[str, Any], code: str | None,
                    status: Status, zaak: Zaak, step: str) -> str:
        statustype = self._statustype(work, zaaktype, code, status)
        if statustype.get("isEindstatus") and not work.done("resultaat"):
            work.step("resultaat", lambda: self._add_resultaat(work, zaak_url, zaaktype, code, zaak))
        return self._post_status(work, zaak_url, statustype, status, code, step)

    def _post_status(self, work: Work, zaak_url: str, statustype: dict[str, Any], status: Status,
                     code: str | None, step: str) -> str:
        gezet = tijdstip_in(status.datum_status_gezet) or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"zaak": zaak_url, "statustype": statustype["url"], "datumStatusGezet": gezet,
                "statustoelichting": status.toelichting or ""}
        self._profile(work, code).apply("status", body)
        return self._post_part(work, step, "statussen", body, {"zaak": zaak_url, "statustype": statustype["url"]},
                               _same_status, keep=("datumStatusGezet",))

    def _add_resultaat(self, work: Work, zaak_url: str, zaaktype: dict[str, Any], code: str | None, zaak: Zaak) -> str:
        resultaattypen = self.catalogi.resultaattypen(zaaktype["url"])
        mapping = work.mappings.zaaktype(code)
        wanted = (mapping.resultaattypen.get(zaak.resultaat_omschrijving or "") or zaak.resultaat_omschrijving
                  or mapping.resultaat)
        chosen = by_omschrijving(resultaattypen, wanted, only_one_when_unnamed=not wanted)
        if chosen is None:
            known = omschrijvingen(resultaattypen)
            raise StufError(
                "StUF058",
                f"Geen resultaat om de zaak mee af te sluiten (zaaktype {code})",
                (f"resultaattype {wanted!r} bestaat niet bij het zaaktype" if wanted else
                 "de eindstatus vraagt een resultaat; het bericht noemt er geen en de mapping geen 'resultaat'")
                + f"; resultaattypen in de Catalogi API: {known}",
                plek="client" if zaak.resultaat_omschrijving else "server",  # the message named it, or the mapping
            )
        body = {"zaak": zaak_url, "resultaattype": chosen["url"], "toelichting": zaak.resultaat_toelichting or ""}
        self._profile(work, code).apply("resultaat", body)
        try:
            return self.client.post(self.client.url("zaken", "resultaten"), body, work.user)["url"]
        except ZgwError as exc:
            if not (exc.status == 400 and exc.has_param_code("unique")):
                raise
        # a zaak has one resultaat (Zaken API): the one it has already gets the new resultaattype
        existing = self.client.all(self.client.url("zaken", "resultaten"), {"zaak": zaak_url}, work.user)
        if not existing:
            raise StufError("StUF058", "Het resultaat van de zaak kon niet worden vastgelegd", plek="server")
        if (existing[0].get("resultaattype"), existing[0].get("toelichting")) != (body["resultaattype"], body["toelichting"]):
            self.client.patch(existing[0]["url"], body, work.user)
        return existing[0]["url"]


# -- is a listed part the one a lost request created? ------------------------------------------
def _same_rol(item: dict[str, Any], sent: dict[str, Any]) -> bool:
    """The same kind of betrokkene with the identifying values sent (the API fills in the rest)."""
    if item.get("betrokkeneType") != sent["betrokkeneType"]:
        return False
    listed = item.get("betrokkeneIdentificatie") or {}
    return all(listed.get(k) == v for k, v in sent["betrokkeneIdentificatie"].items()
               if v not in ("", None) and not isinstance(v, (dict, list)))


def _same_status(item: dict[str, Any], sent: dict[str, Any]) -> bool:
    return _instant(item.get("datumStatusGezet")) == _instant(sent["datumStatusGezet"])


def _instant(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _same_fields(*names: str) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    return lambda item, sent: all(item.get(n) == sent.get(n) for n in names)
