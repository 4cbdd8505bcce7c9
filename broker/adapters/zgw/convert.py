"""Values between StUF (StUF 03.01 §3, StUF-ZKN 03.10) and the ZGW APIs.

- dates: StUF ``yyyymmdd`` (StUF:Datum), ZGW ``yyyy-mm-dd``;
- moments: StUF ``yyyymmddhhmmss[mmm]`` (StUF:Tijdstip, Dutch local time), ZGW RFC 3339 in UTC;
- vertrouwelijkAanduiding: StUF ``BEPERKT OPENBAAR``, ZGW ``beperkt_openbaar``;
- geslachtsaanduiding: StUF ``M``/``V``/``O``, ZGW ``m``/``v``/``o``;
- archiefnominatie: StUF ``J`` (blijvend bewaren) / ``N`` (vernietigen), ZGW ``blijvend_bewaren``/``vernietigen``;
- betalingsIndicatie: StUF ``(Nog) niet``, ZGW ``nog_niet`` (and the other values of the enumerations);
- verlenging duur: StUF a number of days, ZGW an ISO 8601 duration (``P123D``);
- a besluit's vervalreden: StUF ``Besluit met tijdelijke werking``, ZGW ``tijdelijk`` (and the others);
- inn.rechtsvorm: StUF-BG free text, ZGW an enumeration (``Besloten vennootschap`` is ``besloten_vennootschap``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Amsterdam")
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIJDSTIP = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(\d{1,3})?$")


def date_in(value: str | None) -> str | None:
    """StUF date -> ISO date; a date with an unknown day or month (``00``) is not a ZGW date: None."""
    m = _DATE.match(value or "")
    if not m or m.group(2) == "00" or m.group(3) == "00":
        return None
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"


def date_out(value: str | None) -> str | None:
    if not value:
        return None
    return value[:10].replace("-", "")


def tijdstip_in(value: str | None) -> str | None:
    """StUF tijdstip (Dutch local time) -> RFC 3339 UTC; a bare date is midnight."""
    m = _TIJDSTIP.match(value or "")
    if not m:
        return None
    y, mo, d, h, mi, s, frac = m.groups()
    micro = int((frac or "0").ljust(3, "0")) * 1000
    local = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro, tzinfo=LOCAL)
    utc = local.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if micro:
        text += f".{micro // 1000:03d}"
    return text + "Z"


def tijdstip_out(value: str | None) -> str | None:
    """RFC 3339 -> StUF tijdstip in Dutch local time (milliseconds only when there are any; a date
    alone for midnight, which is how a StUF date without a time went in)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(LOCAL)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return local.strftime("%Y%m%d")
    text = local.strftime("%Y%m%d%H%M%S")
    if local.microsecond:
        text += f"{local.microsecond // 1000:03d}"
    return text


def vertrouwelijkheid_in(value: str | None) -> str | None:
    if not value:
        return None
    return value.strip().lower().replace(" ", "_")


def vertrouwelijkheid_out(value: str | None) -> str | None:
    if not value:
        return None
    return value.replace("_", " ").upper()


def geslacht_in(value: str | None) -> str | None:
    return value.lower() if value and value.upper() in ("M", "V", "O") else None


def geslacht_out(value: str | None) -> str | None:
    return value.upper() if value else None


ARCHIEFNOMINATIE = {"J": "blijvend_bewaren", "N": "vernietigen"}


def archiefnominatie_in(value: str | None) -> str | None:
    return ARCHIEFNOMINATIE.get(value or "")


def archiefnominatie_out(value: str | None) -> str | None:
    for stuf, zgw in ARCHIEFNOMINATIE.items():
        if zgw == value:
            return stuf
    return None


#: StUF-ZKN betalingsIndicatie -> ZGW betalingsindicatie
BETALINGSINDICATIE = {"N.v.t.": "nvt", "(Nog) niet": "nog_niet", "Gedeeltelijk": "gedeeltelijk", "Geheel": "geheel"}


def betalingsindicatie_in(value: str | None) -> str | None:
    return BETALINGSINDICATIE.get(value or "", value)


def betalingsindicatie_out(value: str | None) -> str | None:
    return next((stuf for stuf, zgw in BETALINGSINDICATIE.items() if zgw == value), value or None)


_DAYS = re.compile(r"^P(\d+)D$")


def duur_in(days: int | None) -> str | None:
    return f"P{days}D" if days is not None else None


def duur_out(value: str | None) -> int | None:
    m = _DAYS.match(value or "")
    return int(m.group(1)) if m else None


#: StUF-ZKN Vervalreden -> ZGW vervalreden (Besluiten API)
VERVALREDEN = {"Besluit met tijdelijke werking": "tijdelijk", "Besluit ingetrokken door overheid": "ingetrokken_overheid",
               "Besluit ingetrokken o.v.v. belanghebbende": "ingetrokken_belanghebbende"}


def vervalreden_in(value: str | None) -> str | None:
    return VERVALREDEN.get(value or "")


def vervalreden_out(value: str | None) -> str | None:
    return next((stuf for stuf, zgw in VERVALREDEN.items() if zgw == value), None)


#: Zaken API 1.5.1 InnRechtsvormEnum
RECHTSVORMEN = frozenset({
    "besloten_vennootschap", "cooperatie_europees_economische_samenwerking", "europese_cooperatieve_venootschap",
    "europese_naamloze_vennootschap", "kerkelijke_organisatie", "naamloze_vennootschap",
    "onderlinge_waarborg_maatschappij", "overig_privaatrechtelijke_rechtspersoon", "stichting", "vereniging",
    "vereniging_van_eigenaars", "publiekrechtelijke_rechtspersoon", "vennootschap_onder_firma", "maatschap",
    "rederij", "commanditaire_vennootschap", "kapitaalvennootschap_binnen_eer",
    "overige_buitenlandse_rechtspersoon_vennootschap", "kapitaalvennootschap_buiten_eer",
})


def rechtsvorm_in(value: str | None) -> str | None:
    """The ZGW value a StUF rechtsvorm names; None for text that is not one of them."""
    key = re.sub(r"[\s-]+", "_", (value or "").strip().lower())
    return key if key in RECHTSVORMEN else None


def rechtsvorm_out(value: str | None) -> str | None:
    return value.replace("_", " ").capitalize() if value else None
