"""Zaken API: what hangs under a zaak — statussen, rollen, resultaten,
zaakinformatieobjecten, zaakobjecten and zaakeigenschappen."""

from __future__ import annotations

from typing import Any

from ..state import now_iso, public
from .common import Call, Handler, Reply, created, fetch, invalid, matches, not_found, referenced, writable
from .zaken import latest_status


def _zaak(call: Call, url: Any) -> dict[str, Any]:
    zaak = referenced(call.store, url, "zaken", "zaak")
    assert zaak is not None
    return zaak


def _same_zaaktype(zaak: dict[str, Any], type_obj: dict[str, Any], name: str) -> None:
    if type_obj.get("zaaktype") != zaak["zaaktype"]:
        raise invalid(name, "zaaktype-mismatch",
                      f"Het {name} hoort niet bij het zaaktype van de zaak.")


def _new(call: Call, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    uid = call.store.new_uuid()
    obj = {"url": call.store.url(kind, uid), "uuid": uid, **fields,
           "_seq": call.store.next_number("seq")}
    return call.store.add(kind, obj)


def _reader(kind: str, render=public) -> Handler:
    def handle(call: Call) -> Reply:
        return Reply(200, render(fetch(call.store, kind, call.path_params["uuid"])))
    return handle


def _deleter(kind: str) -> Handler:
    def handle(call: Call) -> Reply:
        obj = fetch(call.store, kind, call.path_params["uuid"])
        call.store.remove(kind, obj["uuid"])
        return Reply(204)
    return handle


# -- statussen ------------------------------------------------------------

def _render_status(call: Call):
    def render(status: dict[str, Any]) -> dict[str, Any]:
        body = public(status)
        latest = latest_status(call, status["zaak"])
        body["indicatieLaatstGezetteStatus"] = latest is not None and latest["url"] == status["url"]
        return body
    return render


def status_create(call: Call) -> Reply:
    data = writable(call.spec, "Status", call.body)
    zaak = _zaak(call, data.get("zaak"))
    statustype = referenced(call.store, data.get("statustype"), "statustypen", "statustype")
    assert statustype is not None
    _same_zaaktype(zaak, statustype, "statustype")
    eind = bool(statustype.get("isEindstatus"))
    with call.store.lock:
        has_resultaat = any(r["zaak"] == zaak["url"] for r in call.store.all("resultaten"))
        if eind and call.fake.eindstatus_requires_resultaat and not has_resultaat:
            raise invalid("nonFieldErrors", "resultaat-does-not-exist",
                          "Een zaak zonder resultaat kan niet afgesloten worden.")
        status = _new(call, "statussen", {
            "zaak": zaak["url"],
            "statustype": statustype["url"],
            "datumStatusGezet": data.get("datumStatusGezet") or now_iso(),
            "statustoelichting": data.get("statustoelichting", ""),
            "indicatieLaatstGezetteStatus": True,
            "gezetdoor": data.get("gezetdoor", ""),
            "zaakinformatieobjecten": [],
        })
        latest = latest_status(call, zaak["url"])
        if latest is status:
            # closing sets einddatum; a later non-final status reopens the zaak
            zaak["einddatum"] = status["datumStatusGezet"][:10] if eind else None
    reply = created(status)
    reply.body = _render_status(call)(status)
    return reply


def status_list(call: Call) -> Reply:
    render = _render_status(call)
    items = matches(call.store.all("statussen"), call, {"zaak": "zaak", "statustype": "statustype"})
    flag = call.param("indicatieLaatstGezetteStatus")
    if flag is not None:
        items = [s for s in items if str(render(s)["indicatieLaatstGezetteStatus"]).lower() == flag.lower()]
    return call.page(items, render=render)


def status_retrieve(call: Call) -> Reply:
    return Reply(200, _render_status(call)(fetch(call.store, "statussen", call.path_params["uuid"])))


# -- rollen ---------------------------------------------------------------

def rol_create(call: Call) -> Reply:
    data = writable(call.spec, "Rol", call.body, "betrokkeneIdentificatie")
    zaak = _zaak(call, data.get("zaak"))
    roltype = referenced(call.store, data.get("roltype"), "roltypen", "roltype")
    assert roltype is not None
    _same_zaaktype(zaak, roltype, "roltype")
    if not data.get("betrokkene") and not data.get("betrokkeneIdentificatie"):
        raise invalid("betrokkeneIdentificatie", "invalid-betrokkene",
                      "Vul betrokkene of betrokkeneIdentificatie in.")
    rol = _new(call, "rollen", {
        "zaak": zaak["url"],
        "betrokkene": "",
        "betrokkeneType": data["betrokkeneType"],
        "afwijkendeNaamBetrokkene": "",
        "roltype": roltype["url"],
        "omschrijving": roltype["omschrijving"],
        "omschrijvingGeneriek": roltype["omschrijvingGeneriek"],
        "roltoelichting": "",
        "registratiedatum": now_iso(),
        "indicatieMachtiging": "",
        "contactpersoonRol": None,
        "statussen": [],
        **{k: v for k, v in data.items() if k not in ("zaak", "roltype")},
    })
    if rol.get("betrokkeneIdentificatie") is None:
        rol.pop("betrokkeneIdentificatie", None)  # the variant schemas do not allow null
    return created(rol)


def _rol_filters(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for key, wanted in call.query:
        if not key.startswith("betrokkeneIdentificatie__"):
            continue
        _, kind, attr = key.split("__", 2)
        snake = "".join("_" + c.lower() if c.isupper() else c for c in kind)
        items = [r for r in items if r["betrokkeneType"] == snake
                 and str((r.get("betrokkeneIdentificatie") or {}).get(attr)) == wanted]
    return items


def rol_list(call: Call) -> Reply:
    items = matches(call.store.all("rollen"), call, {
        "zaak": "zaak", "betrokkene": "betrokkene", "betrokkeneType": "betrokkeneType",
        "roltype": "roltype", "omschrijving": "omschrijving", "omschrijvingGeneriek": "omschrijvingGeneriek",
    })
    return call.page(_rol_filters(call, items))


# -- resultaten -----------------------------------------------------------

def resultaat_create(call: Call) -> Reply:
    data = writable(call.spec, "Resultaat", call.body)
    zaak = _zaak(call, data.get("zaak"))
    resultaattype = referenced(call.store, data.get("resultaattype"), "resultaattypen", "resultaattype")
    assert resultaattype is not None
    _same_zaaktype(zaak, resultaattype, "resultaattype")
    with call.store.lock:
        if any(r["zaak"] == zaak["url"] for r in call.store.all("resultaten")):
            raise invalid("zaak", "unique", "Deze zaak heeft al een resultaat.")
        resultaat = _new(call, "resultaten", {
            "zaak": zaak["url"],
            "resultaattype": resultaattype["url"],
            "toelichting": data.get("toelichting", ""),
        })
    return created(resultaat)


def _resultaat_update(call: Call) -> Reply:
    resultaat = fetch(call.store, "resultaten", call.path_params["uuid"])
    data = writable(call.spec, "Resultaat", call.body)
    if "zaak" in data and data["zaak"] != resultaat["zaak"]:
        raise invalid("zaak", "wijzigen-niet-toegelaten", "De zaak mag niet gewijzigd worden.")
    if "resultaattype" in data:
        zaak = _zaak(call, resultaat["zaak"])
        resultaattype = referenced(call.store, data["resultaattype"], "resultaattypen", "resultaattype")
        assert resultaattype is not None
        _same_zaaktype(zaak, resultaattype, "resultaattype")
    resultaat.update(data)
    return Reply(200, public(resultaat))


def resultaat_list(call: Call) -> Reply:
    return call.page(matches(call.store.all("resultaten"), call,
                             {"zaak": "zaak", "resultaattype": "resultaattype"}))


# -- zaakinformatieobjecten -----------------------------------------------

def zio_create(call: Call) -> Reply:
    data = writable(call.spec, "ZaakInformatieObject", call.body)
    zaak = _zaak(call, data.get("zaak"))
    document = referenced(call.store, data.get("informatieobject"), "enkelvoudiginformatieobjecten",
                          "informatieobject")
    assert document is not None
    zaaktype = call.store.resolve(zaak["zaaktype"], "zaaktypen") or {}
    if document["informatieobjecttype"] not in zaaktype.get("informatieobjecttypen", []):
        raise invalid("nonFieldErrors", "missing-zaaktype-informatieobjecttype-relation",
                      "Het informatieobjecttype hoort niet bij het zaaktype van de zaak.")
    status = data.get("status")
    if status:
        referenced(call.store, status, "statussen", "status")
    with call.store.lock:
        for other in call.store.all("zaakinformatieobjecten"):
            if (other["zaak"], other["informatieobject"]) == (zaak["url"], document["url"]):
                raise invalid("nonFieldErrors", "unique",
                              "Dit informatieobject is al aan deze zaak gekoppeld.")
        zio = _new(call, "zaakinformatieobjecten", {
            "informatieobject": document["url"],
            "zaak": zaak["url"],
            "aardRelatieWeergave": "Hoort bij, omgekeerd: kent",
            "titel": "",
            "beschrijving": "",
            "registratiedatum": now_iso(),
            "vernietigingsdatum": None,
            "status": None,
            **{k: v for k, v in data.items() if k not in ("zaak", "informatieobject")},
        })
    return created(zio)


def _zio_update(call: Call) -> Reply:
    zio = fetch(call.store, "zaakinformatieobjecten", call.path_params["uuid"])
    data = writable(call.spec, "ZaakInformatieObject", call.body)
    for fixed in ("zaak", "informatieobject"):
        if fixed in data and data[fixed] != zio[fixed]:
            raise invalid(fixed, "wijzigen-niet-toegelaten", f"{fixed} mag niet gewijzigd worden.")
    zio.update(data)
    return Reply(200, public(zio))


def zio_list(call: Call) -> Reply:
    return call.plain_list(matches(call.store.all("zaakinformatieobjecten"), call,
                                   {"zaak": "zaak", "informatieobject": "informatieobject"}))


# -- zaakobjecten ---------------------------------------------------------

def zaakobject_create(call: Call) -> Reply:
    data = writable(call.spec, "ZaakObject", call.body, "objectIdentificatie")
    zaak = _zaak(call, data.get("zaak"))
    if not data.get("object") and not data.get("objectIdentificatie"):
        raise invalid("object", "invalid-zaakobject", "Vul object of objectIdentificatie in.")
    if data.get("objectType") == "overige" and not data.get("objectTypeOverige") \
            and not data.get("objectTypeOverigeDefinitie"):
        raise invalid("objectTypeOverige", "missing-object-type-overige",
                      "objectTypeOverige is vereist bij objectType 'overige'.")
    zaakobject = _new(call, "zaakobjecten", {
        "zaak": zaak["url"],
        "object": "",
        "zaakobjecttype": "",
        "objectType": data["objectType"],
        "objectTypeOverige": "",
        "objectTypeOverigeDefinitie": None,
        "relatieomschrijving": "",
        **{k: v for k, v in data.items() if k != "zaak"},
    })
    return created(zaakobject)


def zaakobject_list(call: Call) -> Reply:
    return call.page(matches(call.store.all("zaakobjecten"), call,
                             {"zaak": "zaak", "object": "object", "objectType": "objectType"}))


# -- zaakeigenschappen (nested under /zaken/{zaak_uuid}) -------------------

def zaakeigenschap_create(call: Call) -> Reply:
    zaak = fetch(call.store, "zaken", call.path_params["zaak_uuid"])
    data = writable(call.spec, "ZaakEigenschap", call.body)
    if data.get("zaak") not in (None, zaak["url"]):
        raise invalid("zaak", "invalid", "De zaak in het verzoek hoort niet bij de URL.")
    eigenschap = referenced(call.store, data.get("eigenschap"), "eigenschappen", "eigenschap")
    assert eigenschap is not None
    _same_zaaktype(zaak, eigenschap, "eigenschap")
    uid = call.store.new_uuid()
    obj = call.store.add("zaakeigenschappen", {
        "url": call.store.url("zaakeigenschappen", uid, parent=zaak["uuid"]),
        "uuid": uid,
        "zaak": zaak["url"],
        "eigenschap": eigenschap["url"],
        "naam": eigenschap["naam"],
        "waarde": data.get("waarde", ""),
    })
    return created(obj)


def zaakeigenschap_list(call: Call) -> Reply:
    zaak = fetch(call.store, "zaken", call.path_params["zaak_uuid"])
    return call.plain_list([e for e in call.store.all("zaakeigenschappen") if e["zaak"] == zaak["url"]])


def zaakeigenschap_retrieve(call: Call) -> Reply:
    zaak = fetch(call.store, "zaken", call.path_params["zaak_uuid"])
    obj = fetch(call.store, "zaakeigenschappen", call.path_params["uuid"])
    if obj["zaak"] != zaak["url"]:
        raise invalid("uuid", "invalid", "Deze zaakeigenschap hoort niet bij deze zaak.")
    return Reply(200, public(obj))


# -- zaakbesluiten (derived from the Besluiten API's besluiten) -----------

def _zaakbesluiten(call: Call) -> list[dict[str, Any]]:
    zaak = fetch(call.store, "zaken", call.path_params["zaak_uuid"])
    return [
        {"url": f"{zaak['url']}/besluiten/{b['_uuid']}", "uuid": b["_uuid"], "besluit": b["url"]}
        for b in call.store.all("besluiten") if b.get("zaak") == zaak["url"]
    ]


def zaakbesluit_list(call: Call) -> Reply:
    return Reply(200, _zaakbesluiten(call))


def zaakbesluit_retrieve(call: Call) -> Reply:
    for item in _zaakbesluiten(call):
        if item["uuid"] == call.path_params["uuid"]:
            return Reply(200, item)
    raise not_found("Geen zaakbesluit met deze uuid.")


HANDLERS: dict[str, Handler] = {
    "zaakbesluit_list": zaakbesluit_list,
    "zaakbesluit_retrieve": zaakbesluit_retrieve,
    "status_create": status_create,
    "status_list": status_list,
    "status_retrieve": status_retrieve,
    "rol_create": rol_create,
    "rol_list": rol_list,
    "rol_retrieve": _reader("rollen"),
    "rol_destroy": _deleter("rollen"),
    "resultaat_create": resultaat_create,
    "resultaat_list": resultaat_list,
    "resultaat_retrieve": _reader("resultaten"),
    "resultaat_update": _resultaat_update,
    "resultaat_partial_update": _resultaat_update,
    "resultaat_destroy": _deleter("resultaten"),
    "zaakinformatieobject_create": zio_create,
    "zaakinformatieobject_list": zio_list,
    "zaakinformatieobject_retrieve": _reader("zaakinformatieobjecten"),
    "zaakinformatieobject_update": _zio_update,
    "zaakinformatieobject_partial_update": _zio_update,
    "zaakinformatieobject_destroy": _deleter("zaakinformatieobjecten"),
    "zaakobject_create": zaakobject_create,
    "zaakobject_list": zaakobject_list,
    "zaakobject_retrieve": _reader("zaakobjecten"),
    "zaakobject_destroy": _deleter("zaakobjecten"),
    "zaakeigenschap_create": zaakeigenschap_create,
    "zaakeigenschap_list": zaakeigenschap_list,
    "zaakeigenschap_retrieve": zaakeigenschap_retrieve,
}
