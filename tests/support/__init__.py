"""Test helpers: a live broker on loopback, a SOAP caller that validates every answer, XML tools."""
