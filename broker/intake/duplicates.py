"""The same message again (StUF 03.01 §4.4.3): same zender and referentienummer.

With the same content the sender gets the stored answer again, without processing twice; with other
content StUF016. When the earlier attempt failed on the broker's side (a fault with plek server), or
is still pending, the message is processed again in place of that attempt (``None`` here).
"""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from broker.errors import StufError
from broker.intake import messagelog
from broker.intake.answers import HttpAnswer
from broker.intake.messagelog import Record
from broker.store.db import Database
from broker.store.tables import Message

log = structlog.get_logger("broker.intake")


class Duplicates:
    def __init__(self, db: Database) -> None:
        self.db = db

    def find(self, key: str) -> Message | None:
        with self.db.read() as session:
            return messagelog.find_duplicate(session, key)

    def earlier_answer(self, rec: Record, key: str) -> HttpAnswer | None:
        """For a message that failed early: the stored answer of an identical earlier one, StUF016
        when the earlier one differs, None when there is none or it is to be processed again."""
        with self.db.read() as session:
            existing = messagelog.find_duplicate(session, key)
            return self.replay(session, rec, existing) if existing is not None else None

    def replay(self, session: Session, rec: Record, existing: Message) -> HttpAnswer | None:
        """The answer for a repeat of ``existing``: its stored answer, StUF016 if the content differs,
        None to process it again."""
        if not messagelog.same_request(session, rec, existing):
            raise StufError(
                "StUF016",
                "Combinatie van zender en referentienummer is al gebruikt voor een ander bericht",
                f"referentienummer {rec.sg.referentienummer if rec.sg else ''} van deze zender is eerder "
                "ontvangen met andere inhoud",
            )
        if existing.outcome == "fault" and existing.fout_plek == "server":
            return None  # the earlier failure was ours: process the message again (StUF 03.01 §4.4.3)
        if existing.outcome == "pending":
            return None
        stored = messagelog.payload(session, existing.id)
        if stored is None or stored.answer is None:
            return None
        log.info("duplicate message answered from the log", message_id=existing.id)
        with self.db.write() as wsession:
            messagelog.count_replay(wsession, existing.id)
        return HttpAnswer(existing.http_status or 200, stored.answer, stored.answer_content_type or "text/xml",
                          existing.id)
