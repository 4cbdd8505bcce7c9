"""The path of one SOAP request through the broker: read, check, dedupe, validate, process, log, answer."""
