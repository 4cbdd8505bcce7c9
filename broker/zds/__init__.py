"""The ZDS 1.2 koppelvlak (Zaak- en Documentservices), and the ZDS 1.1 shapes in the ZKN namespace.

Layer: koppelvlak, above the case model, below mapping data. See docs/architecture.md.
"""
