"""Extra string formats for openapi-core's format checker.

jsonschema only checks ``format: uri`` when the optional ``rfc3987``
package is installed, and then it rejects the empty string that ZGW
servers legitimately return for unset URL fields.  The ZGW APIs refer to
every other resource by absolute URL, so a relative or scheme-less
reference is a real client bug: this checker accepts ``""`` or an
absolute URL (scheme and, for http(s), a host).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def is_uri(value: Any) -> bool:
    if not isinstance(value, str) or value == "":
        return True
    if any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    if not parts.scheme:
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return True


EXTRA_FORMATS: dict[str, Any] = {"uri": is_uri}
