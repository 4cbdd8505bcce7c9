"""The ASGI application: SOAP endpoints, WSDLs and schemas, health, dashboard, metrics.

Layer: edges (with broker.cli). May import every layer below; only the edges hold the Broker. See docs/architecture.md.
"""
