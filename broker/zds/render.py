"""StUF-ZKN entities built from the case model, for targets that do not keep StUF (the ZGW adapter).

A target answers queries with model objects (broker.model); when an object carries no ``stuf``
element, the ZDS query services build one here and then select and fit it exactly as they do for the
embedded zaaksysteem (broker.zds.scope, broker.zds.documenten.fit). Entities are built in schema order
(broker.zds.kern.SchemaModel), with the StUF-ZKN 03.10 entity types and relation names:

- ZAK: attributes and groups (``kenmerk``, ``resultaat``, ``opschorting``, ``verlenging``), ``isVan``
  (ZKT), ``heeftBetrekkingOp`` (ZAKOBJ: the object by its kind, e.g. an AOA), the betrokkene
  relations (``heeftAls...``: NPS, NNP, VES in the StUF-BG namespace with a verblijfsadres and
  rechtsvorm, MDW and OEH in StUF-ZKN, an OEH's ``isGehuisvestIn`` by vestigingsnummer; the rol's
  ``heeftAlsAanspreekpunt``), ``heeft`` (ZAKSTT, with the STT), ``heeftRelevant`` (ZAKEDC,
  broker.zds.documenten.heeft_relevant) and ``leidtTot`` (ZAKBSL) when the service looked the
  documents and besluiten up;
- EDC: attributes, and ``isRelevantVoor`` naming the zaak;
- BSL: attributes (with vervalreden and the dates of publication, sending and reaction),
  ``isUitkomstVan`` (the zaak) and ``isVastgelegdIn`` (each document with its identificatie,
  dct.omschrijving and titel when known), sorted on the identificatie.

Only what the model holds is answered: an element the model has no value for is left out (the scope
machinery answers a requested one as ``geenWaarde``).
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from broker.model import Adres, Besluit, Betrokkene, Document, Rol, Status, Zaak, ZaakObject
from broker.stuf import ns
from broker.zds import documenten as zds_documenten
from broker.zds.kern import SchemaModel
from broker.zds.xmlutil import ENTITEITTYPE, make, sub

#: entity type of each betrokkene relation (StUF-ZKN 03.10)
ROL_ENTITEITTYPE = {
    "heeftAlsBelanghebbende": "ZAKBTRBLH",
    "heeftAlsGemachtigde": "ZAKBTRGMC",
    "heeftAlsInitiator": "ZAKBTRINI",
    "heeftAlsUitvoerende": "ZAKBTRUTV",
    "heeftAlsVerantwoordelijke": "ZAKBTRVRA",
    "heeftAlsOverigBetrokkene": "ZAKBTROVR",
}
_BETROKKENE_ENTITEITTYPE = {"natuurlijkPersoon": "NPS", "nietNatuurlijkPersoon": "NNP", "vestiging": "VES",
                            "medewerker": "MDW", "organisatorischeEenheid": "OEH"}
#: entity type of the objects a zaak can be about (the choice in a ZAKOBJ gerelateerde), StUF-ZKN 03.10
_OBJECT_ENTITEITTYPE = {**_BETROKKENE_ENTITEITTYPE, "adres": "AOA", "besluit": "BSL", "buurt": "BRT",
                        "enkelvoudigDocument": "EDC", "gemeente": "GEM", "gemeentelijkeOpenbareRuimte": "GOR",
                        "huishouden": "HHD", "kadastraleOnroerendeZaak": "KOZ", "openbareRuimte": "OPR",
                        "pand": "PND", "samengesteldDocument": "SDC", "status": "STT", "wijk": "WYK",
                        "woonplaats": "WPL", "wozObject": "WOZ"}
#: objects whose gegevens are StUF-ZKN's own; the others come from StUF-BG
_ZKN_OBJECTS = frozenset({"medewerker", "organisatorischeEenheid", "besluit", "enkelvoudigDocument",
                          "samengesteldDocument", "status"})
_METAGEGEVENS = frozenset({"authentiek", "inOnderzoek"})


def _add(parent: etree._Element, tag_ns: str, name: str, value: str | None) -> None:
    if value:
        sub(parent, tag_ns, name, value)


def _relation(name: str, entiteittype: str, gerelateerde_type: str | None) -> tuple[etree._Element, etree._Element]:
    rel = make(ns.ZKN, name)
    rel.set(ENTITEITTYPE, entiteittype)
    ger = sub(rel, ns.ZKN, "gerelateerde")
    if gerelateerde_type:
        ger.set(ENTITEITTYPE, gerelateerde_type)
    return rel, ger


# -- zaak --------------------------------------------------------------------------------------
def zaak(z: Zaak, schema: SchemaModel, documenten: Iterable[Document] | None = None,
         besluiten: Iterable[Besluit] | None = None) -> etree._Element:
    el = make(ns.ZKN, "object")
    el.set(ENTITEITTYPE, "ZAK")
    _add(el, ns.ZKN, "identificatie", z.identificatie)
    _add(el, ns.ZKN, "omschrijving", z.omschrijving)
    _add(el, ns.ZKN, "toelichting", z.toelichting)
    for k in z.kenmerken:
        if k.get("kenmerk"):
            kenmerk = sub(el, ns.ZKN, "kenmerk")
            _add(kenmerk, ns.ZKN, "kenmerk", k.get("kenmerk"))
            _add(kenmerk, ns.ZKN, "bron", k.get("bron"))
    if z.resultaat_omschrijving:
        resultaat = sub(el, ns.ZKN, "resultaat")
        _add(resultaat, ns.ZKN, "omschrijving", z.resultaat_omschrijving)
        _add(resultaat, ns.ZKN, "toelichting", z.resultaat_toelichting)
    for name, value in (("startdatum", z.startdatum), ("registratiedatum", z.registratiedatum),
                        ("publicatiedatum", z.publicatiedatum), ("einddatumGepland", z.einddatum_gepland),
                        ("uiterlijkeEinddatum", z.uiterlijke_einddatum), ("einddatum", z.einddatum),
                        ("archiefnominatie", z.archiefnominatie),
                        ("datumVernietigingDossier", z.datum_vernietiging_dossier),
                        ("betalingsIndicatie", z.betalingsindicatie), ("laatsteBetaaldatum", z.laatste_betaaldatum),
                        ("zaakniveau", z.zaakniveau), ("deelzakenIndicatie", z.deelzaken_indicatie)):
        _add(el, ns.ZKN, name, value)
    if z.opschorting is not None:
        opschorting = sub(el, ns.ZKN, "opschorting")
        sub(opschorting, ns.ZKN, "indicatie", "J" if z.opschorting.indicatie else "N")
        _add(opschorting, ns.ZKN, "reden", z.opschorting.reden)
    if z.verlenging is not None and z.verlenging.duur is not None:
        verlenging = sub(el, ns.ZKN, "verlenging")
        sub(verlenging, ns.ZKN, "duur", str(z.verlenging.duur))
        _add(verlenging, ns.ZKN, "reden", z.verlenging.reden)
    if z.zaaktype is not None:
        rel, ger = _relation("isVan", "ZAKZKT", "ZKT")
        _add(ger, ns.ZKN, "omschrijving", z.zaaktype.omschrijving)
        _add(ger, ns.ZKN, "code", z.zaaktype.code)
        _add(ger, ns.ZKN, "ingangsdatumObject", z.zaaktype.ingangsdatum)
        el.append(rel)
    for r in z.rollen:
        if r.relatie in ROL_ENTITEITTYPE and r.betrokkene is not None:
            el.append(rol(r))
    for o in z.zaakobjecten:
        el.append(zaakobject(o, schema))
    for s in z.statussen:
        el.append(status(s))
    for d in sorted(documenten or [], key=lambda d: d.identificatie or ""):
        el.append(zds_documenten.heeft_relevant(d.stuf if d.stuf is not None else document(d, schema), schema))
    for b in sorted(besluiten or [], key=lambda b: b.identificatie or ""):
        rel, ger = _relation("leidtTot", "ZAKBSL", "BSL")
        _besluit_attributes(ger, b)
        el.append(rel)
    schema.sort(el, "ZAK")
    return el


def rol(r: Rol) -> etree._Element:
    rel = make(ns.ZKN, r.relatie)
    rel.set(ENTITEITTYPE, ROL_ENTITEITTYPE[r.relatie])
    ger = sub(rel, ns.ZKN, "gerelateerde")
    assert r.betrokkene is not None
    ger.append(betrokkene(r.betrokkene))
    _add(rel, ns.ZKN, "omschrijving", r.rolomschrijving)
    _add(rel, ns.ZKN, "toelichting", r.toelichting)
    c = r.contactpersoon
    if c is not None:
        ctp, ger = _relation("heeftAlsAanspreekpunt", ROL_ENTITEITTYPE[r.relatie] + "CTP", "CTP")
        for name, value in (("identificatie", c.identificatie), ("naam", c.naam), ("functie", c.functie),
                            ("telefoonnummer", c.telefoonnummer), ("emailadres", c.emailadres)):
            _add(ger, ns.ZKN, name, value)
        rel.append(ctp)
    return rel


def _adres(parent: etree._Element, name: str, a: Adres | None) -> None:
    """A StUF-BG VerblijfsadresGrp, its elements in schema order."""
    if a is None:
        return
    el = sub(parent, ns.BG, name)
    for tag, value in (("aoa.identificatie", a.identificatie), ("wpl.woonplaatsNaam", a.woonplaatsnaam),
                       ("gor.openbareRuimteNaam", a.openbare_ruimte_naam), ("gor.straatnaam", a.straatnaam),
                       ("aoa.postcode", a.postcode), ("aoa.huisnummer", a.huisnummer),
                       ("aoa.huisletter", a.huisletter), ("aoa.huisnummertoevoeging", a.huisnummertoevoeging),
                       ("inp.locatiebeschrijving", a.locatiebeschrijving)):
        _add(el, ns.BG, tag, value)


def betrokkene(b: Betrokkene) -> etree._Element:
    """The betrokkene as the choice inside a rol's gerelateerde, its elements in schema order."""
    el = make(ns.ZKN, b.type)
    el.set(ENTITEITTYPE, _BETROKKENE_ENTITEITTYPE[b.type])
    if b.type == "natuurlijkPersoon":
        for name, value in (("inp.bsn", b.bsn), ("geslachtsnaam", b.geslachtsnaam),
                            ("voorvoegselGeslachtsnaam", b.voorvoegsel), ("voorletters", b.voorletters),
                            ("voornamen", b.voornamen), ("geslachtsaanduiding", b.geslachtsaanduiding),
                            ("geboortedatum", b.geboortedatum)):
            _add(el, ns.BG, name, value)
        _adres(el, "verblijfsadres", b.verblijfsadres)
    elif b.type == "nietNatuurlijkPersoon":
        if b.rsin:
            sub(el, ns.BG, "inn.nnpId", b.rsin)
            # the answer type requires it after inn.nnpId; the target does not say it is authentic
            sub(el, ns.BG, "authentiek", "N").set(ns.q(ns.STUF, "metagegeven"), "true")
        elif b.ann_identificatie:
            sub(el, ns.BG, "ann.identificatie", b.ann_identificatie)
        _add(el, ns.BG, "statutaireNaam", b.statutaire_naam)
        _add(el, ns.BG, "inn.rechtsvorm", b.rechtsvorm)
    elif b.type == "vestiging":
        _add(el, ns.BG, "vestigingsNummer", b.vestigingsnummer)
        _add(el, ns.BG, "handelsnaam", b.handelsnaam)
        _adres(el, "verblijfsadres", b.verblijfsadres)
    elif b.type == "medewerker":
        for name, value in (("identificatie", b.identificatie), ("achternaam", b.achternaam),
                            ("voorletters", b.voorletters), ("voorvoegselAchternaam", b.voorvoegsel)):
            _add(el, ns.ZKN, name, value)
    else:
        _add(el, ns.ZKN, "identificatie", b.identificatie)
        _add(el, ns.ZKN, "naam", b.naam)
        if b.gehuisvest_in:  # the vestiging, by its vestigingsnummer (OEHVZO, VZOVES)
            rel, vzo = _relation("isGehuisvestIn", "OEHVZO", "VZO")
            is_een, ves = _relation("isEen", "VZOVES", "VES")
            vzo.append(is_een)
            sub(ves, ns.BG, "vestigingsNummer", b.gehuisvest_in)
            el.append(rel)
    return el


