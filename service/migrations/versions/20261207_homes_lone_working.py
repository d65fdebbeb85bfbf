"""lone working on home visits: a session's check-in, check-out and missed check-out alert

Revision ID: homes_lone_working
Revises: replay_etag
Create Date: 2026-12-07 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.columns

revision: str = "homes_lone_working"
down_revision: str | None = "replay_etag"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checked_in_at", service.models.columns.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("checked_out_at", service.models.columns.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("safety_alerted_at", service.models.columns.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_column("safety_alerted_at")
        batch_op.drop_column("checked_out_at")
        batch_op.drop_column("checked_in_at")
