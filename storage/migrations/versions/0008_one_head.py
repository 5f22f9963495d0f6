"""One head again: the contest, the schedule and the mailbox branches joined.

Revision ID: 0008
Revises: 0004, 0005, 0007
Create Date: 2026-12-04
"""

from alembic import op

revision = "0008"
down_revision = ("0004", "0005", "0007")
branch_labels = None
depends_on = None


def upgrade() -> None:
    # APScheduler's own job table, made outside these migrations in the PostgreSQL
    # database while the scheduler kept its jobs there; the plan lives in the store now.
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    pass
