"""Documenten API: enkelvoudiginformatieobjecten with versions, locking,
upload in parts (bestandsdelen) and download."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date
from typing import Any

from ..errors import ApiError
from ..state import now_iso
from .common import (
    Call,
    Handler,
    Reply,
    check_rsins,
    fetch,
    invalid,
    matches,
    referenced,
    unique_identificatie,
    writable,
)

KIND = "enkelvoudiginformatieobjecten"

_CREATE_SCHEMA = "EnkelvoudigInformatieObjectCreateLockRequest"
_UPDATE_SCHEMA = "EnkelvoudigInformatieObjectWithLockRequest"


# -- rendering ------------------------------------------------------------

def _download_url(doc: dict[str, Any], versie: int) -> str:
    return f"{doc['url']}/download?versie={versie}"


def _parts(call: Call, doc: dict[str, Any]) -> list[dict[str, Any]]:
    parts = [p for p in call.store.all("bestandsdelen") if p["_document"] == doc["uuid"]]
    return sorted(parts, key=lambda p: p["volgnummer"])


def render(call: Call, doc: dict[str, Any], versie: int | None = None) -> dict[str, Any]:
    """The API representation of a document (current or a given version)."""
    version = doc["_versions"][versie or doc["versie"]]
    body = {k: v for k, v in version["fields"].items()}
    body["inhoud"] = _download_url(doc, version["fields"]["versie"]) if version["content"] is not None else None
    body["locked"] = bool(doc["_lock"])
    current = versie in (None, doc["versie"])
    body["bestandsdelen"] = [
        {"url": p["url"], "volgnummer": p["volgnummer"], "omvang": p["omvang"],
         "voltooid": p["voltooid"], "lock": doc["_lock"]}
        for p in (_parts(call, doc) if current else [])
    ]
    if "inhoudIsVervallen" in call.spec.schema("SchemaEIO").get("properties", {}):
        body.setdefault("inhoudIsVervallen", False)
    return body


# -- helpers --------------------------------------------------------------

def _decode(inhoud: str) -> bytes:
    try:
        return base64.b64decode(inhoud, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("inhoud", "invalid", "inhoud is geen geldige base64.") from None


def _check_fields(call: Call, fields: dict[str, Any]) -> None:
    check_rsins(call, fields, "bronorganisatie")
    if fields.get("ontvangstdatum") and fields.get("status") in ("in_bewerking", "ter_vaststelling"):
        raise invalid("status", "invalid_for_received",
                      "Status 'in bewerking' of 'ter vaststelling' kan niet bij een ontvangen document.")


def _make_parts(call: Call, doc: dict[str, Any], size: int) -> None:
    """Replace the document's pending parts by new ones for ``size`` bytes."""
    for part in _parts(call, doc):
        call.store.remove("bestandsdelen", part["uuid"])
    chunk = max(1, int(call.fake.chunk_size))
    offsets = list(range(0, size, chunk)) or [0]
    for number, start in enumerate(offsets, start=1):
        uid = call.store.new_uuid()
        call.store.add("bestandsdelen", {
            "url": call.store.url("bestandsdelen", uid),
            "uuid": uid,
            "volgnummer": number,
            "omvang": min(chunk, size - start),
            "voltooid": False,
            "_document": doc["uuid"],
            "_data": None,
        })


def _apply_content(call: Call, doc: dict[str, Any], fields: dict[str, Any], data: dict[str, Any],
                   previous_content: bytes | None) -> bytes | None:
    """Content of a new version; ``inhoud: null`` + ``bestandsomvang`` starts
    an upload in parts (and locks the document)."""
    inhoud = data.get("inhoud")
    if inhoud is not None:
        content = _decode(inhoud)
        fields["bestandsomvang"] = len(content)
        return content
    if "bestandsomvang" in data:
        size = data["bestandsomvang"]
        if size:
            if not doc["_lock"]:
                doc["_lock"] = uuid.uuid4().hex
            _make_parts(call, doc, int(size))
            return None
        return b"" if size == 0 else None
    if "inhoud" in data:  # explicit null without a size: no content
        fields["bestandsomvang"] = None
        return None
    return previous_content


def _new_version(doc: dict[str, Any], fields: dict[str, Any], content: bytes | None) -> None:
    fields["versie"] = len(doc["_versions"]) + 1
    fields["beginRegistratie"] = now_iso()
    doc["_versions"][fields["versie"]] = {"fields": fields, "content": content}
    doc["versie"] = fields["versie"]
    # mirror what other resources and the list filters look at
    for key in ("identificatie", "bronorganisatie", "informatieobjecttype"):
        doc[key] = fields[key]


