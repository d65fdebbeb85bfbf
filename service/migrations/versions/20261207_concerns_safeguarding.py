"""safeguarding concerns and leads, risk review outcomes that pause, matches on hold

Revision ID: concerns_safeguarding
Revises: 0008
Create Date: 2026-12-07 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.models.columns

revision: str = "concerns_safeguarding"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "concern",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("referral_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("match_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("volunteer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("raised_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("raised_by_role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("blocking", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=True),
        sa.Column("occurred_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("immediate_action", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("outcome_note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("raised_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", service.models.columns.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("updated_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["match.id"], name=op.f("fk_concern_match_id_match")),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], name=op.f("fk_concern_referral_id_referral")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern")),
    )
    with op.batch_alter_table("concern", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_match_id"), ["match_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concern_raised_at"), ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_concern_referral_id"), ["referral_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concern_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_concern_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "concern_action",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("concern_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("recorded_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.ForeignKeyConstraint(["concern_id"], ["concern.id"], name=op.f("fk_concern_action_concern_id_concern")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_action")),
    )
    with op.batch_alter_table("concern_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_action_concern_id"), ["concern_id"], unique=False)

    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("safeguarding_lead", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_reasons", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("hold_until", sa.Date(), nullable=True))

    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_until", sa.Date(), nullable=True))

    with op.batch_alter_table("risk_review", schema=None) as batch_op:
        batch_op.alter_column(
            "outcome",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
            type_=sqlmodel.sql.sqltypes.AutoString(length=40),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_review", schema=None) as batch_op:
        batch_op.drop_column("until")
        batch_op.alter_column(
            "outcome",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=40),
            type_=sqlmodel.sql.sqltypes.AutoString(length=20),
            existing_nullable=False,
        )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("paused_until")
    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.drop_column("hold_until")
        batch_op.drop_column("hold_reasons")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("safeguarding_lead")
    with op.batch_alter_table("concern_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_action_concern_id"))
    op.drop_table("concern_action")
    with op.batch_alter_table("concern", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_volunteer_id"))
        batch_op.drop_index(batch_op.f("ix_concern_status"))
        batch_op.drop_index(batch_op.f("ix_concern_referral_id"))
        batch_op.drop_index(batch_op.f("ix_concern_raised_at"))
        batch_op.drop_index(batch_op.f("ix_concern_match_id"))
    op.drop_table("concern")
