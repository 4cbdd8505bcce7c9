"""target pauses, operator events on deliveries, a keyed-hash index of BSNs, each user's language

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "target_pauses",
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_by", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_target_pauses")),
    )
    op.create_table(
        "delivery_events",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("delivery_id", BIG, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"], ondelete="CASCADE",
                                name=op.f("fk_delivery_events_delivery_id_deliveries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_events")),
    )
    op.create_index(op.f("ix_delivery_events_delivery_id"), "delivery_events", ["delivery_id"], unique=False)
    op.create_table(
        "message_bsns",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("message_id", BIG, nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE",
                                name=op.f("fk_message_bsns_message_id_messages")),
        sa.PrimaryKeyConstraint("digest", "message_id", name=op.f("pk_message_bsns")),
    )
    op.create_index(op.f("ix_message_bsns_message_id"), "message_bsns", ["message_id"], unique=False)
    op.create_table(
        "search_watermarks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_id", BIG, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_search_watermarks")),
    )
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("language")
    op.drop_table("search_watermarks")
    op.drop_index(op.f("ix_message_bsns_message_id"), table_name="message_bsns")
    op.drop_table("message_bsns")
    op.drop_index(op.f("ix_delivery_events_delivery_id"), table_name="delivery_events")
    op.drop_table("delivery_events")
    op.drop_table("target_pauses")
