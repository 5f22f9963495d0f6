"""the coordinators' web panel: signing key, used links, sessions, audit log, score comments

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-05 00:30:00
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "panel_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_keys")),
    )
    op.create_table(
        "panel_link_uses",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("coordinator_id", sa.BigInteger(), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_panel_link_uses")),
    )
    op.create_table(
        "panel_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("coordinator_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_panel_sessions_token_hash")),
    )
    with op.batch_alter_table("panel_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_panel_sessions_coordinator_id"), ["coordinator_id"], unique=False
        )
    op.create_table(
        "panel_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("coordinator_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_audit")),
    )
    with op.batch_alter_table("panel_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_panel_audit_at"), ["at"], unique=False)
    with op.batch_alter_table("proposal_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("proposal_scores", schema=None) as batch_op:
        batch_op.drop_column("comment")
    op.drop_table("panel_audit")
    op.drop_table("panel_sessions")
    op.drop_table("panel_link_uses")
    op.drop_table("panel_keys")
