"""Besluiten in the Besluiten API 1.0.2 (ZDS 1.2 §4.1.7-§4.1.11).

voegBesluitToe: ``POST /besluiten`` (identificatie, verantwoordelijkeOrganisatie, the besluittype the
mapping names for ``bst.omschrijving`` among the zaaktype's besluittypen, the zaak, datum,
ingangsdatum, vervaldatum, toelichting), then ``POST /besluitinformatieobjecten`` per document it is
vastgelegd in (each document must exist: StUF064). updateBesluit: ``PATCH`` with what the new object
holds; documents only the new object names are linked, those only the old object names unlinked.
geefBesluitdetails / geefLijstBesluiten read them back (``GET /besluiten?identificatie=``,
``?zaak=``) into the case model.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from broker.adapters.zgw.base import Work, ZgwBase
from broker.adapters.zgw.catalogi import by_omschrijving, omschrijvingen
from broker.adapters.zgw.client import ZgwError
from broker.adapters.zgw.convert import date_in, date_out, vervalreden_in, vervalreden_out
from broker.errors import StufError
from broker.model import Besluit
from broker.model.ports import Context

#: fields of the case model's besluit and the ZGW field each becomes (dates converted)
_DATES = {"datum_beslissing": "datum", "ingangsdatum": "ingangsdatum", "vervaldatum": "vervaldatum",
          "publicatiedatum": "publicatiedatum", "verzenddatum": "verzenddatum",
          "uiterlijke_reactiedatum": "uiterlijkeReactiedatum"}


class BesluitenMixin(ZgwBase):
    def voeg_besluit_toe(self, ctx: Context, besluit: Besluit) -> None:
        work = self._work(ctx)
        if not besluit.zaak_identificatie:
            raise StufError("StUF058", f"Besluit {besluit.identificatie} noemt geen zaak",
                            "de Besluiten API vraagt het besluittype van het zaaktype van de zaak; stuur "
                            "voegBesluitToe_Di01 met object/zaak (een ZDS 1.1 bslLk01 noemt de zaak niet)",
                            plek="server")
        zaak = self._zaak(work, besluit.zaak_identificatie)
        zaaktype = self._zaaktype_of(zaak)
        code = self._zds_code(work, zaaktype)
        besluittype = self._besluittype(work, zaaktype, code, besluit.besluittype)
        documents = [self._document_resource(work, d) for d in dict.fromkeys(besluit.document_identificaties)]
        profile = self._profile(work, code)

        def find() -> str | None:  # created by an attempt whose answer was lost
            found = self._find_besluit(work, besluit.identificatie)
            return found["url"] if found is not None else None

        def create() -> str:
            body = {"identificatie": besluit.identificatie, "verantwoordelijkeOrganisatie": self._rsin(work, zaak.get("identificatie")),
                    "besluittype": besluittype["url"], "zaak": zaak["url"], **self._fields(besluit)}
            body.setdefault("datum", date_in(besluit.datum_beslissing))
            body.setdefault("ingangsdatum", date_in(besluit.ingangsdatum))
            profile.apply("besluit", body)
            try:
                return self.client.post(self.client.url("besluiten", "besluiten"), body, work.user)["url"]
            except ZgwError as exc:
                if exc.has_param_code("identificatie-niet-uniek"):
                    raise StufError("StUF058", f"Besluit {besluit.identificatie} bestaat al",
                                    "voegBesluitToe met een besluitidentificatie die al in gebruik is (ZDS 1.2 §4.1.7)", plek="client"
                                    ) from None
                raise

        url = work.step("besluit", lambda: work.create_once("besluit", find, create))
        for doc in documents:
            work.step(f"document:{doc['identificatie']}", partial(self._link_document, work, url, doc["url"]))

    def update_besluit(self, ctx: Context, oud: Besluit, nieuw: Besluit) -> None:
        work = self._work(ctx)
        found = self._find_besluit(work, oud.identificatie or nieuw.identificatie)
        if found is None:
            raise StufError("StUF064", f"Besluit {oud.identificatie or nieuw.identificatie} niet gevonden",
                            "er is geen besluit met deze identificatie in de Besluiten API", plek="client")
        before = self._fields(oud, changed_only=True)
        changes = {k: v for k, v in self._fields(nieuw, changed_only=True).items()
                   if (k not in before or before[k] != v) and found.get(k) != v}
        if nieuw.besluittype and nieuw.besluittype != oud.besluittype and found.get("zaak"):
            zaak = self.client.get(found["zaak"], user=work.user)
            zaaktype = self._zaaktype_of(zaak)
            changes["besluittype"] = self._besluittype(work, zaaktype, self._zds_code(work, zaaktype),
                                                       nieuw.besluittype)["url"]
        if changes:
            # Besluiten API 1.0.2 validates a PATCH body against the whole Besluit: send its required fields too
            required = {k: found.get(k) for k in ("verantwoordelijkeOrganisatie", "besluittype", "datum", "ingangsdatum")}
            work.step("besluit", lambda: self.client.patch(found["url"], {**required, **changes}, work.user)["url"])
        linked = {link["informatieobject"]: link for link in self.client.all(
            self.client.url("besluiten", "besluitinformatieobjecten"), {"besluit": found["url"]}, work.user)}
        for ident in [d for d in nieuw.document_identificaties if d not in oud.document_identificaties]:
            doc = self._document_resource(work, ident)
            if doc["url"] not in linked:
                work.step(f"document+:{ident}", partial(self._link_document, work, found["url"], doc["url"]))
        for ident in [d for d in oud.document_identificaties if d not in nieuw.document_identificaties]:
            unlinked = self._find_document(work, ident)
            link = linked.get(unlinked["url"]) if unlinked else None
            if link is not None:
                work.step(f"document-:{ident}", partial(self.client.delete, link["url"], work.user))

    def geef_besluit(self, ctx: Context, identificatie: str) -> Besluit | None:
        work = self._work(ctx)
        found = self._find_besluit(work, identificatie)
        return self._besluit_model(work, found) if found is not None else None

    def geef_besluiten(self, ctx: Context, zaak_identificatie: str) -> list[Besluit] | None:
        work = self._work(ctx)
        zaak = self._find_zaak(work, zaak_identificatie)
        if zaak is None:
            return None
        found = self.client.all(self.client.url("besluiten", "besluiten"), {"zaak": zaak["url"]}, work.user)
        return sorted((self._besluit_model(work, b, zaak) for b in found), key=lambda b: b.identificatie or "")

    # -- helpers -------------------------------------------------------------------------------
    def _fields(self, besluit: Besluit, *, changed_only: bool = False) -> dict[str, Any]:
        """The ZGW fields of what the message included (``Besluit.present``; for a W the changes)."""
        body: dict[str, Any] = {}
        present = besluit.present
        for name, field in _DATES.items():
            if name in present:
                body[field] = date_in(getattr(besluit, name))
        if "toelichting" in present:
            body["toelichting"] = besluit.toelichting or ""
        if "vervalreden" in present and vervalreden_in(besluit.vervalreden):
            # Besluiten API 1.0.2: vervalreden is one of its values, never empty (it cannot be cleared)
            body["vervalreden"] = vervalreden_in(besluit.vervalreden)
        if not changed_only:
            body = {k: v for k, v in body.items() if v is not None}
        return body

    def _besluittype(self, work: Work, zaaktype: dict[str, Any], code: str | None,
                     omschrijving: str | None) -> dict[str, Any]:
        besluittypen = self.catalogi.besluittypen(zaaktype)
        mapping = work.mappings.zaaktype(code)
        wanted = mapping.besluittypen.get(omschrijving or "") or omschrijving or mapping.besluittype
        found = by_omschrijving(besluittypen, wanted, only_one_when_unnamed=not wanted)
        if found is not None:
            return found
        raise StufError("StUF058", f"Besluittype {omschrijving} hoort niet bij zaaktype {code}",
                        f"besluittype {wanted!r} is geen besluittype van het zaaktype; besluittypen: "
                        f"{omschrijvingen(besluittypen)}; zie 'besluittypen' in de mapping", plek="client")

    def _find_besluit(self, work: Work, identificatie: str | None) -> dict[str, Any] | None:
        if not identificatie:
            return None
        found = self.client.all(self.client.url("besluiten", "besluiten"), {"identificatie": identificatie}, work.user)
        return found[0] if found else None

    def _link_document(self, work: Work, besluit_url: str, document_url: str) -> str:
        body = {"besluit": besluit_url, "informatieobject": document_url}
        try:
            return self.client.post(self.client.url("besluiten", "besluitinformatieobjecten"), body, work.user)["url"]
        except ZgwError as exc:
            if exc.has_param_code("unique"):  # linked already
                return document_url
            raise

    def _besluit_model(self, work: Work, besluit: dict[str, Any], zaak: dict[str, Any] | None = None) -> Besluit:
        if zaak is None and besluit.get("zaak"):
            zaak = self.client.get(besluit["zaak"], user=work.user)
        besluittype = self.catalogi.resource(besluit["besluittype"])
        code = self._zds_code(work, self._zaaktype_of(zaak)) if zaak else None
        omschrijving = besluittype.get("omschrijving")
        back = [k for k, v in work.mappings.zaaktype(code).besluittypen.items() if v == omschrijving]
        links = self.client.all(self.client.url("besluiten", "besluitinformatieobjecten"),
                                {"besluit": besluit["url"]}, work.user)
        documents = [self.client.get(link["informatieobject"], user=work.user).get("identificatie") for link in links]
        return Besluit(
            identificatie=besluit.get("identificatie"),
            besluittype=back[0] if back else omschrijving,
            datum_beslissing=date_out(besluit.get("datum")),
            toelichting=besluit.get("toelichting") or None,
            ingangsdatum=date_out(besluit.get("ingangsdatum")),
            vervaldatum=date_out(besluit.get("vervaldatum")),
            vervalreden=vervalreden_out(besluit.get("vervalreden")),
            publicatiedatum=date_out(besluit.get("publicatiedatum")),
            verzenddatum=date_out(besluit.get("verzenddatum")),
            uiterlijke_reactiedatum=date_out(besluit.get("uiterlijkeReactiedatum")),
            zaak_identificatie=zaak.get("identificatie") if zaak else None,
            document_identificaties=sorted(d for d in documents if d),
        )
