"""A `limits` store in the service's own PostgreSQL, so N requests a minute means N across every worker process
and machine without another service to run (`PEER_MATCH_RATE_LIMIT_STORAGE=database`).

One row per key holds the times of its requests in the last window, newest last. Taking an entry is one
statement: the upsert locks the key's row, keeps the times still inside the window and adds now only if fewer
than the limit remain, so two processes counting the same key at once queue on that row instead of both
slipping under the limit. The table is UNLOGGED: counts need not outlive a crash of
PostgreSQL, and skipping the WAL keeps the statement cheap. Only key ids and times are stored."""

import time

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

_ACQUIRE = text(
    """
    INSERT INTO rate_limit_window AS w (key, hits) VALUES (:key, array_fill(CAST(:now AS float8), ARRAY[:amount]))
    ON CONFLICT (key) DO UPDATE SET hits = (
        SELECT CASE WHEN count(*) + :amount <= :limit
                    THEN coalesce(array_agg(h ORDER BY h), '{}') || array_fill(CAST(:now AS float8), ARRAY[:amount])
                    ELSE coalesce(array_agg(h ORDER BY h), '{}') END
        FROM unnest(w.hits) AS h WHERE h > :now - :expiry)
    RETURNING w.hits[cardinality(w.hits)] = :now AS taken
    """
)
_WINDOW = text(
    "SELECT min(h), count(h) FROM rate_limit_window AS w, unnest(w.hits) AS h WHERE w.key = :key AND h > :since"
)


class DatabaseStorage(Storage, MovingWindowSupport):
    """The moving window of `limits` kept in PostgreSQL; made from the service's database URL."""

    STORAGE_SCHEME = ["peer-match-database"]

    def __init__(self, database_url: str) -> None:
        super().__init__()
        if not database_url.startswith(("postgresql://", "postgresql+psycopg://")):
            raise ValueError("the rate limit storage `database` needs PostgreSQL; use memory:// with SQLite")
        url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
        # A pool of its own in autocommit: the count must not wait for, or roll back with, the request's work.
        self.engine: Engine = create_engine(url, pool_size=2, max_overflow=4, isolation_level="AUTOCOMMIT")

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        params = {"key": key, "now": time.time(), "limit": limit, "expiry": expiry, "amount": amount}
        with self.engine.connect() as connection:
            return bool(connection.execute(_ACQUIRE, params).scalar_one())

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with self.engine.connect() as connection:
            oldest, count = connection.execute(_WINDOW, {"key": key, "since": now - expiry}).one()
        return (float(oldest), int(count)) if count else (now, 0)

    # The fixed-window half of the interface, which the moving window does not use.
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("the database store keeps moving windows only")

    def get(self, key: str) -> int:
        return self.get_moving_window(key, 0, 60)[1]

    def get_expiry(self, key: str) -> float:
        oldest, count = self.get_moving_window(key, 0, 60)
        return oldest + 60 if count else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1 FROM rate_limit_window LIMIT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.connect() as connection:
            return connection.execute(text("DELETE FROM rate_limit_window")).rowcount

    def clear(self, key: str) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("DELETE FROM rate_limit_window WHERE key = :key"), {"key": key})
