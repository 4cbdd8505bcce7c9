"""Stored requests read back: a queued message as it was received, for the delivery attempts that
run later (several at once, one statement) and for the tools that rebuild one message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from broker.store.db import Executor
from broker.store.tables import Message, MessagePayload


@dataclass(frozen=True)
class StoredRequest:
    body: bytes
    content_type: str
    soap_action: str | None
    operation: str | None
    dialect: str | None
    tolerances: tuple[str, ...] = ()


#: the columns a stored request is rebuilt from; joined by callers that read more beside them
COLUMNS = (MessagePayload.request, MessagePayload.request_content_type, Message.soap_action, Message.operation,
           Message.dialect, Message.tolerances)

_STORED_REQUESTS = (select(Message.id, *COLUMNS)
                    .join(MessagePayload, MessagePayload.message_id == Message.id)
                    .where(Message.id.in_(bindparam("message_ids", expanding=True))))


def from_row(row: Any) -> StoredRequest | None:
    """The stored request of a row with the :data:`COLUMNS`; None once its payload is purged."""
    if row.request is None:
        return None
    return StoredRequest(row.request, row.request_content_type or "text/xml", row.soap_action, row.operation,
                         row.dialect, tuple(filter(None, (row.tolerances or "").split(","))))


def stored_requests(executor: Executor, message_ids: Iterable[int]) -> dict[int, StoredRequest]:
    """The stored requests of these messages, by message id; a purged or unknown one is left out."""
    ids = list(message_ids)
    if not ids:
        return {}
    found = {}
    for row in executor.execute(_STORED_REQUESTS, {"message_ids": ids}):
        stored = from_row(row)
        if stored is not None:
            found[row.id] = stored
    return found


def stored_request(executor: Executor, message_id: int) -> StoredRequest | None:
    """The request of one message as it was received; None once purged."""
    return stored_requests(executor, [message_id]).get(message_id)