def zaakobject(o: ZaakObject, schema: SchemaModel) -> etree._Element:
    """``heeftBetrekkingOp``: the object by its kind, its gegevens in the order of its type."""
    rel = make(ns.ZKN, "heeftBetrekkingOp")
    rel.set(ENTITEITTYPE, "ZAKOBJ")
    ger = sub(rel, ns.ZKN, "gerelateerde")
    obj = sub(ger, ns.ZKN, o.soort)
    entiteittype = o.entiteittype or _OBJECT_ENTITEITTYPE.get(o.soort)
    if entiteittype:
        obj.set(ENTITEITTYPE, entiteittype)
    order: list[str] = []
    for type_name in (f"{entiteittype}-zkn-OBJ-antwoord", f"{entiteittype}-zkn-basis", f"{entiteittype}-basis"):
        order = [n for n, _ in schema.types.get(type_name, [])]
        if order:
            break
    tag_ns = ns.ZKN if o.soort in _ZKN_OBJECTS else ns.BG
    for name, value in sorted(o.gegevens.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)):
        item = sub(obj, tag_ns, name, value)
        if name in _METAGEGEVENS:
            item.set(ns.q(ns.STUF, "metagegeven"), "true")
    _add(rel, ns.ZKN, "omschrijving", o.omschrijving)
    return rel


