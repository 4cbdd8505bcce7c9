"""The internal case model: what a message means, independent of StUF or ZGW.

Objects here carry the fields the broker reasons about (routing, mappings, the ZGW translation,
the dashboard). Each may also carry ``stuf``: the StUF entity it was read from. Targets that speak
StUF themselves (the embedded zaaksysteem, a forwarded ZDS endpoint) keep that element, so nothing
of the full RGBZ content a sender supplied is lost on the way.

Layer: case model and ports, above the StUF onderlaag, below the koppelvlak. See docs/architecture.md.
"""

from broker.model.case import (  # noqa: F401
    Adres,
    Besluit,
    Betrokkene,
    Contactpersoon,
    Document,
    Inhoud,
    Opschorting,
    Rol,
    Status,
    Verlenging,
    Zaak,
    ZaakObject,
    ZaakRelatie,
    ZaakType,
)
