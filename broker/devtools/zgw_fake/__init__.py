"""A loopback fake of the ZGW APIs (Zaken 1.5.1, Catalogi 1.3.1, Documenten
1.4.2/1.5.0, Besluiten 1.0.2) that checks every request and every response
against the official OpenAPI specs with openapi-core.

Use::

    from broker.devtools.zgw_fake import ZGWFake

    with ZGWFake(clients=[("stuf-broker", "secret")]) as fake:
        zt = fake.add_zaaktype(
            "B1026", "Melding openbare ruimte",
            statustypen=[(1, "Ontvangen"), (2, "Afgehandeld")],
            roltypen=[("initiator", "Melder")],
            informatieobjecttypen=["Melding"],
            resultaattypen=["Gegrond"],
        )
        # configure the broker with fake.url("zaken"), fake.url("catalogi"), ...
        # and client id / secret "stuf-broker" / "secret", run it, then:
        assert fake.violations == []
        assert len(fake.calls("POST", "/zaken/api/v1/zaken")) == 1

Open Zaak's reservation endpoints (``/zaaknummer_reserveren``, ``/documentnummer_reserveren``) are
served too, checked against Open Zaak's own published spec (``zgw/open-zaak/``); set
``fake.open_zaak_extensions = False`` for a server with only the standard APIs.

The specs are read from ``<repo>/../shared/openapi`` (or ``$ZGW_OPENAPI_DIR``,
or ``spec_dir=``) and parsed once per process.
"""

from .auth import make_token
from .pipeline import RecordedRequest, RecordedResponse
from .seed import SeededZaaktype
from .server import DEFAULT_CLIENTS, ZGWFake
from .spec_fixes import FIXES as SPEC_FIXES
from .specs import DEFAULT_SPEC_DIR, load_specs

__all__ = [
    "DEFAULT_CLIENTS",
    "DEFAULT_SPEC_DIR",
    "RecordedRequest",
    "RecordedResponse",
    "SPEC_FIXES",
    "SeededZaaktype",
    "ZGWFake",
    "load_specs",
    "make_token",
]
