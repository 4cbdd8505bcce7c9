"""Delivery targets. Every adapter implements :class:`broker.model.ports.Zaaksysteem`."""
