"""The ZGW paginated list shape: ``count``, ``next``, ``previous``, ``results``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from .errors import invalid


def page_number(raw: str | None) -> int:
    if raw in (None, ""):
        return 1
    try:
        number = int(raw)
    except ValueError:
        raise invalid("page", "invalid", f"Ongeldige pagina {raw!r}.") from None
    if number < 1:
        raise invalid("page", "invalid", f"Ongeldige pagina {raw!r}.")
    return number


def paginate(items: Sequence[Any], *, page: int, page_size: int, base_url: str,
             query: list[tuple[str, str]]) -> dict[str, Any]:
    """One page of ``items``; ``next``/``previous`` keep the other query params.

    A page past the last one is a 400 (``ValidatieFout``): DRF answers 404
    there, but the list operations of the specs do not declare 404.
    """
    size = max(1, int(page_size))
    pages = max(1, -(-len(items) // size))
    if page > pages:
        raise invalid("page", "invalid", f"Ongeldige pagina {page}: er zijn {pages} pagina's.")
    start = (page - 1) * size

    def link(number: int) -> str:
        params = [(k, v) for k, v in query if k != "page"] + [("page", str(number))]
        return f"{base_url}?{urlencode(params)}"

    return {
        "count": len(items),
        "next": link(page + 1) if page < pages else None,
        "previous": link(page - 1) if page > 1 else None,
        "results": list(items[start:start + size]),
    }
