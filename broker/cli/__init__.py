"""The command line, an edge like the web application: ``stuf-broker`` and its command groups
(queue, users, mappings), each in its own module."""

from broker.cli.main import main

__all__ = ["main"]
