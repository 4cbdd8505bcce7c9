"""Reading StUF-ZKN entities into the internal case model (broker.model).

What a target that does not speak StUF needs (the ZGW adapter) becomes a field, with ``present``
saying which elements the sender included (the changes of a W); the entity itself rides along in
``stuf`` so a StUF-speaking target keeps every element the sender supplied.
"""

from __future__ import annotations

from lxml import etree

from broker.model import (
    Adres,
    Besluit,
    Betrokkene,
    Contactpersoon,
    Document,
    Inhoud,
    Opschorting,
    Rol,
    Status,
    Verlenging,
    Zaak,
    ZaakObject,
    ZaakRelatie,
    ZaakType,
)
from broker.model.case import BETROKKENE_TYPES, ROL_TAGS
from broker.store import blobs
from broker.stuf import ns
from broker.zds.xmlutil import ENTITEITTYPE, VERWERKINGSSOORT, Fields, child, children, is_nil, text

BESTANDSNAAM = ns.q(ns.STUF, "bestandsnaam")
CONTENT_TYPE = ns.q(ns.XMIME, "contentType")

#: entity elements -> the model field each fills (for ``present``)
ZAAK_FIELDS = {
    "identificatie": "identificatie", "omschrijving": "omschrijving", "toelichting": "toelichting",
    "kenmerk": "kenmerken", "startdatum": "startdatum", "registratiedatum": "registratiedatum",
    "publicatiedatum": "publicatiedatum", "einddatumGepland": "einddatum_gepland",
    "uiterlijkeEinddatum": "uiterlijke_einddatum", "einddatum": "einddatum", "opschorting": "opschorting",
    "verlenging": "verlenging", "betalingsIndicatie": "betalingsindicatie",
    "laatsteBetaaldatum": "laatste_betaaldatum", "archiefnominatie": "archiefnominatie",
    "datumVernietigingDossier": "datum_vernietiging_dossier", "zaakniveau": "zaakniveau",
    "deelzakenIndicatie": "deelzaken_indicatie", "isVan": "zaaktype", "heeftAlsHoofdzaak": "hoofdzaak",
    "heeftBetrekkingOpAndere": "andere_zaken", "heeftBetrekkingOp": "zaakobjecten",
}
DOCUMENT_FIELDS = {
    "identificatie": "identificatie", "dct.omschrijving": "documenttype", "dct.categorie": "documentcategorie",
    "creatiedatum": "creatiedatum", "ontvangstdatum": "ontvangstdatum", "titel": "titel",
    "beschrijving": "beschrijving", "formaat": "formaat", "taal": "taal", "versie": "versie", "status": "status",
    "verzenddatum": "verzenddatum", "vertrouwelijkAanduiding": "vertrouwelijkheid", "auteur": "auteur",
    "link": "link", "inhoud": "inhoud", "isRelevantVoor": "zaakrelatie",
}
BESLUIT_FIELDS = {
    "identificatie": "identificatie", "bst.omschrijving": "besluittype", "datumBeslissing": "datum_beslissing",
    "toelichting": "toelichting", "ingangsdatumWerking": "ingangsdatum", "einddatumWerking": "vervaldatum",
    "vervalreden": "vervalreden", "datumPublicatie": "publicatiedatum", "datumVerzending": "verzenddatum",
    "datumUiterlijkeReactie": "uiterlijke_reactiedatum",
}


def _present(el: etree._Element, names: dict[str, str]) -> set[str]:
    return {names[n] for n in (ns.local(c.tag) for c in children(el)) if n in names}


def zaaktype(zaak_el: etree._Element, fields: Fields | None = None) -> ZaakType | None:
    zkt = child((fields or Fields(zaak_el)).child("isVan"), "gerelateerde")
    if zkt is None:
        return None
    f = Fields(zkt)
    return ZaakType(code=f.text("code"), omschrijving=f.text("omschrijving"),
                    ingangsdatum=f.text("ingangsdatumObject"))


