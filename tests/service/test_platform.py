"""Auth, errors, operations, vocabulary and programme settings."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlmodel import Session, SQLModel

from service.core import auth, migrate
from service.migrations.outside_models import include_name
from tests.factories import referral_body

PROBLEM = "application/problem+json"


def test_no_key_is_401_problem_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/v1/referrals")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_fails_at_once(client: TestClient, db: Connection) -> None:
    with Session(db) as session:
        key, secret = auth.create_key(session, name="front end", role=auth.Role.coordinator)
        session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/v1/referrals", headers=headers).status_code == 200
        assert auth.revoke(session, key.id)
        session.commit()
    assert client.get("/v1/referrals", headers=headers).status_code == 401


def test_keys_are_stored_only_as_hashes(db: Connection) -> None:
    with Session(db) as session:
        key, secret = auth.create_key(session, name="x", role=auth.Role.admin)
        session.commit()
        assert secret not in repr(key.model_dump()) and key.secret_hash == auth.hash_secret(secret)


def test_framework_errors_are_problem_details(client: TestClient, coordinator: dict[str, str]) -> None:
    missing = client.get("/v1/nowhere", headers=coordinator)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    wrong_method = client.delete("/v1/vocabulary", headers=coordinator)
    assert wrong_method.status_code == 405 and wrong_method.headers["content-type"] == PROBLEM
    # FastAPI makes one route per method; the Allow header must still name them all.
    assert client.put("/v1/referrals/any-id", headers=coordinator).headers["allow"] == "DELETE, GET, PATCH"
    not_json = client.post(
        "/v1/referrals", content=b"{not json", headers={**coordinator, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.headers["content-type"] == PROBLEM


def test_a_body_over_the_limit_is_413(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post(
        "/v1/referrals", content=b"x" * 2_000_000, headers={**coordinator, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("path", ["/v1/referrals", "/v1/volunteers", "/v1/match-runs", "/v1/venues"])
def test_a_streamed_body_over_the_limit_is_413_on_any_route(
    client: TestClient, coordinator: dict[str, str], path: str
) -> None:
    """No length declared: the limit is found while the body is read, inside FastAPI's reading of it."""

    def chunks() -> Iterator[bytes]:
        yield b'{"first_name": "'
        for _ in range(40):
            yield b"x" * 65536

    response = client.post(path, content=chunks(), headers={**coordinator, "Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "Payload too large"


@pytest.mark.real_commits  # /readyz opens a connection of its own
def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert "x-request-id" in ready.headers
    assert "peer_match_requests_total" in client.get("/metrics").text


@pytest.mark.real_commits  # migrate.is_current opens a connection of its own
def test_the_migrations_build_exactly_the_tables_the_models_declare(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import service.models  # noqa: F401

    assert migrate.is_current(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_the_vocabulary_has_the_uk_starter_set_and_admins_add_codes(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str]
) -> None:
    vocabulary = client.get("/v1/vocabulary", headers=coordinator).json()
    experiences = {e["code"] for e in vocabulary["experiences"]}
    assert {"postnatal_depression", "antenatal_anxiety", "birth_trauma"} <= experiences
    assert {"refugee_or_asylum", "single_parent", "rural", "baby_loss", "neonatal_unit"} <= {
        e["code"] for e in vocabulary["background"]
    }
    entry = {"code": "traveller_community", "label": "Gypsy/Traveller community"}
    assert client.post("/v1/vocabulary/background", json=entry, headers=coordinator).status_code == 403
    assert client.post("/v1/vocabulary/background", json=entry, headers=admin).status_code == 201
    assert client.post("/v1/vocabulary/background", json=entry, headers=admin).status_code == 409
    codes = {e["code"] for e in client.get("/v1/vocabulary", headers=coordinator).json()["background"]}
    assert "traveller_community" in codes


def test_programme_settings_have_the_documented_defaults_and_validate(
    client: TestClient, admin: dict[str, str]
) -> None:
    settings = client.get("/v1/programme", headers=admin).json()
    assert settings["planned_sessions"] == 8 and settings["bank_holiday_region"] == "scotland"
    assert settings["ending_conversation_offset"] == 2 and settings["rest_days"] == 14
    assert settings["epds_threshold"] == 13 and settings["volunteer_must_accept"] is True
    bad = client.put("/v1/programme", json={**settings, "time_zone": "Mars/Olympus"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "time_zone"]


def test_a_string_or_true_false_where_the_schema_says_number_or_boolean_is_422(
    client: TestClient, admin: dict[str, str]
) -> None:
    settings = client.get("/v1/programme", headers=admin).json()
    for field, value in (
        ("planned_sessions", "8"),
        ("planned_sessions", True),
        ("volunteer_must_accept", 0),
        ("volunteer_must_accept", "yes"),
    ):
        bad = client.put("/v1/programme", json={**settings, field: value}, headers=admin)
        assert bad.status_code == 422, (field, value)
        assert bad.json()["errors"][0]["loc"] == ["body", field]
    consent = {"share_with_volunteer": 1, "contact": True, "given_on": "2026-11-20"}
    refused = client.post("/v1/referrals", json=referral_body(consent=consent), headers=admin)
    assert refused.status_code == 422
    assert ["body", "consent", "share_with_volunteer"] in [e["loc"] for e in refused.json()["errors"]]


def test_nul_characters_are_422_wherever_they_come(client: TestClient, coordinator: dict[str, str]) -> None:
    from tests.factories import referral_body

    assert client.get("/v1/referrals?external_id=%00", headers=coordinator).status_code == 422
    assert client.get("/v1/referrals/%00", headers=coordinator).status_code == 422
    body = referral_body(parent={"name": "Ann\u0000"})
    response = client.post("/v1/referrals", json=body, headers=coordinator)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "parent", "name"]
