"""The StUF Testplatform scenario with the ZGW adapter as the primary: the catalogue the fake holds
and the mapping the broker uses for it (zaaktype 12345678 of tests/stp/config/zaaktypecatalogus.yaml).

The templates send placeholder values where ZGW has a code list or a format: ``taal`` (ISO 639-2/B,
three letters), ``status`` (in_bewerking, ter_vaststelling, definitief, gearchiveerd) and ``link`` (a
URI). The mapping translates them (``waarden``) both ways, as an administrator would for a legacy
application with its own codes.
"""

from __future__ import annotations

from datetime import date

from broker.devtools.zgw_fake import SeededZaaktype, ZGWFake

ZAAKTYPE = "12345678"
DOCUMENTTYPEN = ["Aanvraag burgerservicenummer behandelen", "omschrijving", "omschrijving1", "omschrijving1a",
                 "omschrijving2", "dct.omschrijving33", "dct.omschrijving5"]
BESLUITTYPEN = ["omschrijving", "omschrijving5", "bst.omschrijving", "bst.omschrijving3"]

MAPPING = """\
gemeenten:
  "1234": "002220647"
zaaktypen:
  "12345678":
    zaaktype: "12345678"
    statustypen:
      "12345678": Intake afgerond
      "87651234": Afgerekend
      "78563412": Product opgesteld
      "87126534": Zaak afgerond
    resultaat: Afgehandeld
    resultaattypen: {omschrijving: Afgehandeld}
    besluittype: omschrijving
waarden:
  document.taal: {taal: nld, taal1: eng}
  document.status: {status: definitief, status1: gearchiveerd}
  document.link: {link: "https://stp.example/link", link1: "https://stp.example/link1"}
"""


def seed(fake: ZGWFake) -> SeededZaaktype:
    return fake.add_zaaktype(
        ZAAKTYPE, "Aanvraag burgerservicenummer behandelen",
        begin_geldigheid=date.today().isoformat(),
        # the volgnummers the templates send (actualiseerZaakstatus_ZakLk01_01/03/05/07)
        statustypen=[(1, "Intake afgerond"), (3, "Afgerekend"), (5, "Product opgesteld"), (7, "Zaak afgerond")],
        roltypen=[("initiator", "Initiator"), ("belanghebbende", "Belanghebbende"), ("behandelaar", "Behandelaar"),
                  ("zaakcoordinator", "Zaakcoordinator"), ("beslisser", "Beslisser"), ("adviseur", "Adviseur"),
                  ("mede_initiator", "Mede-initiator"), ("klantcontacter", "Klantcontacter")],
        informatieobjecttypen=DOCUMENTTYPEN,
        resultaattypen=["Afgehandeld"],
        besluittypen=BESLUITTYPEN,
    )
