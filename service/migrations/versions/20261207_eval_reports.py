"""evaluation: a referral's SIMD quintile, a volunteer's reason for leaving and its vocabulary

Revision ID: eval_reports
Revises: venues_base
Create Date: 2026-12-07 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "eval_reports"
down_revision: str | None = "venues_base"
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


def downgrade() -> None:
    op.execute("DELETE FROM vocabulary_code WHERE kind = 'leave_reasons'")
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.drop_column("left_reason")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("simd_quintile")
