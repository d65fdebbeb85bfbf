"""contact notes, supervision and training records, due-soon alerts remembered

Revision ID: records_practice
Revises: homes_lone_working
Create Date: 2026-12-07 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.models.columns

revision: str = "records_practice"
down_revision: str | None = "homes_lone_working"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sqlmodel.sql.sqltypes.AutoString(length=36)


def upgrade() -> None:
    op.create_table(
        "contact",
        sa.Column("id", _ID, nullable=False),
        sa.Column("referral_id", _ID, nullable=False),
        sa.Column("match_id", _ID, nullable=True),
        sa.Column("session_id", _ID, nullable=True),
        sa.Column("volunteer_id", _ID, nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("concern", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_key_id", _ID, nullable=False),
        sa.Column("recorded_by_role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("recorded_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["match.id"], name=op.f("fk_contact_match_id_match")),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], name=op.f("fk_contact_referral_id_referral")),
        sa.ForeignKeyConstraint(["session_id"], ["session.id"], name=op.f("fk_contact_session_id_session")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        for column in ("match_id", "referral_id", "session_id", "volunteer_id"):
            batch_op.create_index(batch_op.f(f"ix_contact_{column}"), [column], unique=False)

    op.create_table(
        "supervision",
        sa.Column("id", _ID, nullable=False),
        sa.Column("volunteer_id", _ID, nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("supervisor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("recorded_by_key_id", _ID, nullable=False),
        sa.Column("recorded_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"], name=op.f("fk_supervision_volunteer_id_volunteer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision")),
    )
    with op.batch_alter_table("supervision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "training",
        sa.Column("id", _ID, nullable=False),
        sa.Column("volunteer_id", _ID, nullable=False),
        sa.Column("module", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_key_id", _ID, nullable=False),
        sa.Column("recorded_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"], name=op.f("fk_training_volunteer_id_volunteer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training")),
    )
    with op.batch_alter_table("training", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "due_alert",
        sa.Column("id", _ID, nullable=False),
        sa.Column("volunteer_id", _ID, nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("raised_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"], name=op.f("fk_due_alert_volunteer_id_volunteer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_alert")),
        sa.UniqueConstraint("volunteer_id", "item", "due_on", "days_before", name="uq_due_alert_once"),
    )
    with op.batch_alter_table("due_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_due_alert_volunteer_id"), ["volunteer_id"], unique=False)

    # The single `last_supervision_on` stays as the latest supervision: a date given before records existed
    # counts as one until a later record replaces it.
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("training", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.drop_column("training")
    for table in ("due_alert", "training", "supervision", "contact"):
        op.drop_table(table)
