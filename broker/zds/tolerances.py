"""The tolerances the broker knows: named deviations from StUF/ZDS that known clients make.

The broker is strict by default. An administrator may declare, per application in
``applications.yaml`` (``tolerances: [...]``), which of these the broker accepts from that zender;
a message accepted under a tolerance records its name in the message log (column ``tolerances``),
shows it on the dashboard's message page and counts it in ``stuf_broker_tolerated_total``.
Where each is applied: broker.intake.rules.tolerate (before the schema validation) and the rule
modules of broker.intake.rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    name: str
    #: what the client does that the standard does not allow
    deviation: str
    #: what the broker then does
    then: str
    #: the rule of docs/stuf-rules.md it relaxes
    rule: str


SCOPE_UNKNOWN_ELEMENT = "scope_unknown_element"
ACTUALISEER_ZAAKSTATUS_T = "actualiseerzaakstatus_mutatiesoort_t"
SORTERING_UNSUPPORTED = "sortering_unsupported"
FUTURE_MUTATION = "future_mutation"
OLD_OBJECT_INCOMPLETE = "old_object_incomplete"

KNOWN: dict[str, Tolerance] = {t.name: t for t in (
    Tolerance(SCOPE_UNKNOWN_ELEMENT,
              "a vraag (zakLv01, ...) whose scope holds an element the schema does not allow there",
              "the broker leaves that element out of the scope and answers the rest", "R-ZDS-01 (schema)"),
    Tolerance(ACTUALISEER_ZAAKSTATUS_T,
              "actualiseerZaakstatus sent with mutatiesoort T instead of W (two objects, old and new)",
              "the broker processes it as mutatiesoort W", "R-ZDS-02"),
    Tolerance(SORTERING_UNSUPPORTED,
              "a vraag asking for a sortering the broker does not apply to that question",
              "the broker answers in its own order", "R-VA-10"),
    Tolerance(FUTURE_MUTATION,
              "an Lk01 whose beginGeldigheid lies after its tijdstipBericht (a future mutation, "
              "often a client's clock ahead of the broker's)",
              "the broker processes it as a current mutation", "R-KG-15"),
    Tolerance(OLD_OBJECT_INCOMPLETE,
              "a W kennisgeving (updateZaak, ...) whose old object lacks elements the new object holds "
              "(the client does not know the old values; STV0000047)",
              "the broker reads the missing old values as empty (geenWaarde) and applies the new object",
              "R-KG-12"),
)}
