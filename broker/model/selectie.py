"""A question for the zaken of a person (a zakLv01 that names no zaak but its initiator), as the case
model sees it: independent of how the vraag wrote it (ZDS 1.1 ``identificatie`` "11" + BSN).

The target answers with the zaken whose initiator is the natural person with this BSN, of the zaaktype
when one is named; the koppelvlak filters on the current status, sorts and pages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ZaakSelectie:
    initiator_bsn: str
    zaaktype_code: str | None = None
    zaaktype_omschrijving: str | None = None
    #: the zaak's current status (its last one), by the ZDS status code or its omschrijving
    status_code: str | None = None
    status_omschrijving: str | None = None
