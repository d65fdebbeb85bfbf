"""erasure: referral.erased_at and volunteer.erased_at

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.columns

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("referral", "volunteer"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("erased_at", service.models.columns.UtcDateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    for table in ("volunteer", "referral"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("erased_at")