def status(s: Status) -> etree._Element:
    rel, ger = _relation("heeft", "ZAKSTT", "STT")
    for name, value in (("zkt.code", s.zaaktype_code), ("zkt.omschrijving", s.zaaktype_omschrijving),
                        ("volgnummer", s.volgnummer), ("code", s.code), ("omschrijving", s.omschrijving)):
        _add(ger, ns.ZKN, name, value)
    _add(rel, ns.ZKN, "toelichting", s.toelichting)
    _add(rel, ns.ZKN, "datumStatusGezet", s.datum_status_gezet)
    _add(rel, ns.ZKN, "indicatieLaatsteStatus", s.indicatie_laatste_status)
    return rel


# -- document ----------------------------------------------------------------------------------
def document(d: Document, schema: SchemaModel) -> etree._Element:
    el = make(ns.ZKN, "object")
    el.set(ENTITEITTYPE, "EDC")
    for name, value in (("identificatie", d.identificatie), ("dct.omschrijving", d.documenttype),
                        ("creatiedatum", d.creatiedatum), ("ontvangstdatum", d.ontvangstdatum),
                        ("titel", d.titel), ("beschrijving", d.beschrijving), ("formaat", d.formaat),
                        ("taal", d.taal), ("versie", d.versie), ("status", d.status),
                        ("verzenddatum", d.verzenddatum), ("vertrouwelijkAanduiding", d.vertrouwelijkheid),
                        ("auteur", d.auteur), ("link", d.link)):
        _add(el, ns.ZKN, name, value)
    if d.zaak_identificatie:
        rel, ger = _relation("isRelevantVoor", "EDCZAK", "ZAK")
        sub(ger, ns.ZKN, "identificatie", d.zaak_identificatie)
        el.append(rel)
    schema.sort(el, "EDC")
    return el


