"""Delivery targets. Every adapter implements :class:`broker.model.ports.Zaaksysteem`.

Layer: adapters, above mapping data, below services. Adapters do not import each other. See docs/architecture.md.
"""
