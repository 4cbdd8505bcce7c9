"""afnemerindicaties: which application follows which person (StUF-BG)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "afnemerindicaties",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("bsn", sa.String(length=9), nullable=False),
        sa.Column("organisatie", sa.String(length=200), nullable=False),
        sa.Column("applicatie", sa.String(length=200), nullable=False),
        sa.Column("administratie", sa.String(length=200), nullable=False),
        sa.Column("geplaatst_op", sa.DateTime(), nullable=False),
        sa.Column("bron", sa.String(length=20), nullable=False),
        sa.UniqueConstraint("bsn", "organisatie", "applicatie", "administratie", name="uq_afnemerindicatie"),
    )
    op.create_index("ix_afnemerindicaties_bsn", "afnemerindicaties", ["bsn"])


def downgrade() -> None:
    op.drop_index("ix_afnemerindicaties_bsn", table_name="afnemerindicaties")
    op.drop_table("afnemerindicaties")
