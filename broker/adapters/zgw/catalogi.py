"""Lookups in the Catalogi API (1.3.1), cached for a bounded time.

A zaaktype is found by its ``identificatie`` (``GET /zaaktypen?identificatie=``), the version valid
today; its statustypen, roltypen and resultaattypen by ``?zaaktype=<url>``; informatieobjecttypen and
besluittypen through the URLs the zaaktype lists. Catalogue data change rarely and are asked for on
every message, so every answer is kept for ``ttl`` seconds (at most ``maxsize`` answers, the oldest
go first): a changed catalogue is seen within ``ttl``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

from broker.adapters.zgw.client import ZgwClient
from broker.errors import StufError

_MISSING = object()


class TtlCache:
    """A dictionary whose entries expire after ``ttl`` seconds and which holds at most ``maxsize``."""

    def __init__(self, ttl: float, maxsize: int = 512, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self.clock = clock
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return _MISSING
            expires, value = hit
            if self.clock() >= expires:
                del self._data[key]
                return _MISSING
            return value

    def put(self, key: Any, value: Any) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._data[key] = (self.clock() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class Catalogi:
    def __init__(self, client: ZgwClient, ttl: float = 300.0, maxsize: int = 512) -> None:
        self.client = client
        self.cache = TtlCache(ttl, maxsize)

    def _cached(self, key: tuple[Any, ...], fetch: Callable[[], Any]) -> Any:
        value = self.cache.get(key)
        if value is _MISSING:
            value = fetch()
            self.cache.put(key, value)
        return value

    def resource(self, url: str) -> dict[str, Any]:
        return self._cached(("GET", url), lambda: self.client.get(url))

    def _list(self, path: str, **params: str) -> list[dict[str, Any]]:
        url = self.client.url("catalogi", path)
        key = ("LIST", url, tuple(sorted(params.items())))
        return self._cached(key, lambda: self.client.all(url, params))

    # -- zaaktypen -----------------------------------------------------------------------------
    def zaaktype(self, ref: str, zds_code: str | None = None) -> dict[str, Any]:
        """The zaaktype by identificatie (the version valid today) or by URL; StUF058 when unknown."""
        if ref.startswith(("http://", "https://")):
            return self.resource(ref)
        found = self._list("zaaktypen", identificatie=ref)
        today = date.today().isoformat()
        valid = [z for z in found if (z.get("beginGeldigheid") or "") <= today
                 and (not z.get("eindeGeldigheid") or z["eindeGeldigheid"] >= today)]
        candidates = valid or found
        if not candidates:
            raise StufError(
                "StUF058",
                f"Onbekend zaaktype {zds_code or ref}",
                f"de Catalogi API kent geen (gepubliceerd) zaaktype met identificatie {ref!r}; "
                "zie de mapping (zaaktypen: <code>: zaaktype:)",
                plek="client",
            )
        return max(candidates, key=lambda z: (z.get("beginGeldigheid") or "", z.get("versiedatum") or ""))

    def statustypen(self, zaaktype_url: str) -> list[dict[str, Any]]:
        return sorted(self._list("statustypen", zaaktype=zaaktype_url), key=lambda s: s.get("volgnummer") or 0)

    def roltypen(self, zaaktype_url: str) -> list[dict[str, Any]]:
        return self._list("roltypen", zaaktype=zaaktype_url)

    def resultaattypen(self, zaaktype_url: str) -> list[dict[str, Any]]:
        return self._list("resultaattypen", zaaktype=zaaktype_url)

    def informatieobjecttypen(self, zaaktype: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.resource(url) for url in zaaktype.get("informatieobjecttypen") or []]

    def besluittypen(self, zaaktype: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.resource(url) for url in zaaktype.get("besluittypen") or []]


def by_omschrijving(types: list[dict[str, Any]], wanted: str | None, *,
                    only_one_when_unnamed: bool) -> dict[str, Any] | None:
    """The type whose omschrijving is ``wanted``; with nothing asked for, the only type there is
    (when ``only_one_when_unnamed``); otherwise None."""
    found = next((t for t in types if wanted and t.get("omschrijving") == wanted), None)
    if found is None and only_one_when_unnamed and len(types) == 1:
        return types[0]
    return found


def omschrijvingen(types: list[dict[str, Any]]) -> str:
    """The omschrijvingen of ``types``, for a fault that says what there is to choose from."""
    return ", ".join(t.get("omschrijving", "") for t in types) or "geen"
