"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with PEER_MATCH_TEST_DATABASE_URL),
the app served through its real auth, and keys per role.

Isolation. By default a test runs inside one transaction on one connection (`db`), rolled back at its end: the
app's request sessions, the keys `make_key` makes and whatever the test reads or writes through `db` all join it,
and their commits and rollbacks become savepoints (SQLAlchemy's "joining a session into an external
transaction"). Nothing a test writes can outlive it, whatever table it lands in.

A test that needs the database as other connections see it (a server in another thread or process, several
writers at once, a refused or dropped connection, /readyz, anything calling `engine.connect()`) is marked
`real_commits`: it uses `engine` and commits for real, and afterwards every table the models declare is emptied,
except the rows the migrations seed. On SQLite such a test cannot run in the default mode: the test's open
transaction holds the write lock, so any other connection's BEGIN IMMEDIATE would wait out the busy timeout."""

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import anyio.to_thread
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, Table, delete, event, inspect, select, text, update
from sqlmodel import Session, SQLModel

from service.app import create_app
from service.core import auth, migrate, tasks
from service.core.config import Settings
from service.core.db import make_engine
from service.core.deps import get_session
from service.migrations.outside_models import is_outside_models
from service.vocabulary import service as vocabulary_service

# The tables the migrations fill, restored after a real_commits test rather than emptied: vocabulary codes are
# only ever added, so those above the seeded ones go; the programme row is put back as migrated.
SEEDED_TABLES = frozenset({"vocabulary_code", "programme"})
# Alembic's own bookkeeping, not a model.
MIGRATIONS_TABLE = "alembic_version"
SEEDED: dict[str, Any] = {}


def record_tables() -> list[Table]:
    """Every table a real_commits test's cleanup empties: all the models declare but the seeded ones, children
    first. Read from the models, so a new table is emptied without anyone listing it."""
    return [table for table in reversed(SQLModel.metadata.sorted_tables) if table.name not in SEEDED_TABLES]


def _seeded_tables() -> dict[str, Table]:
    return {name: SQLModel.metadata.tables[name] for name in SEEDED_TABLES}


def empty_records(engine: Engine) -> None:
    """What a real_commits test leaves is removed: every record table emptied, the seeded tables as migrated."""
    seeded = _seeded_tables()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # No CASCADE: a seeded table pointing at a record table would fail here rather than be emptied.
            names = ", ".join(connection.dialect.identifier_preparer.format_table(t) for t in record_tables())
            connection.execute(text(f"TRUNCATE {names}"))
            # The job queue's and the rate limit's tables (no models): their own foreign keys, so CASCADE.
            outside = [n for n in inspect(connection).get_table_names() if is_outside_models(n)]
            if outside:
                connection.execute(text(f"TRUNCATE {', '.join(outside)} CASCADE"))
        else:
            for table in record_tables():
                connection.execute(delete(table))
        vocabulary = seeded["vocabulary_code"]
        connection.execute(delete(vocabulary).where(vocabulary.c.id > SEEDED["vocabulary_max_id"]))
        programme = seeded["programme"]
        connection.execute(delete(programme).where(programme.c.id.not_in([r["id"] for r in SEEDED["programme"]])))
        for row in SEEDED["programme"]:
            connection.execute(update(programme).where(programme.c.id == row["id"]).values(**row))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real_commits: commits for real on the engine's own connections; the "
        "records are emptied afterwards (see tests/conftest.py)",
    )


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("data")
    url = os.environ.get("PEER_MATCH_TEST_DATABASE_URL", "")
    return Settings(
        environment="test",
        data_dir=data_dir,
        database_url=url,
        log_level="WARNING",
        run_worker_in_app=False,
        allow_private_webhooks=True,
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    if not settings.is_sqlite:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        SEEDED["vocabulary_max_id"] = connection.execute(text("SELECT max(id) FROM vocabulary_code")).scalar()
        SEEDED["programme"] = [
            dict(row) for row in connection.execute(select(_seeded_tables()["programme"])).mappings()
        ]
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine)


def sessions_on(connection: Connection) -> Callable[[Request], AsyncIterator[Session]]:
    """An override of `get_session` that runs the app's own get_session (its commit, its rollback, in the
    thread pool as in production) with the test's connection in place of the engine."""
    on_connection = cast(Request, SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(engine=connection))))
    request_session = asynccontextmanager(get_session)

    async def session_on_test_connection(request: Request) -> AsyncIterator[Session]:
        async with request_session(on_connection) as session:
            yield session

    return session_on_test_connection


