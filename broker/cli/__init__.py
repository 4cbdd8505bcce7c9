"""The command line, an edge like the web application: ``stuf-broker`` and its command groups
(queue, users, mappings), each in its own module.

Layer: edges (with broker.web). May import every layer below; only the edges hold the Broker. See docs/architecture.md.
"""

from broker.cli.main import main

__all__ = ["main"]
