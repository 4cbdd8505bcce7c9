"""The access log of personal data: every time a user is shown a message unmasked (AVG art. 5(2))."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.web.dashboard.tables import MessageView


def record_view(session: Session, username: str, message_id: int, what: str = "detail") -> None:
    session.add(MessageView(at=datetime.now(UTC), username=username[:100], message_id=message_id,
                            what=what[:20]))


def views(session: Session, *, message_id: int | None = None, username: str | None = None,
          limit: int = 100, before_id: int | None = None) -> list[MessageView]:
    stmt = select(MessageView).order_by(MessageView.id.desc()).limit(limit)
    if message_id is not None:
        stmt = stmt.where(MessageView.message_id == message_id)
    if username:
        stmt = stmt.where(MessageView.username == username)
    if before_id:
        stmt = stmt.where(MessageView.id < before_id)
    return list(session.execute(stmt).scalars())
