"""proposals.progress: the steps an applicant confirmed, apart from the answers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:50:00

The proposal flow used to mark "budget done" and "files done" as the answers
`_budget_done` and `_files_done`, next to the applicant's real answers (and so
in every export of them). They move to their own column.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The markers as the flow stored them, and the step each one confirmed.
MARKERS = {"_budget_done": "budget", "_files_done": "files"}

proposals = sa.table(
    "proposals",
    sa.column("id", sa.Integer()),
    sa.column("answers", sa.JSON()),
    sa.column("progress", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("progress", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    connection = op.get_bind()
    for identifier, answers in connection.execute(sa.select(proposals.c.id, proposals.c.answers)):
        answers = dict(answers or {})
        if not any(marker in answers for marker in MARKERS):
            continue
        progress = {MARKERS[m]: bool(answers.pop(m)) for m in list(answers) if m in MARKERS}
        connection.execute(
            proposals.update()
            .where(proposals.c.id == identifier)
            .values(answers=answers, progress=progress)
        )


def downgrade() -> None:
    connection = op.get_bind()
    steps = {step: marker for marker, step in MARKERS.items()}
    rows = connection.execute(
        sa.select(proposals.c.id, proposals.c.answers, proposals.c.progress)
    ).all()
    for identifier, answers, progress in rows:
        done = {steps[s]: True for s, value in (progress or {}).items() if s in steps and value}
        if done:
            connection.execute(
                proposals.update()
                .where(proposals.c.id == identifier)
                .values(answers={**(answers or {}), **done})
            )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("progress")
