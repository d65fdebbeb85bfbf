"""evaluation: a referral's SIMD quintile

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


def upgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("simd_quintile", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("simd_quintile")
