"""tijdvakGeldigheid and tijdstipRegistratie in kennisgevingen (StUF 03.01 Tabel 5.3/5.4, §5.2.5-5.2.7).

Rules (docs/stuf-rules.md, group D and R-KG-15): R-TV-02, R-TV-03, R-TV-04, R-TV-06 (tijdstipRegistratie
in the old object), R-TV-07, R-TV-08, R-TV-10, STV0000025 and StUF068 (no future mutation in an Lk01).
Only the objects, their relations and the gerelateerden are read (no walk over the whole message).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from broker.errors import StufError
from broker.intake.rules.base import Relation, Tolerated, geen_waarde, q, refuse, value
from broker.stuf import ns
from broker.zds.tolerances import FUTURE_MUTATION
from broker.zds.xmlutil import VERWERKINGSSOORT

TV = q("tijdvakGeldigheid")
TR = q("tijdstipRegistratie")
TVR = q("tijdvakRelatie")
BEGIN, EIND = q("beginGeldigheid"), q("eindGeldigheid")
BEGIN_REL, EIND_REL = q("beginRelatie"), q("eindRelatie")


def _name(el: etree._Element) -> str:
    return ns.local(el.tag)


def _ends(tv: etree._Element, first: str, second: str) -> tuple[etree._Element | None, etree._Element | None]:
    """The first ``first`` and ``second`` children of a tijdvak, in one pass (``find`` goes through
    lxml's path parser, several times the cost for an element of two or three children)."""
    a = b = None
    for k in tv:
        t = k.tag
        if t == first:
            if a is None:
                a = k
        elif t == second and b is None:
            b = k
    return a, b


def _open_end(tv: etree._Element, where: Callable[[], str]) -> None:
    """R-TV-02: in the current situation a tijdvakGeldigheid with a begin has an open end."""
    begin, eind = _ends(tv, BEGIN, EIND)
    if value(begin) is not None and not geen_waarde(eind):
        raise _not_open(where())


def _not_open(where: str) -> StufError:
    return refuse("StUF062", "R-TV-02", "tijdvakGeldigheid is onjuist: eindGeldigheid van de huidige situatie "
                  "moet leeg zijn met StUF:noValue=\"geenWaarde\"", where)


def check(objects: list[etree._Element], rels: list[list[Relation]], mutatiesoort: str | None,
          tijdstip_bericht: str | None, tolerated: Tolerated) -> None:
    """``rels``: the relations of each object (base.relations), read once for every rule module."""
    if not objects:
        return
    nieuw = objects[-1]
    oud = objects[0] if len(objects) == 2 else None
    for obj, obj_rels in zip(objects, rels, strict=True):
        vs = obj.get(VERWERKINGSSOORT)
        where = f"object {_name(obj)} ({'oud' if obj is oud else 'nieuw'})"
        tv = obj.find(TV)
        # R-TV-07: an object that is only identified (I) or removed (V) has no tijdvakGeldigheid
        if vs in ("I", "V") and tv is not None:
            raise refuse("StUF062", "R-TV-07", f"tijdvakGeldigheid is onjuist: een object met verwerkingssoort {vs} "
                         "heeft geen tijdvakGeldigheid", where)
        if vs == "I" and obj.find(TR) is not None:
            raise refuse("StUF055", "R-TV-07", "Een object met verwerkingssoort I heeft geen tijdstipRegistratie", where)
        for rel in obj_rels:
            _relation(rel, obj is nieuw, where)
    # R-TV-06 (STV0000048): tijdstipRegistratie only in the new object
    if oud is not None and oud.find(TR) is not None:
        raise refuse("StUF055", "R-TV-06", "tijdstipRegistratie hoort alleen in het nieuwe object",
                     "het oude object bevat tijdstipRegistratie")
    tv_new = nieuw.find(TV)
    if tv_new is not None and nieuw.get(VERWERKINGSSOORT) in ("T", "W"):
        _open_end(tv_new, lambda: "nieuw object")
    if mutatiesoort == "W" and nieuw.find(TR) is not None and tv_new is None and oud is not None \
            and nieuw.get(VERWERKINGSSOORT) == "W":
        # STV0000025: a W with tijdstipRegistratie also says from when the change holds
        raise refuse("StUF062", "STV0000025", "tijdvakGeldigheid is onjuist: een wijziging met tijdstipRegistratie "
                     "heeft ook een tijdvakGeldigheid")
    if oud is not None:
        _old_and_new(oud, nieuw, mutatiesoort)
    _no_future(objects, tijdstip_bericht, tolerated)


def _relation(relation: Relation, in_new: bool, where: str) -> None:
    rel, vs = relation.el, relation.soort
    # R-TV-08: a gerelateerde that is only identified (I) or changed (W) carries no tijdvak or registratie
    for ger in relation.gerelateerden:
        gvs = ger.get(VERWERKINGSSOORT)
        if gvs in ("I", "W") and next(ger.iterchildren(TV, TR), None) is not None:
            raise refuse("StUF055", "R-TV-08", f"Een gerelateerde met verwerkingssoort {gvs} heeft geen "
                         "tijdvakGeldigheid of tijdstipRegistratie",
                         f"{where}, relatie {_name(rel)}, gerelateerde {_name(ger)}")
    if not in_new or vs != "T" or not len(rel):
        return
    def rel_where() -> str:  # made only for a fault
        return f"{where}, relatie {_name(rel)}"
    # R-TV-10 (STV0000069): a relation that is added begins, and is open
    tvr, tv = relation.tijdvak_relatie, relation.tijdvak
    begin = None
    if tvr is not None:
        begin_rel, eind_rel = _ends(tvr, BEGIN_REL, EIND_REL)
        begin = value(begin_rel)
        if begin is None or not geen_waarde(eind_rel):
            raise refuse("StUF062", "R-TV-10", "tijdvakRelatie is onjuist: een toegevoegde relatie heeft een "
                         "beginRelatie en een lege eindRelatie met StUF:noValue=\"geenWaarde\"", rel_where())
    if tv is None:
        return
    tv_begin, tv_eind = _ends(tv, BEGIN, EIND)  # read once for R-TV-10 and R-TV-02
    tv_begin_value = value(tv_begin)
    if tvr is not None and tv_begin_value not in (None, begin):
        raise refuse("StUF062", "R-TV-10", "tijdvakGeldigheid is onjuist: beginGeldigheid van een toegevoegde "
                     "relatie is gelijk aan beginRelatie", rel_where())
    if tv_begin_value is not None and not geen_waarde(tv_eind):
        raise _not_open(rel_where())


def _old_and_new(oud: etree._Element, nieuw: etree._Element, mutatiesoort: str | None) -> None:
    """R-TV-03 (W, STV0000051) and R-TV-04 (C, F): the tijdvakken of the two objects fit together."""
    tv_old, tv_new = oud.find(TV), nieuw.find(TV)
    if oud.get(VERWERKINGSSOORT) != nieuw.get(VERWERKINGSSOORT):
        return  # an identifying object (I) beside a changing one: R-TV-07 covers it
    if (tv_old is None) != (tv_new is None):
        raise refuse("StUF062", "R-TV-03", "tijdvakGeldigheid is onjuist: het staat in het "
                     + ("oude" if tv_new is None else "nieuwe") + " object maar niet in het andere")
    if tv_old is None or tv_new is None:
        return
    tbo, teo = value(tv_old.find(BEGIN)), value(tv_old.find(EIND))
    tbn = value(tv_new.find(BEGIN))
    if mutatiesoort == "W":
        if tbo and teo and _date(tbo) > _date(teo):
            raise refuse("StUF062", "R-TV-03", "tijdvakGeldigheid is onjuist: beginGeldigheid ligt na "
                         "eindGeldigheid in het oude object", f"{tbo} > {teo}")
        if tbn and teo != tbn:
            raise refuse("StUF062", "R-TV-03", "tijdvakGeldigheid is onjuist: eindGeldigheid van het oude object "
                         "is niet gelijk aan beginGeldigheid van het nieuwe", f"{teo or '(leeg)'} ≠ {tbn}")
    elif mutatiesoort in ("C", "F"):
        if teo is not None or not geen_waarde(tv_new.find(EIND)):
            raise refuse("StUF062", "R-TV-04", "tijdvakGeldigheid is onjuist: bij een correctie zijn beide "
                         "eindGeldigheden leeg")


def _date(moment: str) -> str:
    return moment[:8]


def _no_future(objects: list[etree._Element], tijdstip_bericht: str | None, tolerated: Tolerated) -> None:
    """R-KG-15: an Lk01 holds no future mutation: no beginGeldigheid after the message's own moment."""
    if not tijdstip_bericht or len(tijdstip_bericht) < 8:
        return
    today = tijdstip_bericht[:8]
    for obj in objects:
        for begin in obj.iter(BEGIN):
            b = value(begin)
            if b and len(b) >= 8 and b[:8].isdigit() and b[:8] > today:
                if tolerated.allows(FUTURE_MUTATION):
                    return
                raise refuse("StUF068", "R-KG-15", "Toekomstmutatie in een Lk01: beginGeldigheid ligt na "
                             "tijdstipBericht", f"beginGeldigheid {b[:8]}, tijdstipBericht {today}")
