"""The referral post's path (issue 25): the trips it takes through the thread pool, and what its own commit
keeps when that commit fails."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from tests.conftest import KeyMaker
from tests.factories import referral_body


def test_a_post_takes_two_trips_through_the_thread_pool_the_key_and_the_work_with_its_commit(
    client: TestClient, make_key: KeyMaker, trips: list[str]
) -> None:
    integrator = {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": "trips-1"}
    answer = client.post("/v1/referrals", json=referral_body(), headers=integrator)
    assert answer.status_code == 201
    # Before: a third trip after the endpoint, to commit.
    assert len(trips) == 2, trips
    assert "commit_and_close" not in trips
    replay = client.post("/v1/referrals", json=referral_body(), headers=integrator)
    assert (replay.status_code, replay.json()["id"]) == (201, answer.json()["id"])


def test_a_post_whose_commit_fails_keeps_nothing_and_the_same_key_then_succeeds(
    client: TestClient, make_key: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator = make_key("coordinator")
    headers = {**coordinator, "Idempotency-Key": "fails-once"}
    commit = Session.commit
    failures = [OperationalError("COMMIT", {}, Exception("the server closed the connection"))]

    def commit_failing_once(self: Session) -> None:
        if failures:
            raise failures.pop()
        commit(self)

    monkeypatch.setattr(Session, "commit", commit_failing_once)
    failed = client.post("/v1/referrals", json=referral_body(7), headers=headers)
    assert failed.status_code >= 500
    assert failed.headers["content-type"].startswith("application/problem+json")
    listed = client.get("/v1/referrals", params={"external_id": "REF-0007"}, headers=coordinator)
    assert listed.json()["items"] == []
    retried = client.post("/v1/referrals", json=referral_body(7), headers=headers)
    assert retried.status_code == 201
    listed = client.get("/v1/referrals", params={"external_id": "REF-0007"}, headers=coordinator)
    assert [r["id"] for r in listed.json()["items"]] == [retried.json()["id"]]
