"""What every resource handler works with: the call, the reply, helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ApiError, invalid, not_found
from ..paging import page_number, paginate
from ..specs import LoadedSpec
from ..state import Store, public
from ..validation import Operation

if TYPE_CHECKING:
    from ..server import ZGWFake


@dataclass
class Reply:
    """A handler's answer; the server adds headers and validates it."""

    status: int
    body: Any = None  # dict/list -> JSON, bytes -> raw, None -> empty
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One validated request, as handlers see it."""

    fake: ZGWFake
    api: str
    spec: LoadedSpec
    operation: Operation
    path_params: dict[str, str]
    query: list[tuple[str, str]]
    body: Any
    form: dict[str, Any] | None
    list_url: str  # URL of the request without query string

    @property
    def store(self) -> Store:
        return self.fake.store

    def param(self, name: str) -> str | None:
        for key, value in reversed(self.query):
            if key == name:
                return value
        return None

    def page(self, items: list[dict[str, Any]],
             render: Callable[[dict[str, Any]], dict[str, Any]] = public) -> Reply:
        data = paginate(
            [render(item) for item in items],
            page=page_number(self.param("page")),
            page_size=self.fake.page_size,
            base_url=self.list_url,
            query=self.query,
        )
        return Reply(200, data)

    def plain_list(self, items: list[dict[str, Any]],
                   render: Callable[[dict[str, Any]], dict[str, Any]] = public) -> Reply:
        return Reply(200, [render(item) for item in items])


Handler = Callable[[Call], Reply]


_WRITABLE: dict[tuple[int, str], frozenset[str]] = {}


def _writable(spec: LoadedSpec, schema_name: str) -> frozenset[str]:
    key = (id(spec.document), schema_name)
    if key in _WRITABLE:
        return _WRITABLE[key]
    names: set[str] = set()

    def collect(schema: dict[str, Any]) -> None:
        if "$ref" in schema:
            collect(_deref(spec, schema["$ref"]))
            return
        for part in schema.get("allOf", []):
            collect(part)
        for name, prop in schema.get("properties", {}).items():
            if not prop.get("readOnly"):
                names.add(name)

    collect(spec.schema(schema_name))
    _WRITABLE[key] = frozenset(names)
    return _WRITABLE[key]


def _deref(spec: LoadedSpec, ref: str) -> dict[str, Any]:
    node: Any = spec.document
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def writable(spec: LoadedSpec, schema_name: str, body: dict[str, Any] | None,
             *extra: str) -> dict[str, Any]:
    """The writable fields of ``schema_name`` present in ``body`` (others dropped)."""
    allowed = _writable(spec, schema_name) | set(extra)
    return {k: v for k, v in (body or {}).items() if k in allowed}


def fetch(store: Store, kind: str, uid: str) -> dict[str, Any]:
    """The stored object or a 404 ``Fout``."""
    obj = store.get(kind, uid)
    if obj is None:
        raise not_found(f"Geen {kind} met uuid {uid}.")
    return obj


def referenced(store: Store, url: Any, kind: str, name: str, *, required: bool = True) -> dict[str, Any] | None:
    """The object a URL field refers to; 400 ``bad-url`` when it is not ours."""
    if url in (None, ""):
        if required:
            raise invalid(name, "required", "Dit veld is vereist.")
        return None
    obj = store.resolve(str(url), kind)
    if obj is None:
        raise invalid(name, "bad-url", f"De URL {url} verwijst niet naar een bestaand object ({kind}).")
    return obj


def matches(items: Iterable[dict[str, Any]], call: Call, filters: dict[str, str]) -> list[dict[str, Any]]:
    """Items whose field equals each given query parameter (``{param: field}``)."""
    out = list(items)
    for param, fieldname in filters.items():
        wanted = call.param(param)
        if wanted is None:
            continue
        out = [item for item in out if _text(item.get(fieldname)) == wanted]
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def check_rsins(call: Call, obj: dict[str, Any], *names: str) -> None:
    """400 for an RSIN that fails the 11-proef, like Open Zaak (vng-api-common)."""
    if not call.fake.check_rsin:
        return
    for name in names:
        value = obj.get(name)
        if value in (None, ""):
            continue
        value = str(value)
        if not value.isdigit():
            raise invalid(name, "only-digits", "Waarde moet numeriek zijn.")
        if len(value) != 9:
            raise invalid(name, "invalid-length", "RSIN moet 9 tekens lang zijn.")
        total = sum((-1 if weight == 1 else weight) * int(digit)
                    for weight, digit in enumerate(reversed(value), start=1))
        if total % 11:
            raise invalid(name, "invalid", "Onjuist RSIN nummer")


def created(obj: dict[str, Any]) -> Reply:
    return Reply(201, public(obj), headers={"Location": obj["url"]})


def unique_identificatie(store: Store, kind: str, org_field: str, obj: dict[str, Any],
                         exclude: str | None = None) -> None:
    """400 ``identificatie-niet-uniek`` when another object has the same pair."""
    for other in store.all(kind):
        if other is obj or other.get("url") == exclude:
            continue
        if (other.get("identificatie"), other.get(org_field)) == (obj.get("identificatie"), obj.get(org_field)):
            raise invalid(
                "identificatie",
                "identificatie-niet-uniek",
                f"Deze identificatie ({obj.get('identificatie')}) bestaat al voor deze {org_field}.",
            )


__all__ = [
    "ApiError", "Call", "Handler", "Reply", "check_rsins", "created", "fetch", "invalid", "matches",
    "not_found", "referenced", "unique_identificatie", "writable",
]
