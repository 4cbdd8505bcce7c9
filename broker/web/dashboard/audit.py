"""The audit log: who did what, when (retries, cancels, mapping saves and rollbacks, accounts).

``record`` writes in the caller's transaction, so an action and its entry commit together. The
detail never holds personal data: ids, counts, filters, names of configurations and accounts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.web.dashboard.tables import AuditEntry


def record(session: Session, actor: str, action: str, detail: dict[str, Any]) -> AuditEntry:
    entry = AuditEntry(at=datetime.now(UTC), actor=actor[:120], action=action[:60], detail=detail)
    session.add(entry)
    return entry


def recent(session: Session, limit: int = 100, before_id: int | None = None,
           action: str | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id:
        stmt = stmt.where(AuditEntry.id < before_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(session.execute(stmt).scalars())
