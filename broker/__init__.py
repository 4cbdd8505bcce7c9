"""StUF integration broker.

The package is layered after the standards it speaks (see README, "Layout"):

- ``broker.stuf``      the StUF 03.01 onderlaag and the SOAP binding: namespaces, safe XML parsing,
                       schemas, stuurgegevens, foutcodes and faults.
- ``broker.zds``       the ZDS 1.2 koppelvlak (and the ZDS 1.1 shapes in the StUF-ZKN namespace):
                       the operation table, and one module per operation translating StUF to and from
                       the internal case model.
- ``broker.model``     the internal case model (zaak, status, rol, document, besluit).
- ``broker.adapters``  targets that receive the case model (the embedded zaaksysteem first).
- ``broker.store``     the broker's own database: message log, embedded zaaksysteem tables.
- ``broker.web``       the ASGI application: SOAP endpoints, WSDLs, health.
"""

__version__ = "0.1.0"
