"""What a message is about, without its content: the operation, the zaak and the object it concerns,
and who sent it. Targets that only need to know that something happened (subscribers receiving zaak
events) read this, never the message itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageFacts:
    operation: str
    message_id: int | None
    zaak: str | None
    zaaktype: str | None
    #: the identificatie of the document or besluit the message concerns
    object: str | None
    referentienummer: str | None
    #: the sending application (zender applicatie)
    zender: str | None
    tijdstip_bericht: str | None
