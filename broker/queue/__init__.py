"""Durable delivery: deliveries in the database, workers that claim them with row locks, retries,
dead letters, per-zaak ordering, circuit breakers per target (see README, "Delivery")."""
