"""claim_indexes_in_claim_order: the due index in the claim's full order; (target, state) leads to the zaak order

A claim selects the due deliveries of one state ``ORDER BY next_attempt_at, id LIMIT 25``. On
PostgreSQL the (state, next_attempt_at) index gave that order only up to ``id``, so the planner read
every due delivery, ran the zaak-order check on each and sorted them all to return 25 (SQLite has the
rowid at the end of every index and stopped at the limit). With ``id`` in the index a claim reads 25
rows, with or without statistics.

The zaak-order check (an earlier open delivery of the same zaak to the same target) was still planned
on the (target, state) index when the table had no statistics yet, reading every delivery to the target
for each due one; measured on a fresh database with 1,000 queued creeerZaken: 300 ms for a claim of
25, although migration 0008's index of open deliveries answers the check in one probe. That index now
goes on to (ordering_key, id): its earlier uses (a target's deliveries, by state) read the same prefix,
and the planner, which prices the wider index higher, takes 0008's index for the check (0.003 ms a
probe against 0.2-0.35 ms). The wider index is not itself one probe on PostgreSQL before 17: it
checks the state as a filter over the target's entries.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at", "id"])
    op.drop_index("ix_deliveries_target_state", table_name="deliveries")
    op.create_index("ix_deliveries_target_state", "deliveries", ["target", "state", "ordering_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_target_state", table_name="deliveries")
    op.create_index("ix_deliveries_target_state", "deliveries", ["target", "state"])
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
