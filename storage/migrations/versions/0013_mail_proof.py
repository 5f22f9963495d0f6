"""mail proof: addresses a resident proved, and the proofs in progress

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:35:00

Mail is linked to a resident only through an address they proved (a code sent to
it and typed back in the chat, or a reply to the contest's confirmation e-mail).
Threads and messages linked before by an address merely typed somewhere lose
that link here; proven addresses link the mail that arrives from now on.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_proven_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("proven_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_mail_proven_addresses_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_proven_addresses")),
        sa.UniqueConstraint("address", name=op.f("uq_mail_proven_addresses_address")),
    )
    with op.batch_alter_table("mail_proven_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_proven_addresses_resident_id"), ["resident_id"], unique=False
        )
    op.create_table(
        "mail_address_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_mail_address_challenges_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_address_challenges")),
    )
    with op.batch_alter_table("mail_address_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_address_challenges_resident_id"), ["resident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mail_address_challenges_message_id"), ["message_id"], unique=False
        )
    # Links made by typed addresses are not proofs: drop them.
    op.execute("UPDATE mail_threads SET resident_id = NULL")
    op.execute("UPDATE mail_messages SET resident_id = NULL WHERE direction = 'in'")


def downgrade() -> None:
    op.drop_table("mail_address_challenges")
    op.drop_table("mail_proven_addresses")
