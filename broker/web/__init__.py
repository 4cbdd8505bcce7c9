"""The ASGI application: SOAP endpoints, WSDLs and schemas, health, dashboard, metrics."""
