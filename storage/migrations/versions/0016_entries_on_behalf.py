"""entries on behalf: paper questionnaires and proposals taken by phone or in person

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-05 00:30:00

A coordinator enters answers for a resident without a smartphone; the entry
keeps the channel, the consent taken and who entered it.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entries_on_behalf",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("consent", sa.String(length=16), nullable=False),
        sa.Column("consent_note", sa.Text(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("entered_by", sa.BigInteger(), nullable=False),
        sa.Column("entered_on", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_entries_on_behalf_proposal_id_proposals"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_entries_on_behalf_resident_id_residents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entries_on_behalf")),
    )
    with op.batch_alter_table("entries_on_behalf", schema=None) as batch_op:
        for column in ("subject", "resident_id", "response_id", "proposal_id"):
            batch_op.create_index(
                batch_op.f(f"ix_entries_on_behalf_{column}"), [column], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("entries_on_behalf", schema=None) as batch_op:
        for column in ("proposal_id", "response_id", "resident_id", "subject"):
            batch_op.drop_index(batch_op.f(f"ix_entries_on_behalf_{column}"))
    op.drop_table("entries_on_behalf")
