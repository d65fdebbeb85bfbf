"""Tables the migrations make for infrastructure, on PostgreSQL only, that no model declares: procrastinate's job
queue (its own schema, decision 0023) and the shared rate limit's windows. Alembic's comparison skips them, so
autogenerate never proposes dropping them, and the tests' cleanup empties them as it does the records."""

RATE_LIMIT_TABLES = frozenset({"rate_limit_window"})
QUEUE_PREFIX = "procrastinate_"


def is_outside_models(table: str | None) -> bool:
    return table is not None and (table in RATE_LIMIT_TABLES or table.startswith(QUEUE_PREFIX))


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's `include_name` hook: everything but these tables."""
    return not (type_ == "table" and is_outside_models(name))
