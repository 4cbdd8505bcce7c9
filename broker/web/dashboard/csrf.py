"""CSRF protection: a random token per session, required in every POST form (synchroniser token).

The token lives in the signed session cookie and is rendered into each form as ``csrf_token``; a
POST whose field does not match (compared in constant time) is refused with 403 before the view
runs. The cookie is also ``SameSite=Strict``, a second line of defence.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

FIELD = "csrf_token"
_KEY = "csrf"


def token(session: MutableMapping[str, Any]) -> str:
    """The session's token, created on first use."""
    value = session.get(_KEY)
    if not isinstance(value, str) or len(value) < 32:
        value = secrets.token_urlsafe(32)
        session[_KEY] = value
    return value


def valid(session: MutableMapping[str, Any], submitted: object) -> bool:
    expected = session.get(_KEY)
    if not isinstance(expected, str) or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def rotate(session: MutableMapping[str, Any]) -> str:
    """A fresh token (after login), so a token seen before signing in is worthless afterwards."""
    session.pop(_KEY, None)
    return token(session)
