"""Delivery targets. Every adapter implements :class:`broker.adapters.abc.Zaaksysteem`."""
