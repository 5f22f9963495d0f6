"""mail texts compressed with lz4 on PostgreSQL

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-26 04:50:00

PostgreSQL compresses long values (TOAST) with pglz unless told otherwise; lz4 does it
at a fraction of the CPU, which a mailbox import feels (about 8 % of the whole
machine's CPU per message on the import benchmark). A server built without lz4 keeps
pglz. SQLite stores these columns as they are: nothing to do there.
"""

from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("text", "html", "raw")


def _set_compression(method: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    statements = " ".join(
        f"ALTER TABLE mail_messages ALTER COLUMN {column} SET COMPRESSION {method};"
        for column in COLUMNS
    )
    # A server built without lz4 refuses it: then the columns keep the default.
    op.execute(f"DO $$ BEGIN {statements} EXCEPTION WHEN feature_not_supported THEN NULL; END $$")


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")
