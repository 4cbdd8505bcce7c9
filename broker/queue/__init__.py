"""Durable delivery: deliveries in the database, workers that claim them with row locks, retries,
dead letters, per-zaak ordering, circuit breakers per target (see README, "Delivery").

Layer: delivery (the queue above the routing), below intake. See docs/architecture.md.
"""
