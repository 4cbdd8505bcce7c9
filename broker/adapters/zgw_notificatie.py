"""What identifies a notification of the ZGW Notificaties API, outside the ZGW adapter: the receiver
keys the notifications it takes with it, without importing the adapter (broker.adapters.zgw)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def identity(message: dict[str, Any]) -> str:
    """What identifies a notification: the same when the Notificaties API sends it again."""
    fields = [str(message.get(f)) for f in ("kanaal", "hoofdObject", "resource", "resourceUrl", "actie",
                                            "aanmaakdatum")]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()
