"""Zaakdocumenten in the Documenten API 1.4.2 and the Zaken API (ZDS 1.2 §4.3).

voegZaakdocumentToe / maakZaakdocument (each call a step a retry does not repeat):

1. ``POST /enkelvoudiginformatieobjecten`` with the metadata, the informatieobjecttype the mapping
   names for the document type (among the zaaktype's informatieobjecttypen), and the content: inline
   (base64 ``inhoud``) up to ``large_document_bytes``; above it ``inhoud: null`` with
   ``bestandsomvang``, which opens an upload in parts (the document is locked);
2. for a large document: ``PUT`` each ``bestandsdeel`` (multipart/form-data: ``inhoud`` and ``lock``) with
   exactly the bytes its ``omvang`` asks, in ``volgnummer`` order, then ``POST .../unlock``;
3. ``POST /zaakinformatieobjecten`` linking it to the zaak, with the relation's titel and beschrijving.

geefZaakdocumentbewerken is ``POST .../lock`` (the lock id is the checkout id); updateZaakdocument is
``PATCH`` with that lock (new content inline or in parts) and ``POST .../unlock``; cancelCheckout is the
unlock alone. ontkoppelZaakdocument deletes the zaakinformatieobject (the document stays).
geefZaakdocumentLezen downloads the content (``GET .../download``, streamed).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from broker.adapters.zgw.base import Work, ZgwBase
from broker.adapters.zgw.catalogi import by_omschrijving, omschrijvingen
from broker.adapters.zgw.client import ZgwError
from broker.adapters.zgw.convert import (
    date_in,
    date_out,
    vertrouwelijkheid_in,
    vertrouwelijkheid_out,
)
from broker.errors import StufError
from broker.mappings.mapping import Profile
from broker.model import Document, Inhoud, ZaakRelatie
from broker.model.ports import Checkout, Context
from broker.store.blobs import BlobStore

#: fields of the case model's document -> ZGW fields (text as it is)
_TEXTS = {"titel": "titel", "beschrijving": "beschrijving", "auteur": "auteur", "link": "link", "formaat": "formaat"}
_DATES = {"creatiedatum": "creatiedatum", "ontvangstdatum": "ontvangstdatum", "verzenddatum": "verzenddatum"}


#: content above this size (``bestandsomvang``) is downloaded into the file store, not into memory
IN_MEMORY_LIMIT = 1024 * 1024


class DocumentenMixin(ZgwBase):
    large_document_bytes: int
    #: the file store holding large content (broker.store.blobs); None in tests without one
    blobs: BlobStore | None

    # -- adding --------------------------------------------------------------------------------
    def voeg_zaakdocument_toe(self, ctx: Context, document: Document) -> None:
        self._add_document(self._work(ctx), document, "voegZaakdocumentToe")

    def maak_zaakdocument(self, ctx: Context, document: Document) -> None:
        self._add_document(self._work(ctx), document, "maakZaakdocument")

    def _add_document(self, work: Work, document: Document, service: str) -> None:
        zaak = self._zaak(work, document.zaak_identificatie)
        zaaktype = self._zaaktype_of(zaak)
        code = self._zds_code(work, zaaktype)
        profile = self._profile(work, code)
        iot = self._informatieobjecttype(work, zaaktype, code, document.documenttype)
        rsin = self._rsin(work, zaak.get("identificatie"))

        def find() -> dict[str, Any] | None:  # created by an attempt whose answer was lost
            found = self._find_document(work, document.identificatie)
            if found is None:
                return None
            return {"url": found["url"], "lock": found.get("lock") or _part_lock(found), "parts": _parts_of(found)}

        def create() -> dict[str, Any]:
            body = {"identificatie": document.identificatie, "bronorganisatie": rsin,
                    "informatieobjecttype": iot["url"], **self._document_fields(work, document, profile)}
            body.setdefault("creatiedatum", date.today().isoformat())
            body.setdefault("titel", document.identificatie)
            body.setdefault("auteur", work.zender or "onbekend")
            body.setdefault("taal", "nld")
            if not body.get("vertrouwelijkheidaanduiding") and profile.vertrouwelijkheidaanduiding:
                body["vertrouwelijkheidaanduiding"] = profile.vertrouwelijkheidaanduiding
            inhoud = document.inhoud
            if inhoud is not None and inhoud.bestandsnaam:
                body.setdefault("bestandsnaam", inhoud.bestandsnaam)
            if inhoud is not None and inhoud.content_type and not body.get("formaat"):
                body["formaat"] = inhoud.content_type
            if inhoud is not None:
                body.update(self._content_fields(inhoud))
            profile.apply("document", body)
            try:
                created = self.client.post(self.client.url("documenten", "enkelvoudiginformatieobjecten"), body,
                                           work.user)
            except ZgwError as exc:
                if exc.has_param_code("identificatie-niet-uniek"):
                    raise StufError("StUF058", f"Document {document.identificatie} bestaat al",
                                    f"{service} met een documentidentificatie die al in gebruik is "
                                    "(ZDS 1.2 §4.3.4/§4.3.5)", plek="client") from None
                raise
            return {"url": created["url"], "lock": created.get("lock") or _part_lock(created),
                    "parts": [{"url": p["url"], "volgnummer": p["volgnummer"], "omvang": p["omvang"]}
                              for p in created.get("bestandsdelen") or []]}

        created = work.step("document", lambda: work.create_once("document", find, create))
        if created.get("parts"):
            self._upload(work, created["parts"], created["lock"], document.inhoud or Inhoud(), "part")
            work.step("unlock", lambda: self._unlock(work, created["url"], created["lock"]))
        work.step("zaakinformatieobject", lambda: self._link(work, zaak["url"], created["url"],
                                                             document.zaakrelatie, profile))

    def _content_fields(self, inhoud: Inhoud) -> dict[str, Any]:
        """Inline content, or (above ``large_document_bytes``) the size that opens an upload in parts."""
        if inhoud.size > self.large_document_bytes:
            return {"inhoud": None, "bestandsomvang": inhoud.size}
        return {"inhoud": base64.b64encode(self._read(inhoud, 0, inhoud.size)).decode("ascii"),
                "bestandsomvang": inhoud.size}

    def _read(self, inhoud: Inhoud, offset: int, size: int) -> bytes:
        """``size`` bytes of the content from ``offset``: from memory, or from the file store for large
        content (the case model then carries a reference, broker.store.blobs)."""
        if inhoud.blob is None:
            return inhoud.data[offset:offset + size]
        if self.blobs is None:
            raise StufError("StUF058", "De inhoud van het document is niet beschikbaar",
                            "dit ZGW-doel heeft geen bestandsopslag", plek="server")
        try:
            with self.blobs.open(inhoud.blob) as fh:
                fh.seek(offset)
                return fh.read(size)
        except FileNotFoundError:
            raise StufError("StUF055", "De inhoud van het document verwijst naar een bestand dat er niet is",
                            "een ongeldige verwijzing in plaats van de base64-inhoud") from None

    def _put_part(self, work: Work, part: dict[str, Any], lock: str, chunk: bytes) -> Any:
        """Send one bestandsdeel; the answer says whether the upload is complete."""
        return self.client.request(
            "PUT", part["url"], data={"lock": lock},
            files={"inhoud": (f"deel-{part['volgnummer']}.bin", chunk, "application/octet-stream")},
            user=work.user).json().get("voltooid")

    def _upload(self, work: Work, parts: list[dict[str, Any]], lock: str, inhoud: Inhoud, prefix: str) -> None:
        """The content part by part; each part is read (from the file store, for large content) when
        it is sent, so one part is in memory at a time."""
        offset = 0
        total = sum(part["omvang"] for part in parts)
        if total != inhoud.size:
            raise StufError("StUF058", "De bestandsdelen van de Documenten API passen niet bij de inhoud",
                            f"delen samen {total} bytes, inhoud {inhoud.size} bytes", plek="server")
        for part in sorted(parts, key=lambda p: p["volgnummer"]):
            start = offset
            offset += part["omvang"]

            def send(part: dict[str, Any] = part, start: int = start) -> Any:
                return self._put_part(work, part, lock, self._read(inhoud, start, part["omvang"]))

            work.step(f"{prefix}:{part['volgnummer']}", send)

    def _unlock(self, work: Work, url: str, lock: str) -> bool:
        self.client.request("POST", f"{url}/unlock", json_body={"lock": lock}, user=work.user)
        return True

    def _link(self, work: Work, zaak_url: str, document_url: str, rel: ZaakRelatie | None,
              profile: Profile) -> str:
        body = {"zaak": zaak_url, "informatieobject": document_url}
        if rel is not None:
            if rel.titel:
                body["titel"] = rel.titel
            if rel.beschrijving:
                body["beschrijving"] = rel.beschrijving
        profile.apply("zaakinformatieobject", body)
        return self._post_part(work, "zaakinformatieobject", "zaakinformatieobjecten", body,
                               {"zaak": zaak_url, "informatieobject": document_url}, lambda item, sent: True)

    def _document_fields(self, work: Work, doc: Document, profile: Profile, *,
                         changed_only: bool = False) -> dict[str, Any]:
        """ZGW fields of what the message included (``Document.present``; for a W the changes)."""
        body: dict[str, Any] = {}
        present = doc.present
        for name, field in _TEXTS.items():
            if name in present:
                value = getattr(doc, name)
                body[field] = profile.to_zgw(f"document.{field}", value) if value else ""
        for name, field in _DATES.items():
            if name in present:
                body[field] = date_in(getattr(doc, name))
        if "taal" in present:
            body["taal"] = profile.to_zgw("document.taal", doc.taal)
        if "status" in present:
            body["status"] = profile.to_zgw("document.status", doc.status) or ""
        if "vertrouwelijkheid" in present:
            value = doc.vertrouwelijkheid
            body["vertrouwelijkheidaanduiding"] = profile.to_zgw("document.vertrouwelijkheidaanduiding",
                                                                 vertrouwelijkheid_in(value))
        if not changed_only:
            body = {k: v for k, v in body.items() if v not in (None, "")}
        return body

    def _informatieobjecttype(self, work: Work, zaaktype: dict[str, Any], code: str | None,
                              documenttype: str | None) -> dict[str, Any]:
        """The informatieobjecttype of a document type among those of the zaaktype (StUF058 when none)."""
        iots = self.catalogi.informatieobjecttypen(zaaktype)
        wanted = work.mappings.zaaktype(code).informatieobjecttypen.get(documenttype or "") or documenttype
        found = by_omschrijving(iots, wanted, only_one_when_unnamed=not documenttype)
        if found is not None:
            return found
        raise StufError("StUF058", f"Documenttype {documenttype} hoort niet bij zaaktype {code}",
                        f"informatieobjecttype {wanted!r} is geen informatieobjecttype van het zaaktype; "
                        f"informatieobjecttypen: {omschrijvingen(iots)}; zie 'informatieobjecttypen' in de mapping", plek="client")

    def _document_model(self, work: Work, eio: dict[str, Any], zaak_identificatie: str | None,
                        *, with_content: bool) -> Document:
        iot = self.catalogi.resource(eio["informatieobjecttype"])
        code, profile = None, Profile()
        if zaak_identificatie:
            zaak = self._find_zaak(work, zaak_identificatie)
            if zaak is not None:
                code = self._zds_code(work, self._zaaktype_of(zaak))
                profile = self._profile(work, code)
        omschrijving = iot.get("omschrijving")
        back = [k for k, v in work.mappings.zaaktype(code).informatieobjecttypen.items() if v == omschrijving]
        formaat = profile.from_zgw("document.formaat", eio.get("formaat")) or None
        doc = Document(
            identificatie=eio.get("identificatie"),
            documenttype=back[0] if back else omschrijving,
            creatiedatum=date_out(eio.get("creatiedatum")),
            ontvangstdatum=date_out(eio.get("ontvangstdatum")),
            titel=eio.get("titel") or None,
            beschrijving=eio.get("beschrijving") or None,
            formaat=formaat,
            taal=profile.from_zgw("document.taal", eio.get("taal")) or None,
            versie=str(eio["versie"]) if eio.get("versie") is not None else None,
            status=profile.from_zgw("document.status", eio.get("status")) or None,
            verzenddatum=date_out(eio.get("verzenddatum")),
            vertrouwelijkheid=vertrouwelijkheid_out(
                profile.from_zgw("document.vertrouwelijkheidaanduiding", eio.get("vertrouwelijkheidaanduiding"))),
            auteur=eio.get("auteur") or None,
            link=profile.from_zgw("document.link", eio.get("link")) or None,
            zaak_identificatie=zaak_identificatie,
        )
        content_type = formaat if formaat and "/" in formaat else None
        if with_content and eio.get("inhoud") and self.blobs is not None \
                and (eio.get("bestandsomvang") or 0) > IN_MEMORY_LIMIT:
            # large content goes to the file store as it arrives; the edge streams it to the client
            writer = self.blobs.writer()
            try:
                self.client.download_into(eio["inhoud"], writer.write, work.user)
            except BaseException:
                writer.discard()
                raise
            doc.inhoud = Inhoud(blob=writer.finish(), bestandsnaam=eio.get("bestandsnaam") or None,
                                content_type=content_type)
        elif with_content:
            data = self.client.download(eio["inhoud"], work.user) if eio.get("inhoud") else b""
            doc.inhoud = Inhoud(data=data, bestandsnaam=eio.get("bestandsnaam") or None, content_type=content_type)
        elif eio.get("bestandsnaam"):
            doc.inhoud = Inhoud(data=b"", bestandsnaam=eio.get("bestandsnaam"), content_type=content_type)
        return doc

    def _zaak_of_document(self, work: Work, eio: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        links = self.client.all(self.client.url("zaken", "zaakinformatieobjecten"),
                                {"informatieobject": eio["url"]}, work.user)
        if not links:
            return None, None
        zaak = self.client.get(links[0]["zaak"], user=work.user)
        work.zaken.setdefault(zaak.get("identificatie", ""), zaak)
        return links[0], zaak.get("identificatie")

    # -- reading -------------------------------------------------------------------------------
    def geef_document(self, ctx: Context, identificatie: str) -> Document | None:
        work = self._work(ctx)
        eio = self._find_document(work, identificatie)
        if eio is None:
            return None
        _, zaak_ident = self._zaak_of_document(work, eio)
        return self._document_model(work, eio, zaak_ident, with_content=True)

    def geef_zaakdocumenten(self, ctx: Context, zaak_identificatie: str) -> list[Document] | None:
        work = self._work(ctx)
        zaak = self._find_zaak(work, zaak_identificatie)
        if zaak is None:
            return None
        links = self.client.all(self.client.url("zaken", "zaakinformatieobjecten"), {"zaak": zaak["url"]}, work.user)
        docs = [self._document_model(work, self.client.get(link["informatieobject"], user=work.user),
                                     zaak_identificatie, with_content=False) for link in links]
        return sorted(docs, key=lambda d: d.identificatie or "")

    # -- checkout ------------------------------------------------------------------------------
    def checkout_document(self, ctx: Context, identificatie: str) -> Checkout:
        work = self._work(ctx)
        eio = self._document_resource(work, identificatie)
        if eio.get("locked"):
            raise StufError(
                "StUF058",
                f"Document {identificatie} is al uitgecheckt en kan niet opnieuw ter bewerking worden opgevraagd",
                "het document is gelocked in de Documenten API; het komt vrij met updateZaakdocument of "
                "cancelCheckout met de checkout-id van die bewerking",
                plek="client",
            )
        lock = work.step("lock", lambda: self.client.request("POST", f"{eio['url']}/lock", user=work.user).json()["lock"])
        _, zaak_ident = self._zaak_of_document(work, eio)
        document = self._document_model(work, eio, zaak_ident, with_content=True)
        return Checkout(document, lock, work.user)

    def update_zaakdocument(self, ctx: Context, checkout_id: str | None, oud: Document, nieuw: Document) -> None:
        work = self._work(ctx)
        identificatie = oud.identificatie or nieuw.identificatie
        eio = self._document_resource(work, identificatie)
        self._check_lock(eio, checkout_id, "updateZaakdocument")
        link, zaak_ident = self._zaak_of_document(work, eio)
        code = None
        if zaak_ident:
            zaak = self._find_zaak(work, zaak_ident)
            code = self._zds_code(work, self._zaaktype_of(zaak)) if zaak else None
        profile = self._profile(work, code)
        before = self._document_fields(work, oud, profile, changed_only=True)
        changes = {k: v for k, v in self._document_fields(work, nieuw, profile, changed_only=True).items()
                   if (k not in before or before[k] != v) and eio.get(k) != v}
        if nieuw.documenttype and nieuw.documenttype != oud.documenttype and zaak_ident:
            zaak = self._zaak(work, zaak_ident)
            changes["informatieobjecttype"] = self._informatieobjecttype(
                work, self._zaaktype_of(zaak), code, nieuw.documenttype)["url"]
        if nieuw.inhoud is not None:
            if nieuw.inhoud.has_content:
                changes.update(self._content_fields(nieuw.inhoud))
            if nieuw.inhoud.bestandsnaam:
                changes["bestandsnaam"] = nieuw.inhoud.bestandsnaam
        lock = checkout_id or ""
        if changes:
            patched = work.step("patch", lambda: _locked(identificatie, "updateZaakdocument", lambda: _parts_of(
                self.client.patch(eio["url"], {**changes, "lock": lock}, work.user))))
            if patched and nieuw.inhoud is not None:
                self._upload(work, patched, lock, nieuw.inhoud, "part")
        self._update_link(work, link, nieuw)
        work.step("unlock", lambda: _locked(identificatie, "updateZaakdocument",
                                            lambda: self._unlock(work, eio["url"], lock)))

    def _update_link(self, work: Work, link: dict[str, Any] | None, nieuw: Document) -> None:
        """isRelevantVoor with verwerkingssoort W changes the relation's titel and beschrijving."""
        rel = nieuw.zaakrelatie
        if link is None or rel is None:
            return
        body = {k: getattr(rel, k) or "" for k in ("titel", "beschrijving") if k in rel.present}
        body = {k: v for k, v in body.items() if link.get(k) != v}
        if body:
            work.step("zaakinformatieobject", lambda: self.client.patch(link["url"], body, work.user)["url"])

    def cancel_checkout(self, ctx: Context, identificatie: str, checkout_id: str | None) -> None:
        work = self._work(ctx)
        eio = self._document_resource(work, identificatie)
        self._check_lock(eio, checkout_id, "cancelCheckout")
        work.step("unlock", lambda: _locked(identificatie, "cancelCheckout",
                                            lambda: self._unlock(work, eio["url"], checkout_id or "")))

    @staticmethod
    def _check_lock(eio: dict[str, Any], checkout_id: str | None, service: str) -> None:
        if not eio.get("locked"):
            raise StufError(
                "StUF058",
                f"Document {eio.get('identificatie')} is niet uitgecheckt",
                f"{service} hoort bij een document dat met geefZaakdocumentbewerken ter bewerking is opgevraagd",
                plek="client",
            )

    def ontkoppel_zaakdocument(self, ctx: Context, identificatie: str, zaak_identificatie: str | None) -> None:
        work = self._work(ctx)
        eio = self._document_resource(work, identificatie)
        zaak = self._zaak(work, zaak_identificatie) if zaak_identificatie else None
        links = self.client.all(self.client.url("zaken", "zaakinformatieobjecten"),
                                {"informatieobject": eio["url"], **({"zaak": zaak["url"]} if zaak else {})}, work.user)
        if not links:
            raise StufError("StUF064", f"Document {identificatie} is niet gekoppeld aan zaak {zaak_identificatie}",
                            "ontkoppelZaakdocument noemt een koppeling tussen zaak en document die niet bestaat", plek="client")
        if eio.get("locked"):
            raise StufError("StUF058", f"Document {identificatie} is in bewerking en kan niet van de zaak worden "
                            "ontkoppeld", "ZDS 1.2 §4.3.9: een zaakdocument mag niet in bewerking zijn; beëindig de "
                            "bewerking eerst met updateZaakdocument of cancelCheckout", plek="client")
        for link in links:
            work.step(f"ontkoppel:{link['url']}", partial(self.client.delete, link["url"], work.user))


def _locked(identificatie: str | None, service: str, call: Callable[[], Any]) -> Any:
    """A call that presents the checkout id as the lock: a wrong one is the sender's mistake."""
    try:
        return call()
    except ZgwError as exc:
        if exc.code == "incorrect-lock-id" or exc.has_param_code("incorrect-lock-id"):
            raise StufError(
                "StUF058",
                f"De checkout-id past niet bij de bewerking van document {identificatie}",
                f"{service}: parameters/checkedOutId is niet de id die geefZaakdocumentbewerken voor dit document gaf",
                plek="client",
            ) from None
        raise


def _part_lock(created: dict[str, Any]) -> str:
    parts = created.get("bestandsdelen") or []
    return parts[0].get("lock", "") if parts else ""


def _parts_of(eio: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"url": p["url"], "volgnummer": p["volgnummer"], "omvang": p["omvang"]}
            for p in eio.get("bestandsdelen") or []]
