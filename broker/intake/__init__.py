"""The path of one SOAP request through the broker: read, check, dedupe, validate, process, log, answer.

Layer: intake, above delivery (queue, routing), below administration. See docs/architecture.md.
"""
