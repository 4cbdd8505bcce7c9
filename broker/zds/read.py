"""Reading StUF-ZKN entities into the internal case model (broker.model).

Only what the broker reasons about becomes a field; the entity itself rides along in ``stuf`` so a
StUF-speaking target keeps every element the sender supplied.
"""

from __future__ import annotations

from lxml import etree

from broker.model import Besluit, Betrokkene, Document, Inhoud, Rol, Status, Zaak, ZaakType
from broker.model.case import BETROKKENE_TYPES, ROLLEN
from broker.stuf import ns
from broker.zds.xmlutil import child, children, is_nil, text

BESTANDSNAAM = ns.q(ns.STUF, "bestandsnaam")
CONTENT_TYPE = ns.q(ns.XMIME, "contentType")


def zaaktype(zaak_el: etree._Element) -> ZaakType | None:
    zkt = child(child(zaak_el, "isVan"), "gerelateerde")
    if zkt is None:
        return None
    return ZaakType(
        code=text(zkt, "code"),
        omschrijving=text(zkt, "omschrijving"),
        ingangsdatum=text(zkt, "ingangsdatumObject"),
    )


def betrokkene(gerelateerde: etree._Element | None) -> Betrokkene | None:
    if gerelateerde is None:
        return None
    for c in children(gerelateerde):
        kind = ns.local(c.tag)
        if kind not in BETROKKENE_TYPES:
            continue
        b = Betrokkene(type=kind, stuf=c)
        if kind == "natuurlijkPersoon":
            b.bsn = text(c, "inp.bsn")
            b.a_nummer = text(c, "inp.a-nummer")
            b.geslachtsnaam = text(c, "geslachtsnaam")
            b.voorvoegsel = text(c, "voorvoegselGeslachtsnaam")
            b.voorletters = text(c, "voorletters")
            b.voornamen = text(c, "voornamen")
            b.geslachtsaanduiding = text(c, "geslachtsaanduiding")
            b.geboortedatum = text(c, "geboortedatum")
        elif kind == "nietNatuurlijkPersoon":
            b.rsin = text(c, "inn.nnpId")
            b.ann_identificatie = text(c, "ann.identificatie")
            b.statutaire_naam = text(c, "statutaireNaam")
        elif kind == "medewerker":
            b.identificatie = text(c, "identificatie")
            b.achternaam = text(c, "achternaam")
            b.voorletters = text(c, "voorletters")
        elif kind == "vestiging":
            b.vestigingsnummer = text(c, "vestigingsNummer")
            b.handelsnaam = text(c, "handelsnaam")
        elif kind == "organisatorischeEenheid":
            b.identificatie = text(c, "identificatie")
            b.naam = text(c, "naam")
        return b
    return None


_KEYS = {
    "natuurlijkPersoon": ("inp.bsn", "inp.a-nummer"),
    "nietNatuurlijkPersoon": ("inn.nnpId", "ann.identificatie"),
    "medewerker": ("identificatie",),
    "vestiging": ("vestigingsNummer",),
    "organisatorischeEenheid": ("identificatie",),
}


def betrokkene_ref(gerelateerde: etree._Element | None) -> tuple[str | None, str | None]:
    """(kind, identifying value) of a betrokkene, without reading the rest of it."""
    if gerelateerde is None:
        return None, None
    for c in gerelateerde:
        kind = ns.local(c.tag)
        if kind in _KEYS:
            for name in _KEYS[kind]:
                value = text(c, name)
                if value:
                    return kind, value
            return kind, None
    return None, None


def rol(relation: etree._Element) -> Rol:
    return Rol(
        relatie=ns.local(relation.tag),
        betrokkene=betrokkene(child(relation, "gerelateerde")),
        rolomschrijving=text(relation, "omschrijving") or text(relation, "rolOmschrijving"),
        toelichting=text(relation, "toelichting"),
        stuf=relation,
    )


def status(heeft: etree._Element) -> Status:
    stt = child(heeft, "gerelateerde")
    gezet = child(child(heeft, "isGezetDoor"), "gerelateerde")
    return Status(
        zaaktype_code=text(stt, "zkt.code"),
        zaaktype_omschrijving=text(stt, "zkt.omschrijving"),
        code=text(stt, "code"),
        omschrijving=text(stt, "omschrijving"),
        volgnummer=text(stt, "volgnummer"),
        datum_status_gezet=text(heeft, "datumStatusGezet"),
        toelichting=text(heeft, "toelichting"),
        gezet_door=betrokkene(gezet),
        indicatie_laatste_status=text(heeft, "indicatieLaatsteStatus"),
        stuf=heeft,
    )


