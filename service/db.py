"""Engine and the end of a request's unit of work: one commit on success, rollback on error."""

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from service.config import Settings


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        # One connection per request at work, one for the delivery worker, a small overflow for the CLI and
        # tests: connections above the pool are closed on return, and that churn is costly under load.
        return create_engine(url, pool_size=settings.requests_at_once + 1, max_overflow=2, pool_pre_ping=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if url in ("sqlite://", "sqlite:///:memory:"):
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_begin_immediate(connection: Any) -> None:
    # A deferred SQLite transaction that reads and then writes fails at once (SQLITE_BUSY) when another
    # writer committed in between; taking the write lock up front makes concurrent requests queue instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def commit_and_close(session: Session) -> None:
    """The end of a request's unit of work that went well: one commit, or a rollback if the commit fails."""
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rollback_and_close(session: Session) -> None:
    """The end of a request's unit of work that failed: nothing it wrote is kept."""
    try:
        session.rollback()
    finally:
        session.close()