# -- handlers -------------------------------------------------------------

def create(call: Call) -> Reply:
    data = writable(call.spec, _CREATE_SCHEMA, call.body)
    iot = referenced(call.store, data.get("informatieobjecttype"), "informatieobjecttypen",
                     "informatieobjecttype")
    assert iot is not None
    if iot.get("concept"):
        raise invalid("informatieobjecttype", "not-published", "Het informatieobjecttype is niet gepubliceerd.")
    uid = call.store.new_uuid()
    fields: dict[str, Any] = {
        "url": call.store.url(KIND, uid),
        "identificatie": "",
        "bronorganisatie": "",
        "creatiedatum": None,
        "titel": "",
        "vertrouwelijkheidaanduiding": iot["vertrouwelijkheidaanduiding"],
        "auteur": "",
        "status": "",
        "formaat": "",
        "taal": "",
        "bestandsnaam": "",
        "bestandsomvang": None,
        "link": "",
        "beschrijving": "",
        "ontvangstdatum": None,
        "verzenddatum": None,
        "indicatieGebruiksrecht": None,
        "verschijningsvorm": "",
        "ondertekening": None,
        "integriteit": None,
        "informatieobjecttype": iot["url"],
        "trefwoorden": [],
        **{k: v for k, v in data.items() if k != "inhoud"},
    }
    if not fields["identificatie"]:
        fields["identificatie"] = f"DOCUMENT-{date.today().year}-{call.store.next_number('document'):010d}"
    _check_fields(call, fields)
    doc: dict[str, Any] = {"url": fields["url"], "uuid": uid, "versie": 0, "_lock": "", "_versions": {},
                           "identificatie": fields["identificatie"], "bronorganisatie": fields["bronorganisatie"]}
    with call.store.lock:
        unique_identificatie(call.store, KIND, "bronorganisatie", doc)
        content = _apply_content(call, doc, fields, data, None)
        _new_version(doc, fields, content)
        call.store.add(KIND, doc)
    body = render(call, doc)
    body["lock"] = doc["_lock"]  # Open Zaak returns it; the spec's SchemaEIO does not list it
    return Reply(201, body, headers={"Location": doc["url"]})


def retrieve(call: Call) -> Reply:
    doc = fetch(call.store, KIND, call.path_params["uuid"])
    return Reply(200, render(call, doc, _pick_version(call, doc)))


def _pick_version(call: Call, doc: dict[str, Any]) -> int | None:
    versie = call.param("versie")
    if versie:
        if int(versie) not in doc["_versions"]:
            raise ApiError(404, f"Versie {versie} bestaat niet.", "not_found")
        return int(versie)
    moment = call.param("registratieOp")
    if moment:
        older = [v for v, ver in doc["_versions"].items() if ver["fields"]["beginRegistratie"] <= moment]
        if not older:
            raise ApiError(404, f"Geen versie geregistreerd op {moment}.", "not_found")
        return max(older)
    return None


def _update(call: Call) -> Reply:
    doc = fetch(call.store, KIND, call.path_params["uuid"])
    data = writable(call.spec, _UPDATE_SCHEMA, call.body)
    lock = (call.body or {}).get("lock")
    with call.store.lock:
        if not doc["_lock"]:
            raise invalid("nonFieldErrors", "unlocked", "Unlocked document can't be modified")
        if lock != doc["_lock"]:
            raise invalid("nonFieldErrors", "incorrect-lock-id", "Incorrect lock ID")
        if "informatieobjecttype" in data:
            referenced(call.store, data["informatieobjecttype"], "informatieobjecttypen", "informatieobjecttype")
        current = doc["_versions"][doc["versie"]]
        fields = {**current["fields"], **{k: v for k, v in data.items() if k not in ("inhoud", "lock")}}
        _check_fields(call, fields)
        if fields["identificatie"] != current["fields"]["identificatie"]:
            probe = {"identificatie": fields["identificatie"], "bronorganisatie": fields["bronorganisatie"]}
            unique_identificatie(call.store, KIND, "bronorganisatie", probe, exclude=doc["url"])
        content = _apply_content(call, doc, fields, data, current["content"])
        _new_version(doc, fields, content)
    return Reply(200, render(call, doc))


def lock(call: Call) -> Reply:
    doc = fetch(call.store, KIND, call.path_params["uuid"])
    with call.store.lock:
        if doc["_lock"]:
            raise ApiError(400, "Het document is al gelocked.", "existing-lock")
        doc["_lock"] = uuid.uuid4().hex
    return Reply(200, {"lock": doc["_lock"]})


