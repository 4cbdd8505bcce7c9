"""Stuurgegevens checks of StUF 03.01 Tabel 4.1, in table order (only the first finding is reported).

Codes: StUF010 ontvanger, StUF013 zender, StUF016 referentienummer (missing in an asynchronous
message; duplicates are handled by the message log), StUF019 tijdstipBericht, StUF022/025
berichtcode, StUF028/031 entiteittype, StUF034/037 functie, StUF040 the combination.
"""

from __future__ import annotations

from broker.config import BrokerSettings, SystemId
from broker.errors import StufError
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem
from broker.zds.dispatch import Resolved

BERICHTCODES = frozenset(
    ["Bv01", "Bv02", "Bv03", "Bv04", "Di01", "Di02", "Du01", "Du02", "Fo01", "Fo02", "Fo03", "Tr01"]
    + [f"Lk{n:02d}" for n in range(1, 7)]
    + [f"Lv{n:02d}" for n in range(1, 15)]
    + [f"La{n:02d}" for n in range(1, 15)]
    + [f"Sa{n:02d}" for n in range(1, 5)]
    + [f"Sh{n:02d}" for n in range(1, 5)]
)

#: entity types of StUF-ZKN 03.10 and StUF-BG 03.10 a sender may name
ENTITEITTYPEN = frozenset(
    "ZAK EDC BSL STT ZKT STA DCT BST SDC MDW OEH VZO CTP BTR OBJ NPS NNP VES SUB ADR AOA OPR WPL "
    "TGO RSD GOR".split()
)

FUNCTIES = frozenset(
    [
        "genereerZaakidentificatie",
        "genereerDocumentidentificatie",
        "genereerBesluitidentificatie",
        "geefZaakdocumentbewerken",
        "updateZaakdocument",
        "cancelCheckout",
        "ontkoppelZaakdocument",
        "voegBesluitToe",
        "overdragenZaak",
        "notificeerOverZaak",
        "entiteit",
        "attribuut",
    ]
)


def _as_systeem(s: SystemId) -> Systeem:
    return Systeem(s.organisatie, s.applicatie, s.administratie, s.gebruiker)


def _matches(configured: list[SystemId], actual: Systeem) -> bool:
    want = SystemId(
        organisatie=actual.organisatie, applicatie=actual.applicatie, administratie=actual.administratie
    )
    return any(c.matches(want) for c in configured)


def check(sg: Stuurgegevens, resolved: Resolved, settings: BrokerSettings, last_tijdstip: str | None = None) -> None:
    op = resolved.operation
    asynchronous = op.asynchronous
    # StUF010: ontvanger
    if asynchronous and (sg.ontvanger is None or not sg.ontvanger.applicatie):
        raise StufError("StUF010", "Ontvanger ontbreekt in de stuurgegevens van een asynchroon bericht")
    if sg.ontvanger is not None and settings.ontvangers and not _matches(settings.ontvangers, sg.ontvanger):
        raise StufError(
            "StUF010",
            f"Ontvanger {sg.ontvanger.label()} is onbekend",
            "deze broker neemt berichten aan voor: "
            + ", ".join(_as_systeem(o).label() for o in settings.ontvangers),
        )
    # StUF013: zender
    if asynchronous and (sg.zender is None or not sg.zender.applicatie):
        raise StufError("StUF013", "Zender ontbreekt in de stuurgegevens van een asynchroon bericht")
    if sg.zender is not None and not (sg.zender.applicatie or "").strip():
        # a zender of spaces only: the answer, addressed to it, could not name it
        raise StufError("StUF013", "Zender heeft geen applicatie in de stuurgegevens")
    if sg.zender is not None and settings.zenders and not _matches(settings.zenders, sg.zender):
        raise StufError("StUF013", f"Zender {sg.zender.label()} is onbekend")
    # StUF016/019: referentienummer and tijdstipBericht are required in asynchronous messages
    if asynchronous and not sg.referentienummer:
        raise StufError("StUF016", "Referentienummer ontbreekt in de stuurgegevens van een asynchroon bericht")
    if asynchronous and not sg.tijdstipBericht:
        raise StufError("StUF019", "tijdstipBericht ontbreekt in de stuurgegevens van een asynchroon bericht")
    if settings.checks.tijdstip_increasing and last_tijdstip and sg.tijdstipBericht:
        if _pad(sg.tijdstipBericht) <= _pad(last_tijdstip):
            raise StufError(
                "StUF019",
                "tijdstipBericht is niet groter dan dat van het vorige bericht van deze zender",
                f"ontvangen {sg.tijdstipBericht}, vorige {last_tijdstip}",
            )
    # StUF022/025: berichtcode
    if not sg.berichtcode or sg.berichtcode not in BERICHTCODES:
        raise StufError("StUF022", f"Berichtcode {sg.berichtcode or '(leeg)'} is onbekend")
    if sg.berichtcode != op.berichtcode:
        raise StufError(
            "StUF025",
            f"Berichtcode {sg.berichtcode} wordt voor {op.name} niet ondersteund",
            f"{op.name} verwacht berichtcode {op.berichtcode}",
        )
    # StUF028/031: entiteittype
    if op.entiteittype:
        if not sg.entiteittype or sg.entiteittype not in ENTITEITTYPEN:
            raise StufError("StUF028", f"Entiteittype {sg.entiteittype or '(leeg)'} is onbekend")
        if sg.entiteittype != op.entiteittype:
            raise StufError(
                "StUF031",
                f"Entiteittype {sg.entiteittype} wordt voor {op.name} niet ondersteund",
                f"{op.name} verwacht entiteittype {op.entiteittype}",
            )
    # StUF034/037/040: functie
    if op.functie:
        if not sg.functie or sg.functie not in FUNCTIES:
            raise StufError("StUF034", f"Functie {sg.functie or '(leeg)'} is onbekend")
        if sg.functie != op.functie:
            raise StufError(
                "StUF040",
                f"Combinatie van berichtcode {sg.berichtcode} en functie {sg.functie} wordt voor {op.name} "
                "niet ondersteund",
                f"{op.name} verwacht functie {op.functie}",
            )
    if not op.supported:
        raise StufError(
            "StUF037",
            f"Functie {op.functie} wordt door dit zaaksysteem niet ondersteund",
            f"{op.name} (ZDS 1.2 §{op.paragraph}) is optioneel voor een zaaksysteem en wordt niet aangeboden",
        )


def check_port(resolved: Resolved, port: str) -> None:
    if resolved.operation.port != port:
        raise StufError(
            "StUF025",
            f"{resolved.operation.name} wordt op {port} niet ondersteund",
            f"stuur {resolved.element} naar het endpoint {resolved.operation.port}",
        )


def _pad(tijdstip: str) -> str:
    return tijdstip.ljust(17, "0")
