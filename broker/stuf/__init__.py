"""The StUF 03.01 onderlaag and its SOAP binding (StUF protocolbindingen 03.01)."""
