"""match runs as jobs: a run's status, its progress, the referrals it was asked for, and why it failed

Revision ID: runs_jobs
Revises: queue_procrastinate
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.models.columns import UtcDateTime

revision: str = "runs_jobs"
down_revision: str | None = "queue_procrastinate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        # Runs made before jobs were solved in their request: every one of them is done.
        batch_op.add_column(sa.Column("status", sa.String(length=12), nullable=False, server_default="done"))
        batch_op.add_column(sa.Column("referral_ids", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("progress", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("error", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("updated_at", UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_match_run_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.drop_index("ix_match_run_status")
        for name in ("updated_at", "error", "progress", "referral_ids", "status"):
            batch_op.drop_column(name)
