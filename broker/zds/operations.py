"""The ZDS 1.2 operation table ([ZDS] chapter 4; shared/docs/stuf-primer.md §10).

One row per service: its port, berichtcode, entiteittype or functie, the ZDS 1.2 body element, the
element or generic answer it produces, and the ZDS 1.1 body elements (StUF-ZKN namespace) that
field clients still send for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from broker.stuf import ns

BEANTWOORD_VRAAG = "BeantwoordVraag"
ONTVANG_ASYNCHROON = "OntvangAsynchroon"
VERWERK_SYNCHROON_VRIJ_BERICHT = "VerwerkSynchroonVrijBericht"
PORTS = (BEANTWOORD_VRAAG, ONTVANG_ASYNCHROON, VERWERK_SYNCHROON_VRIJ_BERICHT)


@dataclass(frozen=True)
class Operation:
    name: str
    paragraph: str
    port: str
    berichtcode: str
    element: str  # ZDS 1.2 body element (zds0120 namespace)
    answer: str  # "Bv02", "Bv03" or the local name of the answer element
    entiteittype: str | None = None
    functie: str | None = None
    mutatiesoort: str | None = None
    zkn_elements: tuple[str, ...] = ()  # ZDS 1.1 body elements (ZKN namespace) that can mean this
    supported: bool = True
    #: ZDS 1.1 elements whose stuurgegevens differ from the ZDS 1.2 message: element -> (berichtcode,
    #: entiteittype, functie); voegBesluitToe comes as a bslLk01 (T) instead of a Di01
    zkn_stuurgegevens: tuple[tuple[str, str, str | None, str | None], ...] = ()

    @property
    def asynchronous(self) -> bool:
        return self.port.rsplit("/", 1)[-1] == ONTVANG_ASYNCHROON

    def as_sent_in(self, zkn_element: str) -> Operation:
        """This operation with the stuurgegevens its ZDS 1.1 shape ``zkn_element`` carries."""
        for element, berichtcode, entiteittype, functie in self.zkn_stuurgegevens:
            if element == zkn_element:
                return replace(self, berichtcode=berichtcode, entiteittype=entiteittype, functie=functie)
        return self

    def zkn_answer(self, zkn_element: str) -> str:
        """The answer element for a ZDS 1.1 request (ZKN namespace)."""
        if self.answer in ("Bv02", "Bv03"):
            return self.answer
        if zkn_element.endswith("Lv01"):
            return zkn_element[:-4] + "La01"
        if zkn_element.endswith("_Di02"):
            return zkn_element[:-5] + "_Du02"
        return self.answer


OPERATIONS: tuple[Operation, ...] = (
    Operation("geefZaakstatus", "4.1.1", BEANTWOORD_VRAAG, "Lv01", "geefZaakstatus_ZakLv01",
              "geefZaakstatus_ZakLa01", entiteittype="ZAK", zkn_elements=("zakLv01",)),
    Operation("geefZaakdetails", "4.1.2", BEANTWOORD_VRAAG, "Lv01", "geefZaakdetails_ZakLv01",
              "geefZaakdetails_ZakLa01", entiteittype="ZAK", zkn_elements=("zakLv01",)),
    Operation("actualiseerZaakstatus", "4.1.3", ONTVANG_ASYNCHROON, "Lk01", "actualiseerZaakstatus_ZakLk01",
              "Bv03", entiteittype="ZAK", mutatiesoort="W", zkn_elements=("zakLk01",)),
    Operation("creeerZaak", "4.1.4", ONTVANG_ASYNCHROON, "Lk01", "creeerZaak_ZakLk01",
              "Bv03", entiteittype="ZAK", mutatiesoort="T", zkn_elements=("zakLk01",)),
    Operation("updateZaak", "4.1.5", ONTVANG_ASYNCHROON, "Lk01", "updateZaak_ZakLk01",
              "Bv03", entiteittype="ZAK", mutatiesoort="W", zkn_elements=("zakLk01",)),
    Operation("genereerZaakIdentificatie", "4.1.6", VERWERK_SYNCHROON_VRIJ_BERICHT, "Di02",
              "genereerZaakIdentificatie_Di02", "genereerZaakIdentificatie_Du02",
              functie="genereerZaakidentificatie", zkn_elements=("genereerZaakIdentificatie_Di02",)),
    Operation("voegBesluitToe", "4.1.7", ONTVANG_ASYNCHROON, "Di01", "voegBesluitToe_Di01",
              "Bv03", functie="voegBesluitToe", zkn_elements=("bslLk01",),
              zkn_stuurgegevens=(("bslLk01", "Lk01", "BSL", None),)),
    Operation("updateBesluit", "4.1.8", ONTVANG_ASYNCHROON, "Lk01", "updateBesluit_BslLk01",
              "Bv03", entiteittype="BSL", mutatiesoort="W", zkn_elements=("bslLk01",)),
    Operation("genereerBesluitIdentificatie", "4.1.9", VERWERK_SYNCHROON_VRIJ_BERICHT, "Di02",
              "genereerBesluitIdentificatie_Di02", "genereerBesluitIdentificatie_Du02",
              functie="genereerBesluitidentificatie"),
    Operation("geefBesluitdetails", "4.1.10", BEANTWOORD_VRAAG, "Lv01", "geefBesluitdetails_BslLv01",
              "geefBesluitdetails_BslLa01", entiteittype="BSL", zkn_elements=("bslLv01",)),
    Operation("geefLijstBesluiten", "4.1.11", BEANTWOORD_VRAAG, "Lv01", "geefLijstBesluiten_ZakLv01",
              "geefLijstBesluiten_ZakLa01", entiteittype="ZAK", zkn_elements=("zakLv01",)),
    Operation("overdragenZaak", "4.2.1", ONTVANG_ASYNCHROON, "Du01", "overdragenZaak_Du01",
              "Bv03", functie="overdragenZaak", supported=False),
    Operation("overdragenZaakDi01", "4.2.1", ONTVANG_ASYNCHROON, "Di01", "overdragenZaak_Di01",
              "Bv03", functie="overdragenZaak", supported=False),
    Operation("geefLijstZaakdocumenten", "4.3.1", BEANTWOORD_VRAAG, "Lv01", "geefLijstZaakdocumenten_ZakLv01",
              "geefLijstZaakdocumenten_ZakLa01", entiteittype="ZAK", zkn_elements=("zakLv01",)),
    Operation("geefZaakdocumentLezen", "4.3.2", BEANTWOORD_VRAAG, "Lv01", "geefZaakdocumentLezen_EdcLv01",
              "geefZaakdocumentLezen_EdcLa01", entiteittype="EDC", zkn_elements=("edcLv01",)),
    Operation("geefZaakdocumentbewerken", "4.3.3", VERWERK_SYNCHROON_VRIJ_BERICHT, "Di02",
              "geefZaakdocumentBewerken_Di02", "geefZaakdocumentBewerken_Du02",
              functie="geefZaakdocumentbewerken", zkn_elements=("geefZaakdocumentbewerken_Di02",)),
    Operation("voegZaakdocumentToe", "4.3.4", ONTVANG_ASYNCHROON, "Lk01", "voegZaakdocumentToe_EdcLk01",
              "Bv03", entiteittype="EDC", mutatiesoort="T", zkn_elements=("edcLk01",)),
    Operation("maakZaakdocument", "4.3.5", ONTVANG_ASYNCHROON, "Lk01", "maakZaakdocument_EdcLk01",
              "Bv03", entiteittype="EDC", mutatiesoort="T", zkn_elements=("edcLk01",)),
    Operation("updateZaakdocument", "4.3.6", VERWERK_SYNCHROON_VRIJ_BERICHT, "Di02", "updateZaakdocument_Di02",
              "Bv02", functie="updateZaakdocument", zkn_elements=("updateZaakdocument_Di02",)),
    Operation("genereerDocumentIdentificatie", "4.3.7", VERWERK_SYNCHROON_VRIJ_BERICHT, "Di02",
              "genereerDocumentIdentificatie_Di02", "genereerDocumentIdentificatie_Du02",
              functie="genereerDocumentidentificatie", zkn_elements=("genereerDocumentIdentificatie_Di02",)),
    Operation("cancelCheckout", "4.3.8", VERWERK_SYNCHROON_VRIJ_BERICHT, "Di02", "cancelCheckout_Di02",
              "Bv02", functie="cancelCheckout", zkn_elements=("cancelCheckout_Di02",)),
    Operation("ontkoppelZaakdocument", "4.3.9", VERWERK_SYNCHROON_VRIJ_BERICHT, "Di02",
              "ontkoppelZaakdocument_Di02", "Bv02", functie="ontkoppelZaakdocument"),
)

BY_NAME: dict[str, Operation] = {op.name.lower(): op for op in OPERATIONS}
BY_ZDS_ELEMENT: dict[str, Operation] = {op.element: op for op in OPERATIONS}
BY_ZKN_ELEMENT: dict[str, tuple[Operation, ...]] = {}
for _op in OPERATIONS:
    for _el in _op.zkn_elements:
        BY_ZKN_ELEMENT[_el] = BY_ZKN_ELEMENT.get(_el, ()) + (_op,)


NAMESPACES = (ns.ZDS, ns.ZKN)


def zkn_elements_served() -> frozenset[str]:
    """The ZDS 1.1 message elements (StUF-ZKN namespace) the broker takes, and those it answers them with."""
    elements = set()
    for op in OPERATIONS:
        for element in op.zkn_elements:
            elements.add(element)
            answer = op.zkn_answer(element)
            if answer not in ("Bv02", "Bv03"):
                elements.add(answer)
    return frozenset(elements)