def unlock(call: Call) -> Reply:
    doc = fetch(call.store, KIND, call.path_params["uuid"])
    given = (call.body or {}).get("lock")
    with call.store.lock:
        forced = not given and call.fake.force_unlock_allowed
        if not forced and (not doc["_lock"] or given != doc["_lock"]):
            raise ApiError(400, "Incorrect lock ID", "incorrect-lock-id")
        parts = _parts(call, doc)
        if parts and not forced and not all(p["voltooid"] for p in parts):
            raise ApiError(400, "Upload of part of the file is not complete", "incomplete-upload")
        if parts and all(p["voltooid"] for p in parts):
            content = b"".join(p["_data"] for p in parts)
            version = doc["_versions"][doc["versie"]]
            version["content"] = content
            version["fields"]["bestandsomvang"] = len(content)
        for part in parts:
            call.store.remove("bestandsdelen", part["uuid"])
        doc["_lock"] = ""
    return Reply(204)


def upload_part(call: Call) -> Reply:
    part = fetch(call.store, "bestandsdelen", call.path_params["uuid"])
    doc = call.store.get(KIND, part["_document"])
    if doc is None:
        raise ApiError(404, "Het document van dit bestandsdeel bestaat niet meer.", "not_found")
    form = call.form or {}
    content = form.get("inhoud")
    if isinstance(content, str):
        content = content.encode()
    with call.store.lock:
        if form.get("lock") != doc["_lock"] or not doc["_lock"]:
            raise invalid("nonFieldErrors", "incorrect-lock-id", "Incorrect lock ID")
        if content is None:
            raise invalid("inhoud", "required", "Dit veld is vereist.")
        if len(content) != part["omvang"]:
            raise invalid("inhoud", "file-size",
                          f"Het bestandsdeel is {len(content)} bytes; verwacht {part['omvang']}.")
        part["_data"] = content
        part["voltooid"] = True
    return Reply(200, {"url": part["url"], "lock": doc["_lock"], "omvang": part["omvang"],
                       "voltooid": True, "volgnummer": part["volgnummer"]})


def download(call: Call) -> Reply:
    doc = fetch(call.store, KIND, call.path_params["uuid"])
    versie = _pick_version(call, doc) or doc["versie"]
    content = doc["_versions"][versie]["content"]
    if content is None:
        raise ApiError(404, "Dit document heeft (nog) geen inhoud.", "not_found")
    return Reply(200, content, content_type="application/octet-stream")


def list_(call: Call) -> Reply:
    docs = matches(call.store.all(KIND), call, {"identificatie": "identificatie",
                                                "bronorganisatie": "bronorganisatie"})
    rendered = [render(call, d) for d in docs]
    wanted = call.param("trefwoorden")
    if wanted:
        words = set(wanted.split(","))
        rendered = [d for d in rendered if words & set(d.get("trefwoorden") or [])]
    return call.page(rendered, render=dict)


def zoek(call: Call) -> Reply:
    uuids = {str(u) for u in (call.body or {}).get("uuid_In", [])}
    docs = [render(call, d) for d in call.store.all(KIND) if d["uuid"] in uuids]
    return call.page(docs, render=dict)


def destroy(call: Call) -> Reply:
    doc = fetch(call.store, KIND, call.path_params["uuid"])
    with call.store.lock:
        for kind in ("zaakinformatieobjecten", "besluitinformatieobjecten"):
            if any(o.get("informatieobject") == doc["url"] for o in call.store.all(kind)):
                raise ApiError(400, "Het document heeft nog relaties.", "pending-relations")
        for part in _parts(call, doc):
            call.store.remove("bestandsdelen", part["uuid"])
        call.store.remove(KIND, doc["uuid"])
    return Reply(204)


def content_of(doc: dict[str, Any], versie: int | None = None) -> bytes | None:
    """The stored bytes of a document version (for test assertions)."""
    return doc["_versions"][versie or doc["versie"]]["content"]


HANDLERS: dict[str, Handler] = {
    "enkelvoudiginformatieobject_create": create,
    "enkelvoudiginformatieobject_retrieve": retrieve,
    "enkelvoudiginformatieobject_update": _update,
    "enkelvoudiginformatieobject_partial_update": _update,
    "enkelvoudiginformatieobject_lock": lock,
    "enkelvoudiginformatieobject_unlock": unlock,
    "enkelvoudiginformatieobject_download": download,
    "enkelvoudiginformatieobject_list": list_,
    "enkelvoudiginformatieobject__zoek": zoek,
    "enkelvoudiginformatieobject_destroy": destroy,
    "bestandsdeel_update": upload_part,
}
