"""proposal snapshots: a proposal as it was at each submission

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 00:30:00

Taken when a proposal is submitted and each time it is resubmitted after the
coordinators asked for changes, so they can see what changed.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proposal_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("budget", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_snapshots_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_snapshots")),
    )
    with op.batch_alter_table("proposal_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_snapshots_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("proposal_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_snapshots_proposal_id"))
    op.drop_table("proposal_snapshots")
