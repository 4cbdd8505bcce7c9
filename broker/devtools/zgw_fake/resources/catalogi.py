"""Catalogi API: read-only lists and details of the seeded catalogue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..state import public
from .common import Call, Handler, Reply, fetch, matches


def _zaaktype_of(call: Call, obj: dict[str, Any]) -> dict[str, Any] | None:
    if "zaaktype" in obj and isinstance(obj["zaaktype"], str):
        return call.store.resolve(obj["zaaktype"], "zaaktypen")
    return None


def _concept(call: Call, obj: dict[str, Any]) -> bool:
    if "concept" in obj:
        return bool(obj["concept"])
    zaaktype = _zaaktype_of(call, obj)
    return bool(zaaktype and zaaktype.get("concept"))


def _by_status(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``status``: ``definitief`` (default), ``concept`` or ``alles``."""
    status = call.param("status") or "definitief"
    if status == "alles":
        return items
    want_concept = status == "concept"
    return [item for item in items if _concept(call, item) == want_concept]


def _valid_on(call: Call, items: list[dict[str, Any]], param: str) -> list[dict[str, Any]]:
    day = call.param(param)
    if not day:
        return items

    def valid(obj: dict[str, Any]) -> bool:
        begin, end = obj.get("beginGeldigheid"), obj.get("eindeGeldigheid")
        if begin is None and "zaaktype" in obj:
            zaaktype = _zaaktype_of(call, obj) or {}
            begin, end = zaaktype.get("beginGeldigheid"), zaaktype.get("eindeGeldigheid")
        return (begin is None or begin <= day) and (end is None or day <= end)

    return [item for item in items if valid(item)]


def _in_list(call: Call, items: list[dict[str, Any]], param: str, field: str) -> list[dict[str, Any]]:
    wanted = call.param(param)
    if not wanted:
        return items
    values = set(wanted.split(","))
    return [item for item in items if str(item.get(field)) in values]


def _contains(call: Call, items: list[dict[str, Any]], param: str, field: str) -> list[dict[str, Any]]:
    wanted = call.param(param)
    if not wanted:
        return items
    return [item for item in items if wanted in (item.get(field) or [])]


def _lister(kind: str, filters: dict[str, str], *, status: bool = True,
            valid_param: str | None = "datumGeldigheid",
            extra: Callable[[Call, list[dict[str, Any]]], list[dict[str, Any]]] | None = None) -> Handler:
    def handle(call: Call) -> Reply:
        items = matches(call.store.all(kind), call, filters)
        if status:
            items = _by_status(call, items)
        if valid_param:
            items = _valid_on(call, items, valid_param)
        if extra:
            items = extra(call, items)
        return call.page(items)

    return handle


def _reader(kind: str) -> Handler:
    def handle(call: Call) -> Reply:
        return Reply(200, public(fetch(call.store, kind, call.path_params["uuid"])))

    return handle


def _zaaktype_extra(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for value in [v for k, v in call.query if k == "trefwoorden"]:
        for word in value.split(","):
            items = [item for item in items if word in item.get("trefwoorden", [])]
    return items


def _catalogus_extra(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _in_list(call, _in_list(call, items, "domein__in", "domein"), "rsin__in", "rsin")


def _besluittype_extra(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = _contains(call, items, "zaaktypen", "zaaktypen")
    return _contains(call, items, "informatieobjecttypen", "informatieobjecttypen")


HANDLERS: dict[str, Handler] = {
    "catalogus_list": _lister("catalogussen", {"domein": "domein", "rsin": "rsin"},
                              status=False, valid_param=None, extra=_catalogus_extra),
    "catalogus_retrieve": _reader("catalogussen"),
    "zaaktype_list": _lister("zaaktypen", {"catalogus": "catalogus", "identificatie": "identificatie"},
                             extra=_zaaktype_extra),
    "zaaktype_retrieve": _reader("zaaktypen"),
    "statustype_list": _lister("statustypen", {"zaaktype": "zaaktype",
                                               "zaaktypeIdentificatie": "zaaktypeIdentificatie"}),
    "statustype_retrieve": _reader("statustypen"),
    "roltype_list": _lister("roltypen", {"zaaktype": "zaaktype", "zaaktypeIdentificatie": "zaaktypeIdentificatie",
                                         "omschrijvingGeneriek": "omschrijvingGeneriek"}),
    "roltype_retrieve": _reader("roltypen"),
    "informatieobjecttype_list": _lister("informatieobjecttypen", {"catalogus": "catalogus",
                                                                   "omschrijving": "omschrijving"}),
    "informatieobjecttype_retrieve": _reader("informatieobjecttypen"),
    "resultaattype_list": _lister("resultaattypen", {"zaaktype": "zaaktype",
                                                     "zaaktype_identificatie": "zaaktypeIdentificatie"},
                                  valid_param="datum_geldigheid"),
    "resultaattype_retrieve": _reader("resultaattypen"),
    "besluittype_list": _lister("besluittypen", {"catalogus": "catalogus", "omschrijving": "omschrijving"},
                                extra=_besluittype_extra),
    "besluittype_retrieve": _reader("besluittypen"),
    "eigenschap_list": _lister("eigenschappen", {"zaaktype": "zaaktype",
                                                 "zaaktypeIdentificatie": "zaaktypeIdentificatie"}),
    "eigenschap_retrieve": _reader("eigenschappen"),
    "zaakinformatieobjecttype_list": _lister("zaaktype-informatieobjecttypen",
                                             {"zaaktype": "zaaktype", "richting": "richting",
                                              "informatieobjecttype": "informatieobjecttype"},
                                             valid_param=None),
    "zaakinformatieobjecttype_retrieve": _reader("zaaktype-informatieobjecttypen"),
}
