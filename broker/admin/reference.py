"""The configuration reference (``docs/configuration.md``), generated from the models the broker
validates its files with, so it cannot drift from them.

Every key of every file: broker.yaml, routes.yaml with the options of each built-in adapter,
zaaktypecatalogus.yaml, applications.yaml and the mapping files. A key's description is the field's
``description``, else the ``#:`` comment above it in the source, else the comment after it, else an
entry of :data:`EXTRA` (for models whose source says nothing). ``stuf-broker config reference --write``
writes the file; tests/test_docs.py fails when the committed file is stale.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from broker.adapters import registry
from broker.config import PROJECT_ROOT, BrokerSettings
from broker.mappings.applications import ApplicationsFile
from broker.mappings.catalogus import CatalogusFile
from broker.mappings.schema import MappingFile
from broker.routing.config import RoutesFile

REFERENCE_FILE = PROJECT_ROOT / "docs" / "configuration.md"

#: descriptions for keys whose source has none, by (model name, key)
EXTRA: dict[tuple[str, str], str] = {
    ("BrokerSettings", "gemeentecode"): "CBS code of the gemeente (4 digits, in quotes); zaakidentificaties start with it (RGBZ)",
    ("BrokerSettings", "limits"): "sizes and times the HTTP edge allows",
    ("BrokerSettings", "checks"): "checks beyond the schema",
    ("BrokerSettings", "soap"): "how answers are sent",
    ("BrokerSettings", "server"): "the HTTP server of `stuf-broker serve`",
    ("SystemId", "organisatie"): "StUF organisatie (absent: any)",
    ("SystemId", "applicatie"): "StUF applicatie (absent: any)",
    ("SystemId", "administratie"): "StUF administratie (absent: any)",
    ("SystemId", "gebruiker"): "StUF gebruiker (absent: any)",
    ("Limits", "max_headers"): "how many request headers (HTTP 431 beyond)",
    ("Limits", "max_namespace_declarations"): "namespace declarations in one message (StUF055 beyond)",
    ("Limits", "max_mime_parts"): "MIME parts of an MTOM message (StUF055 beyond)",
    ("CertificateAuth", "fingerprint_sha256"): "the SHA-256 fingerprint of the client certificate (hex, colons optional)",
    ("Server", "host"): "interface to listen on (`0.0.0.0`: every interface)",
    ("Server", "port"): "TCP port",
    ("Server", "workers"): "server processes of `stuf-broker serve`",
    ("Tls", "certificate"): "the server's certificate (PEM, with its chain)",
    ("Tls", "key"): "the certificate's private key (PEM)",
    ("RoutesFile", "targets"): "the delivery targets by name; `adapter` says which kind, the other keys are that adapter's options (below)",
    ("RoutesFile", "routes"): "which targets receive which messages; the first route that matches decides",
    ("RoutesFile", "delivery"): "the delivery policy of queued deliveries",
    ("TargetDef", "adapter"): "the kind of target: " + ", ".join(sorted(registry.ALIASES)),
    ("Route", "operations"): "operation names (creeerZaak, geefZaakdetails, ...) or `*` for every ZDS operation",
    ("Route", "zenders"): "zender applicaties the route is for; empty: any zender",
    ("Route", "zaaktypen"): "zaaktype codes the route is for; empty: any zaaktype",
    ("Route", "deliver"): "the targets in order; the first answers the sender (it must be `sync` for queries and Di02)",
    ("DeliverTo", "target"): "a name under `targets`",
    ("DeliverTo", "mode"): "`sync`: delivered before the sender is answered; `queued`: afterwards, with retries",
    ("DeliveryPolicy", "max_attempts"): "attempts before a delivery is dead",
    ("DeliveryPolicy", "max_age_seconds"): "age after which a failing delivery is dead",
    ("DeliveryPolicy", "backoff_initial_seconds"): "wait after the first failed attempt (exponential backoff with full jitter)",
    ("DeliveryPolicy", "backoff_max_seconds"): "longest wait between attempts",
    ("DeliveryPolicy", "lease_seconds"): "how long a worker holds a delivery before another may take it over",
    ("DeliveryPolicy", "circuit_failure_threshold"): "failures in a row that open a target's circuit",
    ("DeliveryPolicy", "circuit_open_seconds"): "how long an open circuit waits before a probe",
    ("DeliveryPolicy", "poll_seconds"): "how often an idle worker looks for due deliveries",
    ("DeliveryPolicy", "batch_size"): "deliveries a worker process claims at once, split over its `concurrency` "
                                      "(larger claims cost less per delivery: a claim and a group commit per claim); "
                                      "a worker in `serve` claims at most 25 at once",
    ("StufOptions", "url"): "the other ZDS endpoint's base URL (the port name is appended)",
    ("StufOptions", "timeout"): "seconds to wait for its answer",
    ("StufOptions", "soap_version"): "SOAP version of the forwarded message (quote it: \"1.2\")",
    ("WebhookOptions", "url"): "where the JSON events are POSTed",
    ("WebhookOptions", "timeout"): "seconds to wait for the subscriber",
    ("WebhookOptions", "headers"): "extra HTTP headers (e.g. an API key)",
    ("ZgwOptions", "zaken_url"): "base URL of the Zaken API (…/zaken/api/v1)",
    ("ZgwOptions", "catalogi_url"): "base URL of the Catalogi API",
    ("ZgwOptions", "documenten_url"): "base URL of the Documenten API",
    ("ZgwOptions", "besluiten_url"): "base URL of the Besluiten API",
    ("ZgwOptions", "client_id"): "client id of the JWT the broker signs (ZGW autorisatie)",
    ("ZgwOptions", "secret"): "the JWT secret itself (prefer `secret_env`)",
    ("ZgwOptions", "secret_env"): "environment variable that holds the JWT secret",
    ("ZgwOptions", "timeout"): "seconds to wait for each API call",
    ("ZgwOptions", "large_document_bytes"): "documents larger than this are uploaded in bestandsdelen (lock/unlock)",
    ("ZgwOptions", "catalogi_cache_seconds"): "how long Catalogi lookups are cached",
    ("ZgwOptions", "mappings"): "the mapping files this target uses (default: all of them)",
    ("ZgwOptions", "identificaties"): "per kind (zaak, document, besluit): a template such as `{gemeentecode}Z{jaar}{volgnummer:06d}`, or `reserve` (Open Zaak's documentnummer_reserveren)",
    ("CatalogusFile", "zaaktypen"): "the zaaktypen of the embedded zaaksysteem",
    ("ZaakTypeDef", "code"): "the code ZDS clients send (isVan/gerelateerde/code)",
    ("ZaakTypeDef", "omschrijving"): "the zaaktype's name",
    ("ZaakTypeDef", "ingangsdatum"): "JJJJMMDD, in quotes",
    ("ZaakTypeDef", "statustypen"): "the statussen a zaak of this type may get",
    ("ZaakTypeDef", "roltypen"): "the roltypen of this zaaktype",
    ("StatusType", "volgnummer"): "order of the status (unique within the zaaktype)",
    ("StatusType", "omschrijving"): "the status's name",
    ("StatusType", "code"): "the code ZDS clients send",
    ("StatusType", "eindstatus"): "setting this status closes the zaak",
    ("RolType", "omschrijving"): "the roltype's name",
    ("DocumentType", "omschrijving"): "the document type's name (dct.omschrijving)",
    ("DocumentType", "code"): "its code",
    ("ApplicationsFile", "trusted_proxies"): "addresses (CIDR) of reverse proxies that may pass a verified client certificate in a header",
    ("ApplicationsFile", "proxy_certificate_header"): "the header such a proxy puts the certificate in (PEM, URL-encoded)",
    ("ApplicationsFile", "usernametoken_window_seconds"): "how far a UsernameToken's Created may be from now",
    ("ApplicationsFile", "applications"): "the applications the broker knows",
    ("ApplicationEntry", "organisatie"): "the zender's organisatie (absent: any)",
    ("ApplicationEntry", "applicatie"): "the zender's applicatie, as its stuurgegevens name it",
    ("ApplicationEntry", "authentication"): "how it proves that identity (any one of the kinds, unless `require: all`)",
    ("ApplicationEntry", "operations"): "the operations it may send, or `*`",
    ("ApplicationEntry", "zaaktypen"): "the zaaktypen it may send messages about (absent: any)",
    ("Authentication", "certificate"): "a client certificate",
    ("Authentication", "basic"): "HTTP basic",
    ("Authentication", "usernametoken"): "a WS-Security UsernameToken",
    ("Authentication", "require"): "`any`: one configured kind suffices; `all`: every configured kind",
    ("CertificateAuth", "subject"): "the certificate's subject, e.g. `CN=forms.gemeente.nl`",
    ("PasswordAuth", "username"): "the user name",
    ("PasswordAuth", "password_env"): "environment variable that holds the password",
}

FILES: list[tuple[str, str, type[BaseModel]]] = [
    ("broker.yaml", "The broker's settings. Every key is optional. Environment variables override single "
     "settings: `STUF_BROKER_DATABASE_URL`, `STUF_BROKER_DATA_DIR`, `STUF_XSD_DIR`.", BrokerSettings),
    ("routes.yaml", "Targets, routes and the delivery policy (optional: without it every message goes `sync` to "
     "the embedded zaaksysteem). Taken into use while the broker runs when it is valid.", RoutesFile),
    ("zaaktypecatalogus.yaml", "The zaaktypen of the embedded zaaksysteem. Versioned and hot-reloaded.", CatalogusFile),
    ("applications.yaml", "The applications that may call the broker and how they prove who they are "
     "(example: `docs/applications.example.yaml`). Versioned and hot-reloaded.", ApplicationsFile),
    ("mappings/*.yaml", "How ZDS values become ZGW resources, for the `zgw` adapter (JSON Schema: "
     "`docs/mappings.schema.json`). Versioned and hot-reloaded.", MappingFile),
]


def adapter_options() -> list[tuple[str, type[BaseModel]]]:
    """(alias, options model) of every built-in adapter."""
    from broker.adapters.zgw.adapter import ZgwOptions

    out: list[tuple[str, type[BaseModel]]] = []
    for alias, factory in sorted(registry.ALIASES.items()):
        if isinstance(factory, registry.Adapter):
            out.append((alias, factory.options))
        elif alias == "zgw":
            out.append((alias, ZgwOptions))
    return out


def _comments(model: type) -> dict[str, str]:
    """Field name -> the ``#:`` comment above it, or the comment after it, in the class's source."""
    try:
        lines = inspect.getsource(model).splitlines()
    except (OSError, TypeError):
        return {}
    found: dict[str, str] = {}
    above: list[str] = []
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith("#:"):
            above.append(stripped[2:].strip())
            continue
        match = re.match(r"^    (\w+)\s*:[^=]*?(=.*)?$", line)
        if match and not line.startswith("     "):
            name = match.group(1)
            after = re.search(r"\s#\s*(?!type:|noqa)(.+)$", line)
            text = " ".join(above) or (after.group(1).strip() if after else "")
            if text:
                found[name] = text
        above = []
    return found


