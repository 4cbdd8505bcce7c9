"""StUF integration broker.

The package is cut into layers, each importing only from the layers below it (docs/architecture.md;
checked by import-linter with .importlinter and by mypy in scripts/test), top to bottom:

- edges: ``broker.web`` (ASGI app, dashboard, /metrics) and ``broker.cli``;
- composition root: ``broker.runtime`` (builds everything, hands each object its dependencies);
- administration: ``broker.admin``;
- intake: ``broker.intake`` (the flow of one request);
- delivery: ``broker.queue``, then ``broker.routing``;
- services: ``broker.services`` (one module per ZDS operation);
- adapters: ``broker.adapters`` (embedded, zgw, stuf_forward, webhook);
- mapping data: ``broker.mappings``;
- koppelvlak: ``broker.zds``;
- case model and ports: ``broker.model``;
- StUF onderlaag: ``broker.stuf``;
- foundation: ``broker.store``, ``broker.errors``, ``broker.foutcodes``, ``broker.config``,
  ``broker.logging``, ``broker.yamlfile``.
"""

__version__ = "0.1.0"