def betrokkene(gerelateerde: etree._Element | None) -> Betrokkene | None:
    if gerelateerde is None:
        return None
    for c in children(gerelateerde):
        kind = ns.local(c.tag)
        if kind not in BETROKKENE_TYPES:
            continue
        b = Betrokkene(type=kind, stuf=c)
        f = Fields(c)
        if kind == "natuurlijkPersoon":
            b.bsn = f.text("inp.bsn")
            b.anp_identificatie = f.text("anp.identificatie")
            b.a_nummer = f.text("inp.a-nummer")
            b.geslachtsnaam = f.text("geslachtsnaam")
            b.voorvoegsel = f.text("voorvoegselGeslachtsnaam")
            b.voorletters = f.text("voorletters")
            b.voornamen = f.text("voornamen")
            b.geslachtsaanduiding = f.text("geslachtsaanduiding")
            b.geboortedatum = f.text("geboortedatum")
            b.verblijfsadres = adres(f.child("verblijfsadres"))
        elif kind == "nietNatuurlijkPersoon":
            b.rsin = f.text("inn.nnpId")
            b.ann_identificatie = f.text("ann.identificatie")
            b.statutaire_naam = f.text("statutaireNaam")
            b.rechtsvorm = f.text("inn.rechtsvorm")
        elif kind == "medewerker":
            b.identificatie = f.text("identificatie")
            b.achternaam = f.text("achternaam")
            b.voorletters = f.text("voorletters")
            b.voorvoegsel = f.text("voorvoegselAchternaam")
        elif kind == "vestiging":
            b.vestigingsnummer = f.text("vestigingsNummer")
            b.handelsnaam = f.text("handelsnaam")
            b.verblijfsadres = adres(f.child("verblijfsadres"))
        elif kind == "organisatorischeEenheid":
            b.identificatie = f.text("identificatie")
            b.naam = f.text("naam")
            b.gehuisvest_in = f.text("isGehuisvestIn", "gerelateerde", "isEen", "gerelateerde", "vestigingsNummer")
        return b
    return None


def adres(el: etree._Element | None) -> Adres | None:
    """A verblijfsadres (StUF-BG VerblijfsadresGrp); an empty or nil one is none."""
    if el is None or is_nil(el):
        return None
    f = Fields(el)
    if not f.first:
        return None
    return Adres(
        identificatie=f.text("aoa.identificatie"),
        woonplaatsnaam=f.text("wpl.woonplaatsNaam"),
        openbare_ruimte_naam=f.text("gor.openbareRuimteNaam"),
        straatnaam=f.text("gor.straatnaam"),
        postcode=f.text("aoa.postcode"),
        huisnummer=f.text("aoa.huisnummer"),
        huisletter=f.text("aoa.huisletter"),
        huisnummertoevoeging=f.text("aoa.huisnummertoevoeging"),
        locatiebeschrijving=f.text("inp.locatiebeschrijving"),
        stuf=el,
    )


def contactpersoon(relation: etree._Element, fields: Fields | None = None) -> Contactpersoon | None:
    """The aanspreekpunt of a rol (``heeftAlsAanspreekpunt``), when it names one."""
    ctp = child((fields or Fields(relation)).child("heeftAlsAanspreekpunt"), "gerelateerde")
    if ctp is None or is_nil(ctp):
        return None
    f = Fields(ctp)
    return Contactpersoon(identificatie=f.text("identificatie"), naam=f.text("naam"), functie=f.text("functie"),
                          telefoonnummer=f.text("telefoonnummer"), emailadres=f.text("emailadres"), stuf=ctp)


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
    f = Fields(relation)
    return Rol(
        relatie=ns.local(relation.tag),
        betrokkene=betrokkene(f.child("gerelateerde")),
        rolomschrijving=f.text("omschrijving") or f.text("rolOmschrijving"),
        toelichting=f.text("toelichting"),
        contactpersoon=contactpersoon(relation, f),
        verwerkingssoort=relation.get(VERWERKINGSSOORT),
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
        verwerkingssoort=heeft.get(VERWERKINGSSOORT),
        stuf=heeft,
    )


def zaak(obj: etree._Element) -> Zaak:
    f = Fields(obj)
    z = Zaak(
        identificatie=f.text("identificatie"),
        omschrijving=f.text("omschrijving"),
        toelichting=f.text("toelichting"),
        zaaktype=zaaktype(obj, f),
        startdatum=f.text("startdatum"),
        registratiedatum=f.text("registratiedatum"),
        publicatiedatum=f.text("publicatiedatum"),
        einddatum_gepland=f.text("einddatumGepland"),
        uiterlijke_einddatum=f.text("uiterlijkeEinddatum"),
        einddatum=f.text("einddatum"),
        archiefnominatie=f.text("archiefnominatie"),
        datum_vernietiging_dossier=f.text("datumVernietigingDossier"),
        resultaat_omschrijving=f.text("resultaat", "omschrijving"),
        resultaat_toelichting=f.text("resultaat", "toelichting"),
        opschorting=_opschorting(f.child("opschorting")),
        verlenging=_verlenging(f.child("verlenging")),
        betalingsindicatie=f.text("betalingsIndicatie"),
        laatste_betaaldatum=f.text("laatsteBetaaldatum"),
        zaakniveau=f.text("zaakniveau"),
        deelzaken_indicatie=f.text("deelzakenIndicatie"),
        kenmerken=[
            {"kenmerk": text(k, "kenmerk"), "bron": text(k, "bron")} for k in children(obj, "kenmerk")
        ],
        hoofdzaak=_related_identificatie(f.child("heeftAlsHoofdzaak")),
        andere_zaken=[i for i in map(_related_identificatie, children(obj, "heeftBetrekkingOpAndere")) if i],
        deelzaken=[i for i in map(_related_identificatie, children(obj, "heeftAlsDeelzaak")) if i],
        zaakobjecten=[o for o in map(zaakobject, children(obj, "heeftBetrekkingOp")) if o is not None],
        statussen=[status(h) for h in children(obj, "heeft") if child(h, "gerelateerde") is not None],
        stuf=obj,
        present={field for name, field in ZAAK_FIELDS.items() if name in f.first},
    )
    if "resultaat" in f.first:
        z.present |= {"resultaat_omschrijving", "resultaat_toelichting"}
    relations = list(obj.iterchildren(*ROL_TAGS))
    if relations:  # read when asked: the embedded zaaksysteem stores their elements as they are
        z.read_rollen_when_asked(lambda: [rol(r) for r in relations])
    return z


