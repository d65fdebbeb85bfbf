"""Engine and the end of a request's unit of work: one commit on success, rollback on error."""

import json
import select
from collections.abc import Collection
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Engine, String, any_, create_engine, event, func, literal
from sqlalchemy import select as sql_select
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from service.core.config import Settings

# Above this many ids a query reads the whole set it filters and keeps the asked ids in Python: an IN list of
# 10,000-20,000 bound parameters took seconds to send and plan on PostgreSQL for a national match run, and
# SQLAlchemy's rendering of 1,000 of them took 0.2 s on SQLite.
IN_LIST_MAX = 500


def one_of(db: Session, column: Any, ids: Collection[str]) -> ColumnElement[bool]:
    """`column IN ids` with the ids bound as one parameter however many there are, for the sets a match run
    reads and writes (tens of thousands): an array on PostgreSQL (`= ANY`), a JSON array on SQLite (`json_each`).
    One parameter to send and plan, where an IN list of that many took seconds (IN_LIST_MAX; docs/decisions/0026)."""
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(String)))
    listed = func.json_each(literal(json.dumps(list(ids)))).table_valued("value")
    return column.in_(sql_select(listed.c.value))


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        # One connection per request at work, one for the delivery worker, a small overflow for the CLI and
        # tests: connections above the pool are closed on return, and that churn is costly under load.
        engine = create_engine(url, pool_size=settings.requests_at_once + 1, max_overflow=2)
        event.listen(engine, "checkout", _drop_if_closed_by_server)
        return engine
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if url in ("sqlite://", "sqlite:///:memory:"):
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _drop_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed; the pool then opens a fresh one.

    Instead of `pool_pre_ping`, whose SELECT 1 was a tenth of a referral post's round trips: an idle connection
    has nothing to read unless the server has said goodbye (a restart, a failover or pg_terminate_backend send
    an error and close the socket), so a readable socket, asked of the kernel without a round trip, means a dead
    connection. A connection lost silently (a cut network) is not seen here; its first statement fails, the
    request is a 503 and SQLAlchemy empties the pool (tests/service/test_faults.py)."""
    if dbapi_connection.closed:
        raise DisconnectionError("the connection is closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise DisconnectionError("the server has closed the connection")


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


def commit_and_close(db: Session) -> None:
    """The end of a request's unit of work that went well: one commit, or a rollback if the commit fails."""
    try:
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def commit_here(db: Session) -> None:
    """Commit the request's unit of work now, from the thread already doing its work, for a route whose answer
    needs nothing after it (the referral post). The session's end then has nothing left to send and takes no
    trip through the thread pool; a failed commit raises here and the session's end rolls back as for any error.
    Nothing may be written after it: a later write would begin a transaction the session's end then commits."""
    db.commit()


def rollback_and_close(db: Session) -> None:
    """The end of a request's unit of work that failed: nothing it wrote is kept."""
    try:
        db.rollback()
    finally:
        db.close()
