"""Finding messages by BSN without keeping a new clear-text copy of any BSN.

Each BSN found in a stored request (any nine digits that pass the 11-proef, in an element or in free
text) is kept as HMAC-SHA256 under a key of the broker's (``STUF_BROKER_BSN_KEY``, or generated once
into ``<data dir>/bsn-index-key``, mode 0600) in ``message_bsns``. Without the key the digests say
nothing; the key never leaves the broker's machine.

The index is built on demand, when someone searches: messages not yet indexed are read in batches
(the intake pays nothing). A message with no BSN gets a marker row, so it is read once.
``search_watermarks`` keeps the id below which every message has been indexed; the tail above it
is found by an anti-join, so a message committed late (ids are taken before commit) is not skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from broker.store.db import Database
from broker.store.tables import Message, MessagePayload
from broker.web.dashboard.auth import local_secret
from broker.web.dashboard.masking import is_bsn
from broker.web.dashboard.tables import MessageBsn, SearchWatermark

KEY_ENV = "STUF_BROKER_BSN_KEY"
KEY_FILE = "bsn-index-key"
WATERMARK = "bsn"
#: the digest of "read, no BSN in it"
NONE_FOUND = "-"
BATCH = 500
#: a message received this long ago is committed or gone: the watermark may pass it
SETTLED = timedelta(minutes=5)
_NINE = re.compile(rb"(?<![0-9])[0-9]{9}(?![0-9])")


def index_key(data_dir: Path, env: Mapping[str, str] | None = None) -> bytes:
    return local_secret(data_dir, KEY_ENV, KEY_FILE, env).encode()


def normalise(value: str) -> str | None:
    """A BSN as typed (spaces, dots, eight digits without the leading zero) as nine digits, or None."""
    digits = re.sub(r"[\s.\-]", "", value)
    if re.fullmatch(r"[0-9]{8}", digits):
        digits = "0" + digits
    return digits if re.fullmatch(r"[0-9]{9}", digits) and is_bsn(digits) else None


def digest(key: bytes, bsn: str) -> str:
    return hmac.new(key, bsn.encode(), hashlib.sha256).hexdigest()


def audit_digest(key: bytes, bsn: str) -> str:
    """What the audit log keeps in place of a BSN (the dashboard and ``stuf-broker afnemers`` alike):
    keyed with the index key, so that it cannot be reversed by trying every BSN."""
    return digest(key, "audit:" + bsn)[:16]


def bsns_in(data: bytes | None) -> set[str]:
    """The BSNs in a stored request (its bytes as received, MTOM parts included)."""
    if not data:
        return set()
    return {m.group().decode() for m in _NINE.finditer(data) if is_bsn(m.group().decode())}


def catch_up(db: Database, key: bytes, *, budget_seconds: float = 10.0) -> bool:
    """Index the messages not yet indexed; True when every stored message is indexed."""
    deadline = time.monotonic() + budget_seconds
    while True:
        try:
            more = _one_batch(db, key)
        except IntegrityError:  # another process indexed the same batch at the same moment
            more = True
        if not more:
            return True
        if time.monotonic() > deadline:
            return False


def _one_batch(db: Database, key: bytes) -> bool:
    with db.write() as s:
        mark = s.execute(select(SearchWatermark).where(SearchWatermark.name == WATERMARK)
                         .with_for_update()).scalar_one_or_none()
        if mark is None:
            mark = SearchWatermark(name=WATERMARK, last_id=0)
            s.add(mark)
        indexed = select(MessageBsn.message_id).where(MessageBsn.message_id == MessagePayload.message_id)
        rows = s.execute(
            select(MessagePayload.message_id, MessagePayload.request, Message.received_at)
            .join(Message, Message.id == MessagePayload.message_id)
            .where(MessagePayload.message_id > mark.last_id, ~indexed.exists())
            .order_by(MessagePayload.message_id).limit(BATCH)).all()
        settled = datetime.now(UTC) - SETTLED
        # the watermark moves only over the unbroken run of settled messages at the batch's start
        stalled = False
        for message_id, request, received_at in rows:
            found = bsns_in(request)
            for bsn in sorted(found):
                s.add(MessageBsn(digest=digest(key, bsn), message_id=message_id))
            if not found:
                s.add(MessageBsn(digest=NONE_FOUND, message_id=message_id))
            received = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
            stalled = stalled or received >= settled
            if not stalled:
                mark.last_id = message_id
        return len(rows) == BATCH
