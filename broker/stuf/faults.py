"""The one place where errors become StUF foutberichten (Fo02 / Fo03, protocolbindingen §3).

Every layer raises :class:`broker.errors.StufError` (or lets a foreign exception escape); the SOAP
edge calls :func:`to_stuf_error` and :func:`fo_bericht` and nothing else builds a fault. A foreign
exception never reaches the sender as a stack trace: it becomes StUF058 (server) with a neutral
omschrijving, and the trace goes to the log.
"""

from __future__ import annotations

from lxml import etree

from broker.errors import AdapterError, StufError
from broker.stuf import ns
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem, answer_to, write

_MAX_OMSCHRIJVING = 200
_MAX_DETAILS = 1000
_MAX_REF = 40
_UNKNOWN_APP = "ONBEKEND"


def to_stuf_error(exc: BaseException) -> StufError:
    """Map any exception to the StufError that describes it to the sender."""
    if isinstance(exc, StufError):
        return exc
    if isinstance(exc, AdapterError):
        if exc.fault is not None:
            return exc.fault
        code = "StUF058"
        return StufError(code, "Het zaaksysteem kon het bericht niet verwerken", str(exc)[:_MAX_DETAILS])
    return StufError("StUF058", "Er is een interne fout opgetreden bij het verwerken van het bericht")


def _clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _safe_system(s: Systeem | None) -> Systeem:
    """The mirrored zender/ontvanger, fit for the schema: an applicatie of at least 3 characters, and
    each field within its maxLength (StUF:Systeem), however long the request's values were."""
    base = s or Systeem()
    applicatie = base.applicatie if base.applicatie and len(base.applicatie) >= 3 else _UNKNOWN_APP
    return Systeem(_clip(base.organisatie, 200), _clip(applicatie, 50), _clip(base.administratie, 50),
                   _clip(base.gebruiker, 100))


def fo_bericht(kind: str, error: StufError, request: Stuurgegevens | None, own: Systeem) -> etree._Element:
    """Build ``StUF:Fo01Bericht``/``Fo02Bericht``/``Fo03Bericht`` for ``error``.

    Fo02 carries only the berichtcode; Fo01/Fo03 mirror zender and ontvanger and refer to the
    request with crossRefnummer (StUF 03.01 §4.4.3).
    """
    assert kind in ("Fo01", "Fo02", "Fo03")
    root = etree.Element(ns.q(ns.STUF, f"{kind}Bericht"), nsmap={"StUF": ns.STUF})
    if kind == "Fo02":
        sg = Stuurgegevens(berichtcode="Fo02")
    else:
        req = request or Stuurgegevens()
        sg = answer_to(req, kind, own)
        sg = Stuurgegevens(
            berichtcode=kind,
            zender=_safe_system(sg.zender),
            ontvanger=_safe_system(sg.ontvanger),
            referentienummer=sg.referentienummer,
            tijdstipBericht=sg.tijdstipBericht,
            crossRefnummer=_clip(req.referentienummer, _MAX_REF) or "onbekend",
        )
    write(root, ns.q(ns.STUF, "stuurgegevens"), sg)
    body = etree.SubElement(root, ns.q(ns.STUF, "body"))
    etree.SubElement(body, ns.q(ns.STUF, "code")).text = error.code
    etree.SubElement(body, ns.q(ns.STUF, "plek")).text = error.plek
    etree.SubElement(body, ns.q(ns.STUF, "omschrijving")).text = _clip(error.omschrijving, _MAX_OMSCHRIJVING)
    if error.details:
        etree.SubElement(body, ns.q(ns.STUF, "details")).text = _clip(error.details, _MAX_DETAILS)
    return root


def fault_kind(port: str, berichtcode: str | None = None) -> str:
    """Fo03 answers a message received on OntvangAsynchroon; every synchronous port answers Fo02."""
    return "Fo03" if port.rsplit("/", 1)[-1] == "OntvangAsynchroon" else "Fo02"
