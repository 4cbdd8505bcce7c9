"""The fake's in-memory data: resources per kind, addressed by UUID and URL.

Stored objects are the JSON representations the APIs return.  Keys that
start with ``_`` are private bookkeeping (a document's lock, its content
per version, ...) and are stripped by :func:`public`.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

#: Which API serves which kind of resource (the kind is the URL segment).
KIND_API: dict[str, str] = {
    "zaken": "zaken",
    "statussen": "zaken",
    "rollen": "zaken",
    "resultaten": "zaken",
    "zaakinformatieobjecten": "zaken",
    "zaakobjecten": "zaken",
    "zaakeigenschappen": "zaken",  # nested: /zaken/{zaak_uuid}/zaakeigenschappen/{uuid}
    "catalogussen": "catalogi",
    "zaaktypen": "catalogi",
    "statustypen": "catalogi",
    "roltypen": "catalogi",
    "informatieobjecttypen": "catalogi",
    "resultaattypen": "catalogi",
    "besluittypen": "catalogi",
    "eigenschappen": "catalogi",
    "zaaktype-informatieobjecttypen": "catalogi",
    "enkelvoudiginformatieobjecten": "documenten",
    "bestandsdelen": "documenten",
    "besluiten": "besluiten",
    "besluitinformatieobjecten": "besluiten",
}


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``obj`` without private (``_``-prefixed) keys."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


def now_iso() -> str:
    """Current UTC time as RFC 3339, like Open Zaak writes it."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def today_iso() -> str:
    return date.today().isoformat()


class Store:
    """All resources of one fake.  Thread-safe through :attr:`lock`."""

    def __init__(self, root_url: str) -> None:
        self.root_url = root_url.rstrip("/")
        self.lock = threading.RLock()
        self._objects: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._sequences: dict[str, int] = defaultdict(int)

    # -- addressing -------------------------------------------------------
    def api_url(self, api: str) -> str:
        return f"{self.root_url}/{api}/api/v1"

    def url(self, kind: str, uid: str, parent: str | None = None) -> str:
        api = KIND_API[kind]
        if kind == "zaakeigenschappen":
            return f"{self.api_url(api)}/zaken/{parent}/zaakeigenschappen/{uid}"
        return f"{self.api_url(api)}/{kind}/{uid}"

    def parse_url(self, url: str) -> tuple[str, str] | None:
        """``(kind, uuid)`` for a URL of this fake, else None."""
        if not isinstance(url, str) or not url.startswith(self.root_url + "/"):
            return None
        parts = [p for p in urlsplit(url).path.split("/") if p]
        # /{api}/api/v1/{kind}/{uuid}[/...]  or  /zaken/api/v1/zaken/{z}/zaakeigenschappen/{uuid}
        if len(parts) < 5 or parts[1:3] != ["api", "v1"]:
            return None
        if len(parts) == 7 and parts[5] == "zaakeigenschappen":
            return "zaakeigenschappen", parts[6]
        if len(parts) != 5:
            return None
        kind, uid = parts[3], parts[4]
        if KIND_API.get(kind) != parts[0]:
            return None
        return kind, uid

    # -- storage ----------------------------------------------------------
    def new_uuid(self) -> str:
        return str(uuid.uuid4())

    def next_number(self, sequence: str) -> int:
        with self.lock:
            self._sequences[sequence] += 1
            return self._sequences[sequence]

    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self._objects[kind][obj["uuid"] if "uuid" in obj else obj["_uuid"]] = obj
        return obj

    def get(self, kind: str, uid: str) -> dict[str, Any] | None:
        with self.lock:
            return self._objects[kind].get(uid)

    def remove(self, kind: str, uid: str) -> dict[str, Any] | None:
        with self.lock:
            return self._objects[kind].pop(uid, None)

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._objects[kind].values())

    def resolve(self, url: str, kind: str | None = None) -> dict[str, Any] | None:
        """The stored object a URL points to (optionally of a given kind)."""
        parsed = self.parse_url(url)
        if parsed is None or (kind is not None and parsed[0] != kind):
            return None
        return self.get(*parsed)

    def clear(self) -> None:
        with self.lock:
            self._objects.clear()
            self._sequences.clear()
