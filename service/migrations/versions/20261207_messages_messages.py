"""messages: the message table, and contact preferences on referrals and volunteers

Revision ID: messages_messages
Revises: concerns_safeguarding
Create Date: 2026-12-07 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.columns

revision: str = "messages_messages"
down_revision: str | None = "concerns_safeguarding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("referral", "volunteer"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("contact_preferences", sa.JSON(), nullable=True))
    utc = service.models.columns.UtcDateTime(timezone=True)
    op.create_table(
        "message",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("recipient_type", sa.String(length=20), nullable=False),
        sa.Column("recipient_id", sa.String(length=36), nullable=False),
        sa.Column("match_id", sa.String(length=36), nullable=True),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("personalisation", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", utc, nullable=False),
        sa.Column("notify_id", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("withheld_reason", sa.String(length=40), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("sent_at", utc, nullable=True),
        sa.Column("completed_at", utc, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("event_id", "recipient_type", name="uq_message_event_recipient"),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_recipient_id"), ["recipient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_notify_id"), ["notify_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("message")
    for table in ("volunteer", "referral"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("contact_preferences")
