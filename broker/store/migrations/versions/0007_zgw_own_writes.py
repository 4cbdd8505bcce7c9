"""zgw_own_writes: a ZGW target's writes not yet announced by the Notificaties API

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zgw_own_writes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("claimed", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_zgw_own_writes_target_url", "zgw_own_writes", ["target", "url"])
    op.create_index("ix_zgw_own_writes_started_at", "zgw_own_writes", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_zgw_own_writes_started_at", table_name="zgw_own_writes")
    op.drop_index("ix_zgw_own_writes_target_url", table_name="zgw_own_writes")
    op.drop_table("zgw_own_writes")
