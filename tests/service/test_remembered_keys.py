"""The referral post takes a key it authenticated lately from memory (auth.RecentKeys, decision 0029): no lookup,
no trip through the thread pool. A key revoked since is refused all the same, with nothing written, whatever
else the request got wrong, as when every post looked its key up first."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, event, text
from sqlmodel import Session

from service.core import auth
from service.core.rate_limit import Quota
from tests.conftest import KeyMaker
from tests.factories import referral_body

WRITTEN = ("referral", "audit_event", "outbox_event", "idempotency_record")


@pytest.fixture
def statements(db: Connection) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(db, "before_cursor_execute", record)
    yield seen
    event.remove(db, "before_cursor_execute", record)


def _key_lookups(statements: list[str]) -> int:
    return sum("from api_key" in s and "secret_hash" in s for s in statements)


def _counts(db: Connection) -> dict[str, int]:
    return {table: db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in WRITTEN}


def _revoke(db: Connection, headers: dict[str, str]) -> None:
    """As `peer-match keys revoke` does from another process: the app is not told."""
    hashed = auth.secret_hash(headers["Authorization"])
    with Session(db) as session:
        key_id = session.connection().execute(text("SELECT id FROM api_key WHERE secret_hash = :h"), {"h": hashed})
        assert auth.revoke(session, key_id.scalar_one())
        session.commit()


def _integrator(make_key: KeyMaker) -> dict[str, str]:
    # A source of its own: a hypothesis example's records are not rolled back before the next.
    return make_key("integrator", source=f"nhs-{uuid.uuid4().hex[:12]}")


def test_a_key_is_looked_up_at_its_first_post_only_and_its_next_takes_one_trip_through_the_pool(
    client: TestClient, make_key: KeyMaker, db: Connection, statements: list[str], trips: list[str]
) -> None:
    integrator = _integrator(make_key)
    first = client.post("/v1/referrals", json=referral_body(1), headers={**integrator, "Idempotency-Key": "k1"})
    assert first.status_code == 201
    assert _key_lookups(statements) == 1 and len(trips) == 2
    statements.clear()
    trips.clear()
    second = client.post("/v1/referrals", json=referral_body(2), headers={**integrator, "Idempotency-Key": "k2"})
    assert second.status_code == 201
    assert _key_lookups(statements) == 0
    assert len(trips) == 1, trips  # the work and its commit; the key came from memory
    asked = [s for s in statements if "api_key" in s]
    if db.dialect.name == "postgresql":
        # The key's revocation is asked in the statement that writes, not apart from it.
        assert len(asked) == 1 and "insert into referral" in asked[0]
    else:
        assert asked and all("revoked_at is null" in s for s in asked)


def test_other_routes_still_look_their_key_up_at_every_request(
    client: TestClient, make_key: KeyMaker, statements: list[str]
) -> None:
    integrator = _integrator(make_key)
    for _ in range(3):
        assert client.get("/v1/referrals", headers=integrator).status_code == 200
    assert _key_lookups(statements) == 3


def test_a_key_revoked_after_it_was_remembered_posts_nothing(
    client: TestClient, app: FastAPI, make_key: KeyMaker, db: Connection
) -> None:
    integrator = _integrator(make_key)
    first = client.post("/v1/referrals", json=referral_body(1), headers={**integrator, "Idempotency-Key": "a"})
    assert first.status_code == 201
    hashed = auth.secret_hash(integrator["Authorization"])
    assert app.state.recent_keys.get(hashed) is not None
    _revoke(db, integrator)
    before = _counts(db)
    refused = client.post("/v1/referrals", json=referral_body(2), headers={**integrator, "Idempotency-Key": "b"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert _counts(db) == before
    assert app.state.recent_keys.get(hashed) is None  # forgotten once found revoked


REQUESTS = {
    "a new referral": (referral_body(3), "fresh"),
    "a retry of the first post": (referral_body(1), "first"),
    "a duplicate external_id": (referral_body(1), "another"),
    "a body the schema refuses": ({**referral_body(4), "formats": ["carrier pigeon"]}, "bad-schema"),
    "a body the rules refuse": ({**referral_body(5), "background": ["no-such-code"]}, "bad-rules"),
    "no Idempotency-Key": (referral_body(6), None),
}


@given(order=st.permutations(list(REQUESTS)))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_after_a_revocation_every_post_of_the_remembered_key_is_401_and_writes_nothing(
    client: TestClient, make_key: KeyMaker, db: Connection, order: list[str]
) -> None:
    integrator = _integrator(make_key)
    first = client.post("/v1/referrals", json=referral_body(1), headers={**integrator, "Idempotency-Key": "first"})
    assert first.status_code == 201
    _revoke(db, integrator)
    before = _counts(db)
    for name in order:
        body, key = REQUESTS[name]
        headers = {**integrator, **({"Idempotency-Key": key} if key else {})}
        answer = client.post("/v1/referrals", json=body, headers=headers)
        assert answer.status_code == 401, (name, answer.status_code, answer.text)
        assert "id" not in answer.json()  # no replay of the first answer
    assert _counts(db) == before


def test_a_remembered_key_over_its_limit_and_revoked_is_401_not_429(
    client: TestClient, app: FastAPI, make_key: KeyMaker, db: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    integrator = _integrator(make_key)
    first = client.post("/v1/referrals", json=referral_body(1), headers={**integrator, "Idempotency-Key": "a"})
    assert first.status_code == 201
    monkeypatch.setattr(app.state.rate_limiter, "hit", lambda _key_id: Quota(False, 1, 0, 30))
    _revoke(db, integrator)
    refused = client.post("/v1/referrals", json=referral_body(2), headers={**integrator, "Idempotency-Key": "b"})
    assert refused.status_code == 401


def test_a_key_that_may_not_post_is_never_remembered(client: TestClient, app: FastAPI, make_key: KeyMaker) -> None:
    volunteer = make_key("volunteer", volunteer_id="v-1")
    for _ in range(2):
        assert client.post("/v1/referrals", json=referral_body(1), headers=volunteer).status_code == 403
    assert app.state.recent_keys.get(auth.secret_hash(volunteer["Authorization"])) is None


def test_recent_keys_expire_hold_a_bounded_number_and_forget_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: now[0])
    recent = auth.RecentKeys(ttl_seconds=60, size=2)
    principal = auth.Principal(key_id="k1", role=auth.Role.integrator, source="nhs")
    recent.remember("h1", principal)
    remembered = recent.get("h1")
    assert remembered is not None and remembered.unchecked and remembered.key_id == "k1"
    now[0] += 61
    assert recent.get("h1") is None
    recent.remember("h1", principal)
    recent.remember("h2", auth.Principal(key_id="k2", role=auth.Role.coordinator))
    recent.remember("h3", auth.Principal(key_id="k3", role=auth.Role.coordinator))
    assert recent.get("h1") is None and recent.get("h2") is not None and recent.get("h3") is not None
    recent.forget("k2")
    assert recent.get("h2") is None and recent.get("h3") is not None
