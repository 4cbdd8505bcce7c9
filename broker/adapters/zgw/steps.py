"""Completed API calls of a message, so that processing it again never repeats one.

A queued delivery records its steps on the delivery row (``Context.mark_step``). When the intake calls
the ZGW target itself (sync primary, translate mode) there is no such record, and a message that
failed halfway is processed again under a new delivery (the sender resends it after a server-side
fault, or an operator retries the dead delivery). So the adapter also keeps every step in
``zgw_steps`` under (target, message id), and merges those into the context before it starts.

Before a call that creates something, the adapter marks the intent (``<step>?``): when the answer to
that call was lost, the next attempt looks for the object and adopts it instead of creating a second
one. A zaak, document or besluit is found by its identificatie; a rol, status, zaakobject or
zaakinformatieobject by its body, made from the message again, with the values the first attempt
made up itself (a status's datumStatusGezet of "now") taken from the recorded intent
(``Work.post_once``). Steps never hold personal data: a body is not recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from broker.adapters.zgw.tables import ZgwStep
from broker.model.ports import Context
from broker.store.db import Database


class StepStore:
    def __init__(self, db: Database, target: str) -> None:
        self.db = db
        self.target = target

    def load(self, message_id: int) -> dict[str, Any]:
        with self.db.read() as s:
            rows = s.execute(select(ZgwStep).where(ZgwStep.target == self.target,
                                                   ZgwStep.message_id == message_id)).scalars()
            return {r.name: r.result for r in rows}

    def save(self, message_id: int, name: str, result: Any) -> None:
        try:
            with self.db.write() as s:
                row = s.get(ZgwStep, (self.target, message_id, name))
                if row is None:
                    s.add(ZgwStep(target=self.target, message_id=message_id, name=name, result=result,
                                  created_at=datetime.now(UTC)))
                else:
                    row.result = result
        except IntegrityError:  # recorded by a concurrent attempt already
            pass

    def clear(self, message_id: int) -> None:
        """Forget the steps of a message whose delivery completed: it is never run again."""
        with self.db.write() as s:
            s.execute(delete(ZgwStep).where(ZgwStep.target == self.target, ZgwStep.message_id == message_id))

    def attach(self, ctx: Context) -> Callable[[], None]:
        """Record ``ctx``'s new steps here as well; returns the loader that merges the steps recorded
        earlier for its message into it (called before the first step: queries never pay for it)."""
        if ctx.message_id is None:
            return lambda: None
        message_id = ctx.message_id
        inner = ctx.record_step

        def record(name: str, result: Any) -> None:
            self.save(message_id, name, result)
            if inner is not None:
                inner(name, result)

        ctx.record_step = record

        def load() -> None:
            known = self.load(message_id)
            known.update(ctx.steps)
            ctx.steps = known

        return load
