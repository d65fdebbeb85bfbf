"""the job queue's tables (procrastinate 3.10) on PostgreSQL; nothing on SQLite, where work runs in process

Revision ID: queue_procrastinate
Revises: rate_limit_window
Create Date: 2026-12-07 06:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "queue_procrastinate"
down_revision: str | None = "rate_limit_window"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Everything procrastinate's schema.sql creates is named procrastinate_*: dropped by name, whatever the version.
DROP = """
DO $$
DECLARE item record;
BEGIN
    FOR item IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP TABLE IF EXISTS %s CASCADE', item.name);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', item.name);
    END LOOP;
    FOR item IN SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%' AND t.typtype IN ('e', 'c')
                AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind = 'r') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %s CASCADE', item.name);
    END LOOP;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The schema is read from the installed procrastinate, pinned in pyproject.toml: a later version brings its
    # own delta scripts (procrastinate/sql/migrations), applied by a new revision, never by editing this one.
    from service.core.queue import schema

    # Straight to psycopg, no parameters: the schema's own % signs stay as written and its many statements
    # go in one round trip.
    op.get_bind().connection.driver_connection.execute(schema())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.get_bind().connection.driver_connection.execute(DROP)
