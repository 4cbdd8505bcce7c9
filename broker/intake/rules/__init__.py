"""Semantic rules of StUF 03.01 and ZDS 1.2 that the schemas cannot express (docs/stuf-rules.md).

One module per family, each reading only the parts of the parsed body it needs:

- versie.py: StUF version, sector model and its version, asynchronous answers (StUF001/004/007/043),
  before the operation is looked up (:func:`check_first`);
- tolerate.py: the tolerances that change what is read, and the schema validation (:func:`validate`);
- tijdvak.py (group D, StUF068), kennisgeving.py (group C, STV0000047), novalue.py (group E) and
  selectie.py (group F), after the schema validation, so they may rely on the message's structure
  (:func:`check`).

A rule's fault names the rule in its details (``regel R-TV-03: ...``). The tolerances the zender is
granted (applications.yaml) come in a :class:`Tolerated`, which records those the message needed.
"""

from __future__ import annotations

from lxml import etree

from broker.intake.rules import kennisgeving, novalue, selectie, tijdvak, tolerate, versie
from broker.intake.rules.base import Tolerated, relations
from broker.stuf.schemas import SchemaSet
from broker.stuf.stuurgegevens import Stuurgegevens

__all__ = ["Tolerated", "check", "check_first", "reapply", "validate"]

check_first = versie.check
reapply = tolerate.reapply


def validate(schemas: SchemaSet, body: etree._Element, operation: str, tolerated: Tolerated) -> None:
    """Tolerances that change the message, then the schema validation (StUF055)."""
    tolerate.prepare(body, operation, tolerated)
    tolerate.validate(schemas, body, tolerated)


def check(body: etree._Element, operation: str, sg: Stuurgegevens, tolerated: Tolerated) -> None:
    """The semantic rules for a schema-valid message; the first broken rule raises its StufError."""
    if sg.berichtcode == "Lk01":
        objects = body.findall("{*}object")
        soort = body.find("{*}parameters/{*}mutatiesoort")
        mutatiesoort = (soort.text or "").strip() if soort is not None else None
        novalue.check(body)
        rels = [relations(o) for o in objects]
        kennisgeving.check(objects, rels, mutatiesoort, tolerated)
        tijdvak.check(objects, rels, mutatiesoort, sg.tijdstipBericht, tolerated)
    elif sg.berichtcode == "Lv01":
        novalue.check(body)
        selectie.check(body, operation, tolerated)