def _related_identificatie(rel: etree._Element | None) -> str | None:
    if rel is None or is_nil(rel):
        return None
    return text(rel, "gerelateerde", "identificatie")


def _opschorting(el: etree._Element | None) -> Opschorting | None:
    if el is None or is_nil(el):
        return None
    return Opschorting(indicatie=text(el, "indicatie") == "J", reden=text(el, "reden"), stuf=el)


def _verlenging(el: etree._Element | None) -> Verlenging | None:
    if el is None or is_nil(el):
        return None
    duur = text(el, "duur")
    return Verlenging(duur=int(duur) if duur and duur.isdigit() else None, reden=text(el, "reden"), stuf=el)


def zaakobject(rel: etree._Element) -> ZaakObject | None:
    """A ``heeftBetrekkingOp`` relation: the object inside its gerelateerde, with its simple gegevens."""
    ger = child(rel, "gerelateerde")
    if is_nil(rel) or ger is None:
        return None
    obj = children(ger)[0] if children(ger) else ger
    # every simple element, an empty one too (the sender said it has no value); nil ones are left out
    gegevens = {ns.local(c.tag): (c.text or "").strip() for c in obj.iter()
                if isinstance(c.tag, str) and c is not obj and not children(c) and not is_nil(c)}
    return ZaakObject(soort=ns.local(obj.tag), entiteittype=obj.get(ENTITEITTYPE), gegevens=gegevens,
                      omschrijving=text(rel, "omschrijving"), verwerkingssoort=rel.get(VERWERKINGSSOORT), stuf=rel)


def inhoud(el: etree._Element | None) -> Inhoud | None:
    import base64
    import binascii

    if el is None or (el.text or "").strip() == "":
        return None
    ref = blobs.from_text(el.text)
    if ref is not None:  # the content waits in the file store (broker.stuf.spool)
        return Inhoud(blob=ref, bestandsnaam=el.get(BESTANDSNAAM), content_type=el.get(CONTENT_TYPE))
    try:
        data = base64.b64decode((el.text or "").strip(), validate=False)
    except (binascii.Error, ValueError):
        from broker.errors import StufError

        raise StufError("StUF055", "De inhoud van het document is geen geldige base64") from None
    return Inhoud(data=data, bestandsnaam=el.get(BESTANDSNAAM), content_type=el.get(CONTENT_TYPE))


def zaakrelatie(rel: etree._Element | None) -> ZaakRelatie | None:
    if rel is None or is_nil(rel):
        return None
    return ZaakRelatie(zaak_identificatie=text(rel, "gerelateerde", "identificatie"), titel=text(rel, "titel"),
                       beschrijving=text(rel, "beschrijving"),
                       present={n for n in ("titel", "beschrijving") if child(rel, n) is not None}, stuf=rel)


def document(obj: etree._Element) -> Document:
    zaak_el = child(child(obj, "isRelevantVoor"), "gerelateerde")
    relaties = [r for r in children(obj, "isRelevantVoor") if not is_nil(r)]
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
        zaakrelatie=zaakrelatie(relaties[0]) if relaties else None,
        stuf=obj,
        present=_present(obj, DOCUMENT_FIELDS),
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
        vervalreden=text(obj, "vervalreden"),
        publicatiedatum=text(obj, "datumPublicatie"),
        verzenddatum=text(obj, "datumVerzending"),
        uiterlijke_reactiedatum=text(obj, "datumUiterlijkeReactie"),
        zaak_identificatie=text(zaak, "identificatie"),
        document_identificaties=[d for d in docs if d],
        stuf=obj,
        present=_present(obj, BESLUIT_FIELDS),
    )
