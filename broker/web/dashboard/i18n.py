"""The dashboard in Dutch and English: a small message catalogue, English text as the key.

Each user chooses a language (``users.language``; Dutch when not chosen). Before signing in the
choice comes from the ``lang`` cookie (set when someone picks a language), then from the browser's
Accept-Language, then Dutch. Texts are ``str.format`` templates: ``t("{n} messages", n=3)``.
A text missing from the catalogue shows in English.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from broker.web.dashboard.catalogue import DUTCH

LANGUAGES = {"nl": "Nederlands", "en": "English"}
DEFAULT = "nl"
COOKIE = "stuf_broker_lang"
_CATALOGUES: dict[str, dict[str, str]] = {"nl": DUTCH, "en": {}}


def translator(lang: str) -> Callable[..., str]:
    table = _CATALOGUES.get(lang, {})

    def t(text: str, **values: Any) -> str:
        out = table.get(text, text)
        return out.format(**values) if values else out

    return t


def plural_translator(lang: str) -> Callable[..., str]:
    t = translator(lang)

    def tn(one: str, many: str, n: int, **values: Any) -> str:
        return t(one if n == 1 else many, n=n, **values)

    return tn


def choose(user_language: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of a page: the user's own choice, the cookie, the browser's first known language, Dutch."""
    for value in (user_language, cookie):
        if value in LANGUAGES:
            return value
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT
