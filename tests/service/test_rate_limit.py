"""Requests per API key: over the limit is 429 with Retry-After and problem details; other keys carry on."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from service.app import create_app
from service.core import auth
from service.core.config import Settings
from tests.conftest import KeyMaker
from tests.served import served

PROBLEM = "application/problem+json"
LIMIT = 3
NOW = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def limited(settings: Settings, engine: Engine, app: FastAPI, db: Connection) -> TestClient:
    # No `with`: the lifespan (and its engine.dispose) belongs to the session's app, not this one.
    limited_app = create_app(settings.model_copy(update={"rate_limit_per_minute": LIMIT}), engine)
    # Its requests join the test's transaction as the session's app's do.
    limited_app.dependency_overrides.update(app.dependency_overrides)
    return TestClient(limited_app, raise_server_exceptions=False)


def test_a_key_over_its_limit_is_429_with_retry_after_and_problem_details(
    limited: TestClient, make_key: KeyMaker
) -> None:
    busy = make_key("coordinator")
    with time_machine.travel(NOW, tick=False):
        assert [limited.get("/v1/vocabulary", headers=busy).status_code for _ in range(LIMIT)] == [200] * LIMIT
        refused = limited.get("/v1/vocabulary", headers=busy)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    problem = refused.json()
    assert problem["status"] == 429 and problem["title"] == "Too many requests"
    assert problem["retry_after"] == int(refused.headers["retry-after"])


def test_another_key_is_not_slowed_by_a_busy_one(limited: TestClient, make_key: KeyMaker) -> None:
    busy, other = make_key("coordinator"), make_key("coordinator")
    with time_machine.travel(NOW, tick=False):
        for _ in range(LIMIT + 2):
            limited.get("/v1/referrals", headers=busy)
        assert limited.get("/v1/referrals", headers=busy).status_code == 429
        assert limited.get("/v1/referrals", headers=other).status_code == 200


def test_the_window_moves_on_and_the_key_may_call_again(limited: TestClient, make_key: KeyMaker) -> None:
    busy = make_key("admin")
    with time_machine.travel(NOW, tick=False) as traveller:
        for _ in range(LIMIT):
            limited.get("/v1/programme", headers=busy)
        refused = limited.get("/v1/programme", headers=busy)
        assert refused.status_code == 429
        traveller.shift(timedelta(seconds=int(refused.headers["retry-after"]) + 1))
        assert limited.get("/v1/programme", headers=busy).status_code == 200


def test_operations_routes_need_no_key_and_are_not_limited(limited: TestClient) -> None:
    with time_machine.travel(NOW, tick=False):
        assert {limited.get("/healthz").status_code for _ in range(LIMIT * 3)} == {200}
        assert {limited.get("/metrics").status_code for _ in range(LIMIT * 3)} == {200}


def test_a_revoked_key_is_401_at_once_not_429(limited: TestClient, db: Connection) -> None:
    with Session(db) as session:
        key, secret = auth.create_key(session, name="front end", role=auth.Role.coordinator)
        key_id = key.id
        session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    with time_machine.travel(NOW, tick=False):
        for _ in range(LIMIT + 1):
            limited.get("/v1/vocabulary", headers=headers)
        with Session(db) as session:
            assert auth.revoke(session, key_id)
            session.commit()
        assert limited.get("/v1/vocabulary", headers=headers).status_code == 401


def test_the_limit_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEER_MATCH_RATE_LIMIT_PER_MINUTE", "50")
    assert Settings(data_dir=tmp_path).rate_limit_per_minute == 50
    assert Settings(data_dir=tmp_path, rate_limit_per_minute=0).rate_limit_per_minute == 0  # 0: no limit


def test_every_answer_to_a_key_says_how_much_of_its_limit_is_left(limited: TestClient, make_key: KeyMaker) -> None:
    busy = make_key("coordinator")
    with time_machine.travel(NOW, tick=False):
        answers = [limited.get("/v1/vocabulary", headers=busy) for _ in range(LIMIT + 1)]
    assert [a.status_code for a in answers] == [200] * LIMIT + [429]
    assert [a.headers["ratelimit-limit"] for a in answers] == [str(LIMIT)] * (LIMIT + 1)
    assert [int(a.headers["ratelimit-remaining"]) for a in answers] == [2, 1, 0, 0]
    assert all(0 <= int(a.headers["ratelimit-reset"]) <= 60 for a in answers)
    # No key, no quota: an unauthenticated answer carries none.
    assert "ratelimit-limit" not in limited.get("/v1/vocabulary").headers


def test_the_store_is_a_setting_and_a_wrong_one_fails_at_start(settings: Settings, engine: Engine) -> None:
    """`PEER_MATCH_RATE_LIMIT_STORAGE` names a `limits` store (redis:// shares the counts between workers); a
    store that cannot be made stops the app at start, not at the first request."""
    create_app(settings.model_copy(update={"rate_limit_storage": "memory://"}), engine)
    with pytest.raises(Exception, match="storage"):
        create_app(settings.model_copy(update={"rate_limit_storage": "nonsense://"}), engine)


@pytest.mark.real_commits  # the server's two processes use connections of their own
def test_two_processes_sharing_the_database_store_admit_the_limit_once(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """Two uvicorn workers with `PEER_MATCH_RATE_LIMIT_STORAGE=database`: N a minute means N across both, not N
    each (with memory:// each worker would admit its own N)."""
    if settings.is_sqlite:
        pytest.skip("the database store needs PostgreSQL")
    with Session(engine) as session:
        _key, secret = auth.create_key(session, name="two workers", role=auth.Role.coordinator)
        session.commit()
    limit = 12
    env = {"PEER_MATCH_RATE_LIMIT_STORAGE": "database", "PEER_MATCH_RATE_LIMIT_PER_MINUTE": str(limit)}
    with served(data_dir=tmp_path, database_url=settings.database_url, workers=2, env=env) as base_url:
        statuses = []
        for _ in range(limit * 3):
            # A new connection each time, so the kernel spreads the requests over both workers.
            with httpx.Client(base_url=base_url, timeout=10) as http:
                statuses.append(http.get("/v1/vocabulary", headers={"Authorization": f"Bearer {secret}"}).status_code)
    assert statuses.count(200) == limit
    assert statuses.count(429) == limit * 2


def test_the_database_store_needs_postgresql(settings: Settings, engine: Engine) -> None:
    if not settings.is_sqlite:
        pytest.skip("on SQLite only")
    with pytest.raises(ValueError, match="PostgreSQL"):
        create_app(settings.model_copy(update={"rate_limit_storage": "database"}), engine)
