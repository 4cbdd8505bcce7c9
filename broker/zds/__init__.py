"""The ZDS 1.2 koppelvlak (Zaak- en Documentservices), and the ZDS 1.1 shapes in the ZKN namespace."""
