"""The StUF 03.01 onderlaag and its SOAP binding (StUF protocolbindingen 03.01).

Layer: StUF onderlaag, above the foundation, below the case model. See docs/architecture.md.
"""
