"""StUF foutcodes: StUF 03.01 Tabel 4.1, 5.8 and 6.x, and the sector codes the broker uses.

``soorten`` lists the foutberichten the code may appear in (1 = Fo01, 2 = Fo02, 3 = Fo03).
The omschrijvingen are the broker's own wording of each situation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Foutcode:
    code: str
    plek: str  # "client" or "server"
    omschrijving: str
    soorten: tuple[int, ...] = (1, 2, 3)


_TABLE = [
    # Tabel 4.1 (stuurgegevens and processing)
    Foutcode("StUF001", "server", "StUF-versie wordt niet ondersteund", (2, 3)),
    Foutcode("StUF004", "server", "Sectormodel wordt niet ondersteund", (2, 3)),
    Foutcode("StUF007", "server", "Versie van het sectormodel wordt niet ondersteund", (2, 3)),
    Foutcode("StUF010", "client", "Ontvanger is onbekend", (2, 3)),
    Foutcode("StUF013", "client", "Zender is onbekend", (2, 3)),
    Foutcode("StUF016", "client", "Combinatie van zender en referentienummer is niet uniek", (2, 3)),
    Foutcode("StUF019", "client", "tijdstipBericht is niet groter dan dat van het vorige bericht van deze zender", (2, 3)),
    Foutcode("StUF022", "client", "Berichtcode is onbekend", (2, 3)),
    Foutcode("StUF025", "server", "Berichtcode wordt niet ondersteund", (2, 3)),
    Foutcode("StUF028", "client", "Entiteittype is onbekend", (2, 3)),
    Foutcode("StUF031", "server", "Entiteittype wordt niet ondersteund", (2, 3)),
    Foutcode("StUF034", "client", "Functie is onbekend", (2, 3)),
    Foutcode("StUF037", "server", "Functie wordt niet ondersteund", (2, 3)),
    Foutcode("StUF040", "server", "Combinatie van berichtcode, entiteittype en functie wordt niet ondersteund", (2, 3)),
    Foutcode("StUF043", "client", "crossRefnummer is onbekend", (2, 3)),
    Foutcode("StUF046", "server", "Het bericht kan niet worden opgeslagen", (3,)),
    Foutcode("StUF049", "server", "Het proces voor het verwerken van een synchroon bericht is niet beschikbaar", (2,)),
    Foutcode("StUF052", "client", "Zender is niet geautoriseerd voor dit bericht", (1, 2)),
    Foutcode("StUF055", "client", "Het bericht is niet conform het schema", (1, 2, 3)),
    Foutcode("StUF058", "server", "Het verwerkingsproces geeft een fout", (1, 2, 3)),
    Foutcode("StUF061", "server", "Verzenden van berichten na een trigger is niet binnen vijf minuten mogelijk", (2,)),
    Foutcode("StUF960", "server", "Het antwoord kon niet op tijd worden samengesteld", (2,)),
    # Tabel 5.8 (kennisgevingen)
    Foutcode("StUF062", "client", "tijdvakGeldigheid is onjuist"),
    Foutcode("StUF063", "server", "beginGeldigheid past niet bij de gegevens in de registratie"),
    Foutcode("StUF064", "server", "Object niet gevonden"),
    Foutcode("StUF065", "server", "tijdstipRegistratie is niet groter dan dat in de registratie"),
    Foutcode("StUF066", "client", "Er is niets te corrigeren"),
    Foutcode("StUF067", "server", "Object kan niet eenduidig worden geïdentificeerd"),
    Foutcode("StUF068", "client", "Toekomstmutatie in een Lk01 of Lk02"),
    # Tabel 6.x (vraag/antwoord)
    Foutcode("StUF076", "client", "vanaf en totEnMet bevatten niet dezelfde elementen"),
    Foutcode("StUF079", "client", "Een element staat zowel in gelijk als in vanaf of totEnMet"),
    Foutcode("StUF082", "client", "StUF:exact in vanaf of totEnMet"),
    Foutcode("StUF085", "client", "Onvolledige datum in vanaf of totEnMet"),
    Foutcode("StUF088", "client", "Meer dan één sleutel in de selectie"),
    Foutcode("StUF091", "client", "Naast een sleutel zijn andere selectiecriteria opgegeven"),
    Foutcode("StUF094", "server", "Selectie op de sleutel van de zender wordt niet ondersteund"),
    Foutcode("StUF097", "client", "scope is onjuist"),
    Foutcode("StUF103", "client", "Vervolgvraag zonder start"),
    Foutcode("StUF106", "client", "start bevat niet alle elementen uit vanaf en totEnMet"),
    Foutcode("StUF133", "server", "Gevraagde sortering wordt niet ondersteund"),
]

FOUTCODES: dict[str, Foutcode] = {f.code: f for f in _TABLE}
