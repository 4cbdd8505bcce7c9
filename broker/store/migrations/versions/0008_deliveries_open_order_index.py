"""deliveries_open_order_index: on PostgreSQL, the open deliveries by target and zaak, for a claim

A claim passes over a delivery while an earlier delivery of its zaak to its target is open (pending,
retrying, in progress or, with ``on_dead: hold``, dead). With no statistics yet on the deliveries
(a new database, or a burst of messages before autovacuum analysed the table), PostgreSQL checked
that against the (target, state) index, reading every delivery to the target for each due one: a
claim of 25 from a backlog of 1,500 took 80 ms. An index of only the open deliveries is small and
matches the check's own condition, so the planner takes it with or without statistics. SQLite
plans the check with ix_deliveries_order and gets no such index.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: the states a later delivery of the same zaak waits behind (broker.queue.tables.OPEN_STATES and dead)
_OPEN = "state IN ('pending', 'retrying', 'in_progress', 'dead')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_deliveries_open_order", "deliveries", ["target", "ordering_key", "id"],
                        postgresql_where=sa.text(_OPEN))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_deliveries_open_order", table_name="deliveries")