# -- besluit -----------------------------------------------------------------------------------
def _besluit_attributes(el: etree._Element, b: Besluit) -> None:
    for name, value in (("identificatie", b.identificatie), ("bst.omschrijving", b.besluittype),
                        ("datumBeslissing", b.datum_beslissing), ("toelichting", b.toelichting),
                        ("ingangsdatumWerking", b.ingangsdatum), ("einddatumWerking", b.vervaldatum),
                        ("vervalreden", b.vervalreden), ("datumPublicatie", b.publicatiedatum),
                        ("datumVerzending", b.verzenddatum), ("datumUiterlijkeReactie", b.uiterlijke_reactiedatum)):
        _add(el, ns.ZKN, name, value)


def besluit(b: Besluit, schema: SchemaModel, documenten: dict[str, Document] | None = None) -> etree._Element:
    el = make(ns.ZKN, "object")
    el.set(ENTITEITTYPE, "BSL")
    _besluit_attributes(el, b)
    if b.zaak_identificatie:
        rel, ger = _relation("isUitkomstVan", "BSLZAK", "ZAK")
        sub(ger, ns.ZKN, "identificatie", b.zaak_identificatie)
        el.append(rel)
    for ident in sorted(b.document_identificaties):
        rel, ger = _relation("isVastgelegdIn", "BSLEDC", "EDC")
        sub(ger, ns.ZKN, "identificatie", ident)
        known = (documenten or {}).get(ident)
        if known is not None:
            _add(ger, ns.ZKN, "dct.omschrijving", known.documenttype)
            _add(ger, ns.ZKN, "titel", known.titel)
        el.append(rel)
    schema.sort(el, "BSL")
    return el


def ensure(obj: Zaak | Document | Besluit, schema: SchemaModel, **extra: object) -> etree._Element:
    """``obj.stuf``, built from the model first when the target keeps no StUF."""
    if obj.stuf is None:
        if isinstance(obj, Zaak):
            obj.stuf = zaak(obj, schema, **extra)  # type: ignore[arg-type]
        elif isinstance(obj, Document):
            obj.stuf = document(obj, schema)
        else:
            obj.stuf = besluit(obj, schema, **extra)  # type: ignore[arg-type]
    return obj.stuf
