"""Zaken, rollen and statussen in the embedded zaaksysteem (ZDS 1.2 §4.1.1-4.1.5)."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from broker.adapters.embedded.base import EmbeddedBase, deferring_session_of, session_of, stuf_of
from broker.adapters.embedded.tables import ZsBesluit, ZsDocument, ZsRol, ZsStatus, ZsZaak
from broker.errors import StufError
from broker.model import Status, Zaak
from broker.model.case import ROL_TAGS
from broker.model.ports import Context, TooLargeForLoop
from broker.model.selectie import ZaakSelectie
from broker.store.inserts import Insert
from broker.store.reads import Read
from broker.stuf import ns
from broker.zds import mutation, read
from broker.zds.xmlutil import (
    VERWERKINGSSOORT,
    child,
    children,
    clone,
    from_string,
    from_strings,
    strip_processing,
    sub,
    text,
    to_string,
)

#: relations a zaak has at most once (RGBZ 2.0): a new one (verwerkingssoort T) replaces the old
SINGLE_RELATIONS = frozenset({"heeftAlsInitiator", "heeftAlsHoofdzaak", "isVan"})

# the questions every geefZaakdetails asks, made once (a statement built per call costs more than the query)
#: what geefZaakdetails reads of the zaak row (not through the ORM, whose identity map costs more than
#: the read; through SQLite's driver: broker.store.reads), and of its rollen and statussen below
_ZAAK_XML = Read(select(ZsZaak.id, ZsZaak.stuf_xml).where(ZsZaak.identificatie == bindparam("identificatie")))
#: new zaken unless their identificatie is taken (no row back for a zaak: taken), by dialect, run on
#: the session's connection: one Core statement instead of a check and an insert through the ORM
#: session; on SQLite the same statement goes through its driver (_NEW_ZAKEN.rows_unless_taken)
_NEW_ZAKEN_UNLESS_TAKEN = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(ZsZaak.__table__)
    .on_conflict_do_nothing(index_elements=["identificatie"])
    .returning(ZsZaak.__table__.c.identificatie, ZsZaak.__table__.c.id)
    for dialect in (postgresql, sqlite)
}
_NEW_ZAKEN = Insert(ZsZaak.__table__)  # through SQLite's driver (broker.store.inserts), Core elsewhere
_NEW_ROLLEN = Insert(ZsRol.__table__)
_ROLLEN_XML = Read(select(ZsRol.stuf_xml).where(ZsRol.zaak_id == bindparam("zaak_id")).order_by(ZsRol.position))
#: how many rows geefZaakdetails would gather for the zaak (rollen, statussen, documents, besluiten):
#: one statement of indexed counts, asked only on an event loop (Context.loop_budget)
_RELATED_ROWS = Read(select(functools.reduce(operator.add, [
    select(func.count()).select_from(t).where(t.c.zaak_id == bindparam("zaak_id")).scalar_subquery()
    for t in (ZsRol.__table__, ZsStatus.__table__, ZsDocument.__table__, ZsBesluit.__table__)])))
_STATUSSEN_XML = Read(select(ZsStatus.stuf_xml).where(ZsStatus.zaak_id == bindparam("zaak_id"))
                      .order_by(ZsStatus.position))


def _now() -> datetime:
    return datetime.now(UTC)


class ZakenMixin(EmbeddedBase):
    # -- helpers -----------------------------------------------------------------------------
    def _check_zaaktype(self, zaak: Zaak) -> None:
        zt = zaak.zaaktype
        self.catalogus.zaaktype(zt.code if zt else None, zt.omschrijving if zt else None)

    def _store_rollen(self, session: Session | Connection, zaak_id: int, rel_elements: list[etree._Element]) -> None:
        session.execute(delete(ZsRol).where(ZsRol.zaak_id == zaak_id))
        _NEW_ROLLEN.rows(session, [r | {"zaak_id": zaak_id} for r in _rol_rows(rel_elements)])

    def _registered(self, session: Session, row: ZsZaak) -> etree._Element:
        """The zaak as registered (its own data and rollen), without derived relations."""
        return self._registered_xml(session, row.id, row.stuf_xml)

    def _registered_xml(self, session: Session, zaak_id: int, stuf_xml: str) -> etree._Element:
        el = from_string(stuf_xml)
        for rol in from_strings(_ROLLEN_XML.scalars(session, {"zaak_id": zaak_id})):
            self.schema.insert(el, "ZAK", rol)
        return el

    def _save_registered(self, session: Session, row: ZsZaak, el: etree._Element) -> None:
        rollen = _take_rollen(el)
        for name, value in _columns(el, row.zaaktype_code, row.zaaktype_omschrijving).items():
            setattr(row, name, value)
        row.updated_at = _now()
        row.version = (row.version or 0) + 1
        self._store_rollen(session, row.id, rollen)

    # -- ZDS services ------------------------------------------------------------------------
    def prepare_creeer_zaak(self, zaak: Zaak) -> tuple[str, object]:
        """The rows of a new zaak, made from the zaak alone before the write transaction, which then
        only runs the statements (ports.PreparedZaken)."""
        return PREPARED_ZAAK, self._new_zaak(zaak)

    def _new_zaak(self, zaak: Zaak) -> _NewZaak:
        el = strip_processing(clone(stuf_of(zaak)))
        statussen = [c for c in children(el, "heeft")]
        for s in statussen:
            el.remove(s)
        rollen = _rol_rows(_take_rollen(el))
        # the columns from the case model, which read them from this entity (or rendered the entity
        # from them): reading them again from the copy costs as much as a tenth of a delivery
        zaaktype = zaak.zaaktype
        columns: dict[str, object] = {
            "stuf_xml": to_string(el), "omschrijving": zaak.omschrijving, "startdatum": zaak.startdatum,
            "einddatum": zaak.einddatum, "zaaktype_code": zaaktype.code if zaaktype else None,
            "zaaktype_omschrijving": zaaktype.omschrijving if zaaktype else None}
        return _NewZaak(zaak, columns, rollen, [s for s in statussen if child(s, "gerelateerde") is not None])

    def creeer_zaak(self, ctx: Context, zaak: Zaak) -> None:
        if not zaak.identificatie:
            raise StufError("StUF055", "De zaak heeft geen identificatie")
        self._check_zaaktype(zaak)
        prepared = ctx.prepared.get(PREPARED_ZAAK)
        new = prepared if isinstance(prepared, _NewZaak) and prepared.zaak is zaak else self._new_zaak(zaak)
        if ctx.deferred is not None and not new.statussen:  # with the other new zaken of the batch
            session = deferring_session_of(ctx)
            ctx.deferred.add("embedded.new_zaken", lambda news: self._insert_zaken(session, news), new)
            return
        session = session_of(ctx)
        zaak_id = self._insert_zaken(session, [new])[0]
        if new.statussen:
            row = session.get_one(ZsZaak, zaak_id)
            for s in new.statussen:
                self._add_status(session, row, read.status(s))

    @staticmethod
    def _insert_zaken(session: Session, news: list[_NewZaak]) -> list[int]:
        """New zaken and their rollen, a statement per table for all of them (Core inserts: the ORM's
        unit of work cost more than the rest of a new zaak); their ids. StUF058 when an identificatie
        is taken (then nothing may be committed: the caller's transaction is rolled back)."""
        session.flush()  # what the session holds first: the statements below go to its connection directly
        conn = session.connection()
        now = _now()
        rows = [{"identificatie": n.zaak.identificatie, "created_at": now, "updated_at": now, "version": 1,
                 **n.columns} for n in news]
        inserted = _NEW_ZAKEN.rows_unless_taken(conn, rows, "identificatie", _NEW_ZAKEN_UNLESS_TAKEN[conn.dialect.name])
        for n in news:
            if n.zaak.identificatie not in inserted:  # taken: the insert did nothing for it
                raise _taken(n.zaak.identificatie or "")
        ids = [inserted[n.zaak.identificatie] for n in news]
        rollen = [r | {"zaak_id": zaak_id} for n, zaak_id in zip(news, ids, strict=True) for r in n.rollen]
        _NEW_ROLLEN.rows(conn, rollen)
        return ids

    def update_zaak(self, ctx: Context, oud: Zaak, nieuw: Zaak) -> None:
        session = session_of(ctx)
        row = self._zaak_row(session, oud.identificatie or nieuw.identificatie, lock=True)
        if nieuw.zaaktype and (nieuw.zaaktype.code or nieuw.zaaktype.omschrijving):
            self._check_zaaktype(nieuw)
        el = self._registered(session, row)
        # statussen are kept apart from the zaak's own entity: both sides leave them out of the mutation
        # (the old side holds a placeholder for each status the new side adds)
        oud_el, nieuw_el = _without(stuf_of(oud), "heeft"), _without(stuf_of(nieuw), "heeft")
        self._relate_besluiten(session, row, oud_el, nieuw_el)
        mutation.apply(el, oud_el, nieuw_el, self.schema, "ZAK", single=SINGLE_RELATIONS)
        self._save_registered(session, row, el)
        for status in nieuw.statussen:
            if status.verwerkingssoort == "T":
                self._set_status(session, row, status)

    def actualiseer_zaakstatus(self, ctx: Context, oud: Zaak, nieuw: Zaak, status: Status) -> None:
        session = session_of(ctx)
        row = self._zaak_row(session, nieuw.identificatie or oud.identificatie, lock=True)
        other = _without(stuf_of(nieuw), "heeft")
        if len([c for c in children(other) if ns.local(c.tag) not in ("identificatie", "omschrijving", "isVan")]):
            el = self._registered(session, row)
            mutation.apply(el, _without(stuf_of(oud), "heeft"), other, self.schema, "ZAK", single=SINGLE_RELATIONS)
            self._save_registered(session, row, el)
        self._set_status(session, row, status)

    def _relate_besluiten(self, session: Session, row: ZsZaak, oud_el: etree._Element,
                          nieuw_el: etree._Element) -> None:
        """``leidtTot`` T naming a registered besluit relates that besluit to the zaak (a ZDS 1.1 bslLk01
        registers a besluit without its zaak); the pair leaves the mutation, the zaak shows the besluit
        as a derived relation. A besluit the zaaksysteem does not know stays a relation as sent."""
        olds, news = children(oud_el, "leidtTot"), children(nieuw_el, "leidtTot")
        for i, new in enumerate(news):
            ident = text(new, "gerelateerde", "identificatie")
            if new.get(VERWERKINGSSOORT) != "T" or not ident:
                continue
            besluit = session.execute(select(ZsBesluit).where(ZsBesluit.identificatie == ident)).scalar_one_or_none()
            if besluit is None:
                continue
            besluit.zaak_id = row.id
            nieuw_el.remove(new)
            if i < len(olds):
                oud_el.remove(olds[i])

    def _set_status(self, session: Session, row: ZsZaak, status: Status) -> None:
        """A new status of a statustype of the zaak's zaaktype; an eindstatus ends the zaak."""
        zaaktype = self.catalogus.zaaktype(row.zaaktype_code, row.zaaktype_omschrijving)
        stt = self.catalogus.statustype(zaaktype, status.code, status.omschrijving, status.volgnummer)
        self._add_status(session, row, status)
        if stt.eindstatus and not row.einddatum:
            row.einddatum = (status.datum_status_gezet or "")[:8] or datetime.now().strftime("%Y%m%d")

    def _add_status(self, session: Session, row: ZsZaak, status: Status) -> None:
        count = len(session.execute(select(ZsStatus.id).where(ZsStatus.zaak_id == row.id)).all())
        el = strip_processing(clone(stuf_of(status)))
        for c in children(el, "indicatieLaatsteStatus"):
            el.remove(c)  # the zaaksysteem derives it (ZDS 1.2 §4.1.3)
        session.add(
            ZsStatus(
                zaak_id=row.id,
                position=count,
                code=status.code,
                omschrijving=status.omschrijving,
                volgnummer=status.volgnummer,
                datum_status_gezet=status.datum_status_gezet,
                stuf_xml=to_string(el),
            )
        )
        session.flush()

    def geef_zaak(self, ctx: Context, identificatie: str) -> Zaak | None:
        el = self.geef_zaak_entity(ctx, identificatie)
        return None if el is None else read.zaak(el)

    def geef_zaak_entity(self, ctx: Context, identificatie: str) -> etree._Element | None:
        """The zaak's whole ZAK entity as geefZaakdetails shows it (ports.StufZaken): its own data,
        rollen, statussen, documents and besluiten; a new element the caller may change."""
        session = session_of(ctx)
        row = _ZAAK_XML.one_or_none(session, {"identificatie": identificatie})
        if row is None:
            return None
        zaak_id, stuf_xml = row
        if ctx.loop_budget is not None:
            (related,) = _RELATED_ROWS.scalars(session, {"zaak_id": zaak_id})
            if related > ctx.loop_budget:
                raise TooLargeForLoop(f"zaak {identificatie}: {related} related rows")
        el = self._registered_xml(session, zaak_id, stuf_xml)
        statussen = from_strings(_STATUSSEN_XML.scalars(session, {"zaak_id": zaak_id}))
        for i, heeft in enumerate(statussen):
            laatste = "J" if i == len(statussen) - 1 else "N"
            self.schema.insert(heeft, "ZAKSTT", _indicatie(heeft, laatste))
            self.schema.insert(el, "ZAK", heeft)
        for rel in self._derived_zaak_relations(session, zaak_id):
            self.schema.insert(el, "ZAK", rel)
        return el

    def zoek_zaken(self, ctx: Context, selectie: ZaakSelectie) -> list[Zaak]:
        """The zaken whose initiator (a rol row: heeftAlsInitiator, natuurlijkPersoon by BSN) is the person."""
        session = session_of(ctx)
        stmt = (select(ZsZaak.identificatie).join(ZsRol, ZsRol.zaak_id == ZsZaak.id)
                .where(ZsRol.relatie == "heeftAlsInitiator", ZsRol.betrokkene_type == "natuurlijkPersoon",
                       ZsRol.betrokkene_key == selectie.initiator_bsn)
                .order_by(ZsZaak.identificatie))
        if selectie.zaaktype_code:
            stmt = stmt.where(ZsZaak.zaaktype_code == selectie.zaaktype_code)
        elif selectie.zaaktype_omschrijving:
            stmt = stmt.where(ZsZaak.zaaktype_omschrijving == selectie.zaaktype_omschrijving)
        zaken = (self.geef_zaak(ctx, ident) for ident in session.execute(stmt).scalars().unique())
        return [z for z in zaken if z is not None]

    def _derived_zaak_relations(self, session: Session, zaak_id: int) -> list[etree._Element]:
        """Relations that other services add: documents (heeftRelevant) and besluiten (leidtTot)."""
        return []


#: the key of a prepared new zaak (:meth:`ZakenMixin.prepare_creeer_zaak`) in ``Context.prepared``
PREPARED_ZAAK = "embedded.creeer_zaak"


@dataclass(frozen=True)
class _NewZaak:
    """What creeerZaak writes: the zaak row's columns, the rollen rows (without the zaak's id) and the
    statussen sent with the zaak; made for ``zaak``."""

    zaak: Zaak
    columns: dict[str, object]
    rollen: list[dict[str, object]]
    statussen: list[etree._Element]


def _taken(identificatie: str) -> StufError:
    return StufError("StUF058", f"Zaak {identificatie} bestaat al",
                     "creeerZaak met een identificatie die al in gebruik is (ZDS 1.2 §4.1.4)", plek="client")


def _rol_rows(rel_elements: list[etree._Element]) -> list[dict[str, object]]:
    """The rollen rows of a zaak (without its id), in order."""
    rows: list[dict[str, object]] = []
    for pos, rel in enumerate(rel_elements):
        kind, key = read.betrokkene_ref(child(rel, "gerelateerde"))
        rows.append({"position": pos, "relatie": ns.local(rel.tag), "betrokkene_type": kind,
                     "betrokkene_key": key, "stuf_xml": to_string(rel)})
    return rows


def _take_rollen(el: etree._Element) -> list[etree._Element]:
    """The zaak's rollen, taken out of its entity (they are kept as rows of their own)."""
    rollen = list(el.iterchildren(*ROL_TAGS))
    for c in rollen:
        el.remove(c)
    return rollen


def _columns(el: etree._Element, zaaktype_code: str | None, zaaktype_omschrijving: str | None) -> dict[str, object]:
    """The zaak row's columns from its entity (without rollen); the zaaktype given stays where the
    entity names none."""
    zaaktype = read.zaaktype(el)
    return {"stuf_xml": to_string(el), "omschrijving": text(el, "omschrijving"),
            "startdatum": text(el, "startdatum"), "einddatum": text(el, "einddatum"),
            "zaaktype_code": (zaaktype.code if zaaktype else None) or zaaktype_code,
            "zaaktype_omschrijving": (zaaktype.omschrijving if zaaktype else None) or zaaktype_omschrijving}


def _without(el: etree._Element, *names: str) -> etree._Element:
    copy = clone(el)
    for c in list(copy):
        if isinstance(c.tag, str) and ns.local(c.tag) in names:
            copy.remove(c)
    return copy


def _indicatie(heeft: etree._Element, value: str) -> etree._Element:
    tmp = etree.Element("tmp")
    el = sub(tmp, ns.ZKN, "indicatieLaatsteStatus", value)
    tmp.remove(el)
    return el
