"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with PEER_MATCH_TEST_DATABASE_URL),
the app served through its real auth, and keys per role."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from api_schemas.programme import ProgrammeSettings
from service.app import create_app
from service.core import auth, migrate
from service.core.config import Settings
from service.core.db import make_engine
from service.models import Programme
from service.vocabulary import service as vocabulary_service

# Tables holding records a test makes; the seeded vocabulary and programme rows are restored instead.
SEEDED: dict[str, int] = {}
RECORD_TABLES = [
    "audit_event", "idempotency_record", "api_key", "delivery", "outbox_event", "webhook", "session", "match",
    "proposal", "excluded_pair", "match_run", "measure", "risk_review", "referral", "volunteer",
]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("data")
    url = os.environ.get("PEER_MATCH_TEST_DATABASE_URL", "")
    return Settings(environment="test", data_dir=data_dir, database_url=url, log_level="WARNING",
                    run_worker_in_app=False, allow_private_webhooks=True)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    if not settings.is_sqlite:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        SEEDED["vocabulary_max_id"] = connection.execute(text("SELECT max(id) FROM vocabulary_code")).scalar()
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine)


@pytest.fixture(autouse=True)
def _clean_records(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("engine")
    with engine.begin() as connection:
        for table in RECORD_TABLES:
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(text("DELETE FROM vocabulary_code WHERE id > :seeded"),
                           {"seeded": SEEDED["vocabulary_max_id"]})
    vocabulary_service.forget_known_codes(engine)
    with Session(engine) as session:
        programme = session.get(Programme, 1)
        assert programme is not None
        programme.settings = ProgrammeSettings().model_dump(mode="json")
        session.add(programme)
        session.commit()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


KeyMaker = Callable[..., dict[str, str]]


@pytest.fixture
def make_key(engine: Engine) -> KeyMaker:
    """Headers with a fresh API key of the given role."""

    def make(role: str, *, source: str | None = None, volunteer_id: str | None = None) -> dict[str, str]:
        with Session(engine) as session:
            _key, secret = auth.create_key(session, name=f"test {role}", role=auth.Role(role),
                                           source=source, volunteer_id=volunteer_id)
            session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def coordinator(make_key: KeyMaker) -> dict[str, str]:
    return make_key("coordinator")


@pytest.fixture
def admin(make_key: KeyMaker) -> dict[str, str]:
    return make_key("admin")
