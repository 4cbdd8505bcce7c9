"""Zaken API: the ZAAK resource (create, read, update, list, search, delete)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..state import public
from .common import Call, Handler, Reply, check_rsins, fetch, invalid, referenced, unique_identificatie, writable

_BETALINGSINDICATIE = {
    "": "",
    "nvt": "Er is geen sprake van te betalen, met de zaak gemoeide, kosten.",
    "nog_niet": "De met de zaak gemoeide kosten zijn (nog) niet betaald.",
    "gedeeltelijk": "De met de zaak gemoeide kosten zijn gedeeltelijk betaald.",
    "geheel": "De met de zaak gemoeide kosten zijn geheel betaald.",
}

# kinds that point at a zaak through their ``zaak`` field (removed with it)
ZAAK_PARTS = ("statussen", "rollen", "resultaten", "zaakinformatieobjecten", "zaakobjecten", "zaakeigenschappen")


def latest_status(call: Call, zaak_url: str) -> dict[str, Any] | None:
    statussen = [s for s in call.store.all("statussen") if s["zaak"] == zaak_url]
    if not statussen:
        return None
    return max(statussen, key=lambda s: (s["datumStatusGezet"], s["_seq"]))


def render(call: Call, zaak: dict[str, Any]) -> dict[str, Any]:
    """A zaak with its derived, read-only fields filled in."""
    url = zaak["url"]
    store = call.store
    body = public(zaak)

    def urls(kind: str) -> list[str]:
        return [o["url"] for o in store.all(kind) if o.get("zaak") == url]

    status = latest_status(call, url)
    resultaten = urls("resultaten")
    body.update(
        betalingsindicatieWeergave=_BETALINGSINDICATIE.get(zaak.get("betalingsindicatie") or "", ""),
        deelzaken=[o["url"] for o in store.all("zaken") if o.get("hoofdzaak") == url],
        eigenschappen=urls("zaakeigenschappen"),
        rollen=urls("rollen"),
        status=status["url"] if status else None,
        zaakinformatieobjecten=urls("zaakinformatieobjecten"),
        zaakobjecten=urls("zaakobjecten"),
        resultaat=resultaten[0] if resultaten else None,
    )
    return body


def _identificatie(call: Call) -> str:
    number = call.store.next_number("zaak")
    return f"ZAAK-{date.today().year}-{number:010d}"


def _zaaktype(call: Call, url: Any) -> dict[str, Any]:
    zaaktype = referenced(call.store, url, "zaaktypen", "zaaktype")
    assert zaaktype is not None
    if zaaktype.get("concept"):
        raise invalid("zaaktype", "not-published", "Het zaaktype is nog niet gepubliceerd.")
    return zaaktype


def _check_refs(call: Call, zaak: dict[str, Any]) -> None:
    check_rsins(call, zaak, "bronorganisatie", "verantwoordelijkeOrganisatie", "opdrachtgevendeOrganisatie")
    hoofdzaak = zaak.get("hoofdzaak")
    if hoofdzaak:
        parent = referenced(call.store, hoofdzaak, "zaken", "hoofdzaak")
        if parent is not None and parent.get("hoofdzaak"):
            raise invalid("hoofdzaak", "deelzaak-als-hoofdzaak", "Een deelzaak kan geen hoofdzaak zijn.")


def create(call: Call) -> Reply:
    data = writable(call.spec, "Zaak", call.body)
    zaaktype = _zaaktype(call, data.get("zaaktype"))
    uid = call.store.new_uuid()
    zaak: dict[str, Any] = {
        "url": call.store.url("zaken", uid),
        "uuid": uid,
        "identificatie": "",
        "bronorganisatie": "",
        "omschrijving": "",
        "toelichting": "",
        "zaaktype": zaaktype["url"],
        "registratiedatum": date.today().isoformat(),
        "verantwoordelijkeOrganisatie": "",
        "startdatum": None,
        "einddatum": None,
        "einddatumGepland": None,
        "uiterlijkeEinddatumAfdoening": None,
        "publicatiedatum": None,
        "communicatiekanaal": "",
        "productenOfDiensten": [],
        "vertrouwelijkheidaanduiding": zaaktype["vertrouwelijkheidaanduiding"],
        "betalingsindicatie": "",
        "laatsteBetaaldatum": None,
        "zaakgeometrie": None,
        "verlenging": None,
        "opschorting": {"indicatie": False, "reden": ""},
        "selectielijstklasse": "",
        "hoofdzaak": None,
        "relevanteAndereZaken": [],
        "kenmerken": [],
        "archiefnominatie": None,
        "archiefstatus": "nog_te_archiveren",
        "archiefactiedatum": None,
        "opdrachtgevendeOrganisatie": "",
        "processobjectaard": None,
        "startdatumBewaartermijn": None,
        "processobject": None,
        **data,
    }
    if not zaak["identificatie"]:
        zaak["identificatie"] = _identificatie(call)
    _check_refs(call, zaak)
    with call.store.lock:
        unique_identificatie(call.store, "zaken", "bronorganisatie", zaak)
        call.store.add("zaken", zaak)
    return Reply(201, render(call, zaak), headers={"Location": zaak["url"]})


def retrieve(call: Call) -> Reply:
    return Reply(200, render(call, fetch(call.store, "zaken", call.path_params["uuid"])))


def update(call: Call) -> Reply:
    """PUT and PATCH: the spec already checked that a PUT body is complete."""
    zaak = fetch(call.store, "zaken", call.path_params["uuid"])
    data = writable(call.spec, "Zaak", call.body)
    if "zaaktype" in data and data["zaaktype"] != zaak["zaaktype"]:
        raise invalid("zaaktype", "wijzigen-niet-toegelaten", "Het zaaktype mag niet gewijzigd worden.")
    changed = {**zaak, **data}
    _check_refs(call, changed)
    with call.store.lock:
        unique_identificatie(call.store, "zaken", "bronorganisatie", changed, exclude=zaak["url"])
        zaak.update(data)
    return Reply(200, render(call, zaak))


def destroy(call: Call) -> Reply:
    zaak = fetch(call.store, "zaken", call.path_params["uuid"])
    with call.store.lock:
        for kind in ZAAK_PARTS:
            for part in call.store.all(kind):
                if part.get("zaak") == zaak["url"]:
                    call.store.remove(kind, part["uuid"])
        call.store.remove("zaken", zaak["uuid"])
    return Reply(204)


# -- searching ------------------------------------------------------------

def _values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v for v in str(value).split(",") if v]


def _rol_matches(call: Call, zaak_url: str, key: str, wanted: Any) -> bool:
    rollen = [r for r in call.store.all("rollen") if r["zaak"] == zaak_url]
    field = key[len("rol__"):]
    if field.startswith("betrokkeneIdentificatie__"):
        _, kind, attr = field.split("__", 2)
        snake = "".join("_" + c.lower() if c.isupper() else c for c in kind)
        return any(
            r["betrokkeneType"] == snake and str((r.get("betrokkeneIdentificatie") or {}).get(attr)) == str(wanted)
            for r in rollen
        )
    return any(str(r.get(field)) == str(wanted) for r in rollen)


def _keep(call: Call, zaak: dict[str, Any], key: str, wanted: Any) -> bool:
    if wanted in (None, "", []):
        return True
    if key.startswith("rol__"):
        return _rol_matches(call, zaak["url"], key, wanted)
    field, _, op = key.partition("__")
    value = zaak.get(field)
    if op == "in":
        return str(value) in _values(wanted)
    if op == "isnull":
        want_null = str(wanted).lower() in ("true", "1")
        return (value is None) == want_null
    if op in ("gt", "gte", "lt", "lte"):
        if value is None:
            return False
        value, wanted = str(value), str(wanted)
        return {"gt": value > wanted, "gte": value >= wanted, "lt": value < wanted, "lte": value <= wanted}[op]
    return str(value if value is not None else "") == str(wanted)


_NOT_FILTERS = {"page", "expand", "ordering", "zaakgeometrie", "maximaleVertrouwelijkheidaanduiding"}


def search(call: Call, criteria: Mapping[str, Any]) -> list[dict[str, Any]]:
    zaken = [render(call, z) for z in call.store.all("zaken")]
    for key, wanted in criteria.items():
        if key in _NOT_FILTERS:
            continue
        zaken = [z for z in zaken if _keep(call, z, key, wanted)]
    ordering = criteria.get("ordering")
    for field in reversed(_values(ordering) if ordering else []):
        reverse = field.startswith("-")
        name = field.lstrip("-")
        zaken.sort(key=lambda z: (z.get(name) is None, str(z.get(name) or "")), reverse=reverse)
    return zaken


def list_(call: Call) -> Reply:
    criteria: dict[str, Any] = {}
    for key, value in call.query:
        criteria[key] = value
    return call.page(search(call, criteria), render=dict)


def zoek(call: Call) -> Reply:
    criteria = dict(call.body or {})
    if "uuid__in" in criteria:
        criteria["uuid__in"] = [str(u) for u in criteria["uuid__in"]]
    return call.page(search(call, criteria), render=dict)


HANDLERS: dict[str, Handler] = {
    "zaak_list": list_,
    "zaak_create": create,
    "zaak_retrieve": retrieve,
    "zaak_update": update,
    "zaak_partial_update": update,
    "zaak_destroy": destroy,
    "zaak__zoek": zoek,
}
