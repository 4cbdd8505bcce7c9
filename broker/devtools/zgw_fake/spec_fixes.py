"""In-memory corrections applied to the specs right after parsing.

The files on disk are never touched.  Each fix is narrow, has a reason,
and is listed in :data:`FIXES` so a test (or a person) can see exactly
where the fake deviates from the verbatim document.
"""

from __future__ import annotations

from typing import Any

#: Human-readable list of every correction, for reports and tests.
FIXES: tuple[str, ...] = (
    "all: `servers` is replaced by the Open Zaak base path (/zaken/api/v1, ...), "
    "so paths are matched on whatever host/port the fake listens on.",
    "all: header parameters named Content-Type, Accept or Authorization are dropped: "
    "OAS 3.0.3 says such parameter definitions SHALL be ignored, but openapi-core "
    "enforces them (it would reject `application/json; charset=utf-8`, a multipart "
    "boundary, or a body-less POST .../lock).  The media type of a body is still "
    "checked against requestBody.content.",
    "catalogi 1.3.1: ZaakType(.Create/.Update).informatieobjecttypen and "
    "InformatieObjectType.zaaktypen are declared `type: string` (a drf-spectacular "
    "slip); they become arrays of URIs, as in Open Zaak's own catalogi spec and "
    "as every server returns them.",
    "catalogi 1.3.1: the 200 responses of zaaktype/informatieobjecttype/besluittype "
    "retrieve and list say 'Unspecified response body'; they now refer to the "
    "ZaakType / InformatieObjectType / BesluitType schemas (as Open Zaak's spec does), "
    "so those responses are really checked.",
    "all: a property written as `{allOf: [{$ref: X}], nullable: true}` (drf-spectacular's "
    "nullable reference, e.g. Zaak.zaakgeometrie, RolNatuurlijkPersoon.verblijfsadres) "
    "rejects null under OAS 3.0.3's strict reading of `nullable` (it needs a `type` in the "
    "same schema), which openapi-schema-validator follows; servers return null there, so "
    "it becomes `{anyOf: [{$ref: X}, {enum: [null]}]}`.",
    "zaken 1.5.1: Rol, ZaakObject and PatchedZaakObject carry a `discriminator` with a "
    "mapping but no oneOf/anyOf, so a validator never looks at the variant part "
    "(betrokkeneIdentificatie, objectIdentificatie).  Where operations and lists use them, "
    "they now refer to a generated `<Name>Polymorphic` schema: anyOf over the mapped "
    "variants, each guarded by its discriminator value, so e.g. an inpBsn of 10 digits "
    "is caught.",
)

#: Marks the generated guard on a discriminator value (see _fix_polymorphic).
GUARD = "x-zgw-fake-discriminator-guard"

_IGNORED_HEADER_PARAMS = {"content-type", "accept", "authorization"}

_URI_ARRAY = {"type": "array", "items": {"type": "string", "format": "uri"}, "readOnly": True}

_UNSPECIFIED_READS = {
    "zaaktype": "ZaakType",
    "informatieobjecttype": "InformatieObjectType",
    "besluittype": "BesluitType",
}


def _drop_ignored_header_params(document: dict[str, Any]) -> None:
    for path_item in document.get("paths", {}).values():
        holders = [path_item] + [op for key, op in path_item.items() if key != "parameters"]
        for holder in holders:
            if not isinstance(holder, dict) or "parameters" not in holder:
                continue
            holder["parameters"] = [
                param
                for param in holder["parameters"]
                if not (
                    param.get("in") == "header"
                    and str(param.get("name", "")).lower() in _IGNORED_HEADER_PARAMS
                )
            ]


def _schema_nullable(document: dict[str, Any], ref: str) -> bool:
    node: Any = document
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return isinstance(node, dict) and node.get("nullable") is True


def _fix_nullable_refs(document: dict[str, Any]) -> None:
    def visit(node: Any) -> None:
        if isinstance(node, dict):
            all_of = node.get("allOf")
            if (
                node.get("nullable") is True
                and "type" not in node
                and isinstance(all_of, list)
                and len(all_of) == 1
                and "$ref" in all_of[0]
                and not _schema_nullable(document, all_of[0]["$ref"])
            ):
                del node["allOf"]
                node["anyOf"] = [all_of[0], {"enum": [None]}]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(document.get("components", {}))


def _fix_polymorphic(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    bases = {
        name: schema for name, schema in schemas.items()
        if isinstance(schema.get("discriminator"), dict)
        and schema["discriminator"].get("mapping")
        and not any(k in schema for k in ("oneOf", "anyOf"))
    }
    replacements: dict[str, str] = {}
    variant_names: set[str] = set()
    for name, schema in bases.items():
        prop = schema["discriminator"]["propertyName"]
        branches = []
        for value, target in schema["discriminator"]["mapping"].items():
            variant_names.add(target.rsplit("/", 1)[-1])
            branches.append({"allOf": [
                {"$ref": target},
                {"type": "object", "properties": {prop: {"enum": [value], GUARD: True}}},
            ]})
        generated = f"{name}Polymorphic"
        schemas[generated] = {"anyOf": branches, "description": f"{name}, one of its mapped variants"}
        replacements[f"#/components/schemas/{name}"] = f"#/components/schemas/{generated}"
    if not replacements:
        return

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in replacements:
                node["$ref"] = replacements[ref]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(document.get("paths", {}))
    skip = set(bases) | variant_names | {f"{n}Polymorphic" for n in bases}
    for name, schema in schemas.items():
        if name not in skip:
            visit(schema)


def _fix_catalogi(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name, prop in (
        ("ZaakType", "informatieobjecttypen"),
        ("ZaakTypeCreate", "informatieobjecttypen"),
        ("ZaakTypeUpdate", "informatieobjecttypen"),
        ("InformatieObjectType", "zaaktypen"),
    ):
        schema = schemas.get(name)
        if schema and schema.get("properties", {}).get(prop, {}).get("type") == "string":
            description = schema["properties"][prop].get("description", "")
            schema["properties"][prop] = dict(_URI_ARRAY, description=description)

    for path_item in document.get("paths", {}).values():
        get = path_item.get("get")
        if not isinstance(get, dict):
            continue
        resource, _, action = str(get.get("operationId", "")).partition("_")
        target = _UNSPECIFIED_READS.get(resource)
        if target is None or action not in ("retrieve", "list"):
            continue
        media = get["responses"]["200"]["content"]["application/json"]
        ref = {"$ref": f"#/components/schemas/{target}"}
        if action == "retrieve" and "Unspecified" in str(media["schema"].get("description")):
            media["schema"] = ref
        elif action == "list":
            results = media["schema"].get("properties", {}).get("results", {})
            if "Unspecified" in str(results.get("items", {}).get("description")):
                results["items"] = ref


def apply_fixes(api: str, document: dict[str, Any], served_base_path: str) -> dict[str, Any]:
    """Apply the corrections for ``api`` to ``document`` (in place) and return it."""
    document["servers"] = [{"url": served_base_path}]
    _drop_ignored_header_params(document)
    _fix_nullable_refs(document)
    _fix_polymorphic(document)
    if api == "catalogi":
        _fix_catalogi(document)
    return document