def zaak(obj: etree._Element) -> Zaak:
    z = Zaak(
        identificatie=text(obj, "identificatie"),
        omschrijving=text(obj, "omschrijving"),
        toelichting=text(obj, "toelichting"),
        zaaktype=zaaktype(obj),
        startdatum=text(obj, "startdatum"),
        registratiedatum=text(obj, "registratiedatum"),
        publicatiedatum=text(obj, "publicatiedatum"),
        einddatum_gepland=text(obj, "einddatumGepland"),
        uiterlijke_einddatum=text(obj, "uiterlijkeEinddatum"),
        einddatum=text(obj, "einddatum"),
        archiefnominatie=text(obj, "archiefnominatie"),
        datum_vernietiging_dossier=text(obj, "datumVernietigingDossier"),
        resultaat_omschrijving=text(obj, "resultaat", "omschrijving"),
        resultaat_toelichting=text(obj, "resultaat", "toelichting"),
        kenmerken=[
            {"kenmerk": text(k, "kenmerk"), "bron": text(k, "bron")} for k in children(obj, "kenmerk")
        ],
        rollen=[rol(r) for r in children(obj) if ns.local(r.tag) in ROLLEN],
        statussen=[status(h) for h in children(obj, "heeft") if child(h, "gerelateerde") is not None],
        stuf=obj,
    )
    return z


def inhoud(el: etree._Element | None) -> Inhoud | None:
    import base64
    import binascii

    if el is None or (el.text or "").strip() == "":
        return None
    try:
        data = base64.b64decode((el.text or "").strip(), validate=False)
    except (binascii.Error, ValueError):
        from broker.errors import StufError

        raise StufError("StUF055", "De inhoud van het document is geen geldige base64") from None
    return Inhoud(data=data, bestandsnaam=el.get(BESTANDSNAAM), content_type=el.get(CONTENT_TYPE))


def document(obj: etree._Element) -> Document:
    zaak_el = child(child(obj, "isRelevantVoor"), "gerelateerde")
    return Document(
        identificatie=text(obj, "identificatie"),
        documenttype=text(obj, "dct.omschrijving"),
        documentcategorie=text(obj, "dct.categorie"),
        creatiedatum=text(obj, "creatiedatum"),
        ontvangstdatum=text(obj, "ontvangstdatum"),
        titel=text(obj, "titel"),
        beschrijving=text(obj, "beschrijving"),
        formaat=text(obj, "formaat"),
        taal=text(obj, "taal"),
        versie=text(obj, "versie"),
        status=text(obj, "status"),
        verzenddatum=text(obj, "verzenddatum"),
        vertrouwelijkheid=text(obj, "vertrouwelijkAanduiding"),
        auteur=text(obj, "auteur"),
        link=text(obj, "link"),
        inhoud=inhoud(child(obj, "inhoud")),
        zaak_identificatie=text(zaak_el, "identificatie"),
        stuf=obj,
    )


def besluit(obj: etree._Element, zaak: etree._Element | None = None) -> Besluit:
    """A BSL entity (ZDS 1.2 voegBesluitToe/updateBesluit, StUF-ZKN bslLk01) as the case model.

    The zaak is ``isUitkomstVan/gerelateerde`` in StUF-ZKN; in ``voegBesluitToe_Di01`` it is the
    sibling ``object/zaak``, passed as ``zaak``. ``vervaldatum`` is the schema's ``einddatumWerking``.
    ``document_identificaties`` are the documents of the non-empty ``isVastgelegdIn`` relations
    (empty placeholders are left out), so in a W pair a document only in the new object is added and
    one only in the old object is removed.
    """
    if zaak is None:
        zaak = child(child(obj, "isUitkomstVan"), "gerelateerde")
    docs = [
        text(child(r, "gerelateerde"), "identificatie")
        for r in children(obj, "isVastgelegdIn")
        if not is_nil(r)
    ]
    return Besluit(
        identificatie=text(obj, "identificatie"),
        besluittype=text(obj, "bst.omschrijving"),
        datum_beslissing=text(obj, "datumBeslissing"),
        toelichting=text(obj, "toelichting"),
        ingangsdatum=text(obj, "ingangsdatumWerking"),
        vervaldatum=text(obj, "einddatumWerking"),
        zaak_identificatie=text(zaak, "identificatie"),
        document_identificaties=[d for d in docs if d],
        stuf=obj,
    )
