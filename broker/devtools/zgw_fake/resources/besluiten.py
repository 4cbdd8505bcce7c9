"""Besluiten API: besluiten and besluitinformatieobjecten."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..state import public
from .common import (
    Call,
    Handler,
    Reply,
    check_rsins,
    created,
    fetch,
    invalid,
    matches,
    referenced,
    unique_identificatie,
    writable,
)

_VERVALREDEN = {
    "tijdelijk": "Besluit met tijdelijke werking",
    "ingetrokken_overheid": "Besluit ingetrokken door overheid",
    "ingetrokken_belanghebbende": "Besluit ingetrokken o.v.v. belanghebbende",
}


def _render(besluit: dict[str, Any]) -> dict[str, Any]:
    body = public(besluit)
    if body.get("vervalreden"):
        body["vervalredenWeergave"] = _VERVALREDEN[body["vervalreden"]]
    return body


def _check(call: Call, besluit: dict[str, Any]) -> None:
    check_rsins(call, besluit, "verantwoordelijkeOrganisatie")
    besluittype = referenced(call.store, besluit.get("besluittype"), "besluittypen", "besluittype")
    assert besluittype is not None
    zaak = referenced(call.store, besluit.get("zaak"), "zaken", "zaak", required=False)
    if zaak is not None:
        zaaktype = call.store.resolve(zaak["zaaktype"], "zaaktypen") or {}
        if besluittype["url"] not in zaaktype.get("besluittypen", []):
            raise invalid("nonFieldErrors", "zaaktype-mismatch",
                          "Het besluittype hoort niet bij het zaaktype van de zaak.")


def create(call: Call) -> Reply:
    data = writable(call.spec, "Besluit", call.body)
    uid = call.store.new_uuid()
    besluit: dict[str, Any] = {
        "url": call.store.url("besluiten", uid),
        "identificatie": "",
        "zaak": "",
        "toelichting": "",
        "bestuursorgaan": "",
        "vervaldatum": None,
        "publicatiedatum": None,
        "verzenddatum": None,
        "uiterlijkeReactiedatum": None,
        **data,
        "_uuid": uid,
    }
    if not besluit["identificatie"]:
        besluit["identificatie"] = f"BESLUIT-{date.today().year}-{call.store.next_number('besluit'):010d}"
    _check(call, besluit)
    with call.store.lock:
        unique_identificatie(call.store, "besluiten", "verantwoordelijkeOrganisatie", besluit)
        call.store.add("besluiten", besluit)
    reply = created(besluit)
    reply.body = _render(besluit)
    return reply


def read(call: Call) -> Reply:
    return Reply(200, _render(fetch(call.store, "besluiten", call.path_params["uuid"])))


def update(call: Call) -> Reply:
    besluit = fetch(call.store, "besluiten", call.path_params["uuid"])
    data = writable(call.spec, "Besluit", call.body)
    changed = {**besluit, **data}
    _check(call, changed)
    with call.store.lock:
        unique_identificatie(call.store, "besluiten", "verantwoordelijkeOrganisatie", changed,
                             exclude=besluit["url"])
        besluit.update(data)
    return Reply(200, _render(besluit))


def delete(call: Call) -> Reply:
    besluit = fetch(call.store, "besluiten", call.path_params["uuid"])
    with call.store.lock:
        for bio in call.store.all("besluitinformatieobjecten"):
            if bio["besluit"] == besluit["url"]:
                call.store.remove("besluitinformatieobjecten", bio["_uuid"])
        call.store.remove("besluiten", besluit["_uuid"])
    return Reply(204)


def list_(call: Call) -> Reply:
    items = matches(call.store.all("besluiten"), call, {
        "identificatie": "identificatie", "verantwoordelijkeOrganisatie": "verantwoordelijkeOrganisatie",
        "besluittype": "besluittype", "zaak": "zaak",
    })
    return call.page(items, render=_render)


def bio_create(call: Call) -> Reply:
    data = writable(call.spec, "BesluitInformatieObject", call.body)
    besluit = referenced(call.store, data.get("besluit"), "besluiten", "besluit")
    document = referenced(call.store, data.get("informatieobject"), "enkelvoudiginformatieobjecten",
                          "informatieobject")
    assert besluit is not None and document is not None
    besluittype = call.store.resolve(besluit["besluittype"], "besluittypen") or {}
    if document["informatieobjecttype"] not in besluittype.get("informatieobjecttypen", []):
        raise invalid("nonFieldErrors", "missing-besluittype-informatieobjecttype-relation",
                      "Het informatieobjecttype hoort niet bij het besluittype.")
    with call.store.lock:
        for other in call.store.all("besluitinformatieobjecten"):
            if (other["besluit"], other["informatieobject"]) == (besluit["url"], document["url"]):
                raise invalid("nonFieldErrors", "unique", "Dit informatieobject is al aan het besluit gekoppeld.")
        uid = call.store.new_uuid()
        bio = call.store.add("besluitinformatieobjecten", {
            "url": call.store.url("besluitinformatieobjecten", uid),
            "informatieobject": document["url"],
            "besluit": besluit["url"],
            "_uuid": uid,
        })
    return created(bio)


def bio_list(call: Call) -> Reply:
    return call.plain_list(matches(call.store.all("besluitinformatieobjecten"), call,
                                   {"besluit": "besluit", "informatieobject": "informatieobject"}))


def bio_read(call: Call) -> Reply:
    return Reply(200, public(fetch(call.store, "besluitinformatieobjecten", call.path_params["uuid"])))


def bio_delete(call: Call) -> Reply:
    bio = fetch(call.store, "besluitinformatieobjecten", call.path_params["uuid"])
    call.store.remove("besluitinformatieobjecten", bio["_uuid"])
    return Reply(204)


HANDLERS: dict[str, Handler] = {
    "besluit_create": create,
    "besluit_read": read,
    "besluit_update": update,
    "besluit_partial_update": update,
    "besluit_delete": delete,
    "besluit_list": list_,
    "besluitinformatieobject_create": bio_create,
    "besluitinformatieobject_list": bio_list,
    "besluitinformatieobject_read": bio_read,
    "besluitinformatieobject_delete": bio_delete,
}
