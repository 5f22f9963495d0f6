"""retention: when each resident was last active

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-04 22:30:00

The retention job (scheduler/retention_job.py) erases residents inactive for
longer than the period in content/centre.yaml. Rows from before this revision
have no value: the job then counts from consent (or creation).
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_active_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_column("last_active_at")
