"""survey privacy: participations and contact records apart from anonymous answers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:10:00

A finished response of an anonymous survey loses its link to the resident:
`survey_participations` keeps only "this resident took part" (so nobody answers
twice and /mydata can say so), and `survey_contacts` keeps the contact part
(consent, interest, contact details) apart from the answers. Which surveys are
anonymous is content, not schema: the responses already stored are sealed by
`storage.survey_privacy.seal_finished` when the service starts.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_participations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=40), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_survey_participations_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_participations")),
    )
    with op.batch_alter_table("survey_participations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_participations_survey_resident", ["survey", "resident_id"], unique=False
        )
    op.create_table(
        "survey_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=40), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("interest", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("given_on", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_survey_contacts_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_contacts")),
    )
    with op.batch_alter_table("survey_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_contacts_survey"), ["survey"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_survey_contacts_resident_id"), ["resident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_contacts_resident_id"))
        batch_op.drop_index(batch_op.f("ix_survey_contacts_survey"))
    op.drop_table("survey_contacts")
    with op.batch_alter_table("survey_participations", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_participations_survey_resident")
    op.drop_table("survey_participations")
