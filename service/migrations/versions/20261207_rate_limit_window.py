"""the rate limit's moving windows in PostgreSQL, shared by every worker (PEER_MATCH_RATE_LIMIT_STORAGE=database)

Revision ID: rate_limit_window
Revises: trust_needs
Create Date: 2026-12-07 06:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "rate_limit_window"
down_revision: str | None = "trust_needs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostgreSQL only, and outside the models: SQLite serves one process, where memory:// counts exactly.
    # UNLOGGED: a count need not survive a crash of the server, and skipping the WAL keeps each request's upsert cheap.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE UNLOGGED TABLE rate_limit_window (key text PRIMARY KEY, hits float8[] NOT NULL)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE rate_limit_window")
