"""Tools for trying the broker without the systems it talks to (``stuf-broker dev ...``).

An edge-level package: the command line starts them; nothing in the broker's own layers imports them.
``zgw_fake`` is the loopback ZGW APIs (Zaken, Catalogi, Documenten, Besluiten) that check every request
against the official OpenAPI specs; the test suite uses the same server as its stand-in for Open Zaak.
"""
