"""reminders sent once: session.reminded_at and match.ending_soon_at

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.columns

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", service.models.columns.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ending_soon_at", service.models.columns.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.drop_column("ending_soon_at")
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