def _refuse_commit(*_args: Any) -> None:
    raise AssertionError("the test's transaction was committed: use the real_commits marker to commit for real")


def _refuse_other_connection(*_args: Any) -> None:
    # Another connection would not see the test's records, and on SQLite would wait out the busy timeout for the
    # write lock the test's transaction holds: fail at once, with the way out.
    raise AssertionError("a connection other than the test's was opened: mark the test real_commits")


@pytest.fixture
def _bind(request: pytest.FixtureRequest, engine: Engine, app: FastAPI) -> Iterator[Engine | Connection]:
    """The test's connection in its rolled-back transaction, or the engine for a real_commits test."""
    try:
        if request.node.get_closest_marker("real_commits"):
            yield engine
            empty_records(engine)
            return
        with engine.connect() as connection:
            outer = connection.begin()
            # A Session given a connection already inside a savepoint takes a savepoint of its own (its default
            # join mode, "conditional_savepoint", becomes "create_savepoint"), so the app's get_session and a
            # test's plain Session(db) need no options to leave the outer transaction alone.
            connection.begin_nested()
            event.listen(connection, "commit", _refuse_commit)
            event.listen(engine, "checkout", _refuse_other_connection)
            app.dependency_overrides[get_session] = sessions_on(connection)
            try:
                yield connection
            finally:
                app.dependency_overrides.pop(get_session, None)
                event.remove(engine, "checkout", _refuse_other_connection)
                outer.rollback()
    finally:
        # Codes a test added are gone, and so must be the engine's memory of them.
        vocabulary_service.forget_known_codes(engine)


@pytest.fixture(autouse=True)
def _isolation(request: pytest.FixtureRequest) -> None:
    if "engine" in request.fixturenames:
        request.getfixturevalue("_bind")


@pytest.fixture
def db(_bind: Engine | Connection) -> Connection:
    """The test's connection: what it reads and writes joins the app's requests and is rolled back at its end."""
    if not isinstance(_bind, Connection):
        pytest.fail("a real_commits test sees the database through `engine`, as other connections do")
    return _bind


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


KeyMaker = Callable[..., dict[str, str]]


@pytest.fixture
def make_key(_bind: Engine | Connection) -> KeyMaker:
    """Headers with a fresh API key of the given role."""

    def make(role: str, *, source: str | None = None, volunteer_id: str | None = None) -> dict[str, str]:
        with Session(_bind) as session:
            _key, secret = auth.create_key(
                session, name=f"test {role}", role=auth.Role(role), source=source, volunteer_id=volunteer_id
            )
            session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def coordinator(make_key: KeyMaker) -> dict[str, str]:
    return make_key("coordinator")


@pytest.fixture
def admin(make_key: KeyMaker) -> dict[str, str]:
    return make_key("admin")


class InlineRunner:
    """Runs a deferred task at once, on the thread that deferred it (after its commit): a task given the test's
    connection may not use it from another thread, and a test sees the work done when its request returns."""

    def defer(self, engine: Engine, name: str, kwargs: dict[str, str]) -> None:
        # As the in-process runner does, a task's failure does not reach whoever deferred it: the task has
        # recorded it (a failed run says so itself).
        with contextlib.suppress(Exception):
            tasks.registered(name)(engine, **kwargs)


@pytest.fixture(autouse=True)
def _inline_tasks() -> Iterator[None]:
    old = tasks.set_runner(InlineRunner())
    yield
    tasks.set_runner(old)


class HeldRunner:
    """Keeps deferred tasks until the test lets them go: a match run stays queued, as behind a busy worker."""

    def __init__(self) -> None:
        self.held: list[tuple[Any, str, dict[str, str]]] = []

    def defer(self, engine: Any, name: str, kwargs: dict[str, str]) -> None:
        self.held.append((engine, name, kwargs))

    def release(self) -> None:
        while self.held:
            engine, name, kwargs = self.held.pop(0)
            tasks.registered(name)(engine, **kwargs)


@pytest.fixture
def held_tasks(_inline_tasks: None) -> Iterator[HeldRunner]:
    runner = HeldRunner()
    old = tasks.set_runner(runner)
    yield runner
    tasks.set_runner(old)


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function the request sent through the thread pool."""
    made: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(func, "__name__", repr(func)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return made
