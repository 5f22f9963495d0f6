"""inbound updates: every Telegram update stored before it is confirmed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:05:00

Polling confirms an update (the next getUpdates offset) and a webhook answers
200 only once the update is in this table; a worker handles the rows in order
and marks each in the transaction of its effects.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_updates")),
        sa.UniqueConstraint(
            "bot_id", "update_id", name=op.f("uq_inbound_updates_bot_id_update_id")
        ),
    )
    with op.batch_alter_table("inbound_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_updates_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index("ix_inbound_updates_pending", ["handled_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("inbound_updates")
