"""Tolerances that change what the broker reads, applied before the schema validation.

- ``actualiseerzaakstatus_mutatiesoort_t``: an actualiseerZaakstatus with mutatiesoort T and two
  objects is read as mutatiesoort W;
- ``scope_unknown_element``: an element the schema does not allow in a vraag's scope is left out of
  the scope, when every schema problem of the message lies in its scope.
The message log keeps the message as received; a queued delivery is rebuilt from it with the same
tolerances (:func:`reapply`), so every target sees what the broker accepted (a vraag is never
queued: the scope tolerance needs no rebuild).
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from broker.intake.rules.base import Tolerated
from broker.stuf.schemas import SchemaSet, ValidationIssue
from broker.zds.tolerances import ACTUALISEER_ZAAKSTATUS_T, SCOPE_UNKNOWN_ELEMENT

#: how many foreign scope elements are left out before the message is refused after all
MAX_DROPPED = 10


def prepare(body: etree._Element, operation: str, tolerated: Tolerated) -> None:
    if operation == "actualiseerZaakstatus":
        soort = body.find("{*}parameters/{*}mutatiesoort")
        if soort is not None and (soort.text or "").strip() == "T" and len(body.findall("{*}object")) == 2 \
                and tolerated.allows(ACTUALISEER_ZAAKSTATUS_T):
            soort.text = "W"


def reapply(body: etree._Element, operation: str, names: Iterable[str]) -> None:
    """The tolerances a stored message was accepted under, applied again to its rebuilt body."""
    prepare(body, operation, Tolerated(names))


def validate(schemas: SchemaSet, body: etree._Element, tolerated: Tolerated) -> None:
    """The schema validation (StUF055), with the scope tolerance when it is granted."""
    scope = body.find("{*}scope")
    if scope is None or SCOPE_UNKNOWN_ELEMENT not in tolerated.granted:
        schemas.assert_valid(body)
        return
    for _ in range(MAX_DROPPED):
        problems = schemas.issues(body)
        if not problems:
            return
        if not _drop_foreign(body, scope, problems):
            break
        tolerated.allows(SCOPE_UNKNOWN_ELEMENT)
    schemas.assert_valid(body)


def _drop_foreign(body: etree._Element, scope: etree._Element, problems: list[ValidationIssue]) -> bool:
    """Remove the scope elements the problems name; False (nothing removed) unless all lie in the scope."""
    found: list[etree._Element] = []
    for p in problems:
        # the path starts at the message element (validated as a document of its own)
        steps = p.path.split("/")
        if "not expected" not in p.message or len(steps) < 3 or steps[0]:
            return False
        try:
            hits = body.xpath("/".join(steps[2:]), namespaces={k: v for k, v in body.nsmap.items() if k})
        except etree.XPathError:
            return False
        if not isinstance(hits, list) or len(hits) != 1 or not isinstance(hits[0], etree._Element):
            return False
        el = hits[0]
        if scope not in el.iterancestors():
            return False
        found.append(el)
    for el in found:
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
    return bool(found)

