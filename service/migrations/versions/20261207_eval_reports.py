"""evaluation: a referral's SIMD quintile, a volunteer's reason for leaving and its vocabulary, feedback

Revision ID: eval_reports
Revises: records_practice
Create Date: 2026-12-07 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.columns

revision: str = "eval_reports"
down_revision: str | None = "records_practice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LEAVE_REASONS = [
    ("moved_away", "Moved away"),
    ("paid_work", "Paid work or study"),
    ("caring", "Caring for family"),
    ("own_wellbeing", "Her own wellbeing"),
    ("not_enough_time", "Not enough time"),
    ("role_not_for_her", "The role was not for her"),
    ("asked_to_leave", "Asked to leave by the programme"),
    ("other", "Other"),
]


def upgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("simd_quintile", sa.Integer(), nullable=True))
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_reason", sa.String(length=64), nullable=True))
    vocabulary = sa.table(
        "vocabulary_code", sa.column("kind", sa.String), sa.column("code", sa.String), sa.column("label", sa.String)
    )
    op.bulk_insert(
        vocabulary, [{"kind": "leave_reasons", "code": code, "label": label} for code, label in LEAVE_REASONS]
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("match_id", sa.String(length=36), nullable=False),
        sa.Column("respondent", sa.String(length=20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("recorded_by_key_id", sa.String(length=36), nullable=True),
        sa.Column("recorded_at", service.models.columns.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["match.id"], name=op.f("fk_feedback_match_id_match")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("match_id", "respondent", name="uq_feedback_match_id_respondent"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_match_id"), ["match_id"], unique=False)


def downgrade() -> None:
    op.drop_table("feedback")
    op.execute("DELETE FROM vocabulary_code WHERE kind = 'leave_reasons'")
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.drop_column("left_reason")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("simd_quintile")