def _describe(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    if field.description:
        return field.description.replace("``", "`")
    for cls in model.__mro__:
        if isinstance(cls, type) and issubclass(cls, BaseModel) and name in getattr(cls, "model_fields", {}):
            text = _comments(cls).get(name) or EXTRA.get((cls.__name__, name))
            if text:
                return text.replace("``", "`")
    return ""


def _type(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(args[0])
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        kinds = [_type(a) for a in args if a is not type(None)]
        return " or ".join(kinds) + (" (optional)" if type(None) in args else "")
    if origin is list:
        return f"list of {_type(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {_type(args[0])} to {_type(args[1])}" if args else "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return {str: "text", int: "whole number", float: "number", bool: "true/false", Path: "path"}.get(
        annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default is PydanticUndefined and field.default_factory else field.default
    if isinstance(value, BaseModel) or value is None:
        return ""
    if isinstance(value, Path):
        return f"`{value}`"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _inner(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The model inside an annotation, and how its keys are reached: '' (a mapping), '[]' (list
    items) or '.<name>' (values of a mapping by name)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, ""
    if origin is list and args:
        model, how = _inner(args[0])
        return model, "[]" + how
    if origin is dict and len(args) == 2:
        model, how = _inner(args[1])
        return model, ".<name>" + how
    for arg in args:
        model, how = _inner(arg)
        if model is not None:
            return model, how
    return None, ""


def rows(model: type[BaseModel], prefix: str = "", seen: tuple[type, ...] = ()) -> Iterator[tuple[str, str, str, str]]:
    """(key, type, default, description) of every key of ``model``, nested keys dotted."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        yield key, _type(field.annotation), _default(field), _describe(model, name)
        inner, how = _inner(field.annotation)
        if inner is not None and inner not in seen:
            yield from rows(inner, f"{key}{how}.", (*seen, model))


def _table(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, kind, default, text in rows(model, prefix):
        cells = [f"`{key}`", kind, default, text]
        out.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return out


def reference() -> str:
    out = [
        "# Configuration reference",
        "",
        "<!-- generated by `stuf-broker config reference --write` from the models in broker/; do not edit -->",
        "",
        "Every key of every file in the configuration directory. Which directory: `--config DIR`, else",
        "`$STUF_BROKER_CONFIG`, else `config/` of the checkout. Check a directory with",
        "`stuf-broker check --config DIR` (every problem as `file:line`). In list items, `[]` stands for",
        "each item; `<name>` for a name you choose (a target, a zaaktype code, a zender).",
        "",
    ]
    for filename, intro, model in FILES:
        out += [f"## {filename}", "", intro, "", *_table(model), ""]
        if model is RoutesFile:
            for alias, options in adapter_options():
                out += [f"### Options of a `{alias}` target", "",
                        f"Under `targets.<name>`, beside `adapter: {alias}`.", "",
                        *_table(options, "targets.<name>."), ""]
    return "\n".join(out).rstrip("\n") + "\n"
