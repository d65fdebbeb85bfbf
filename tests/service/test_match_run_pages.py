"""A large run's result a page at a time, and polling without it: a national run's inline result is tens of MB."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import HeldRunner, KeyMaker
from tests.factories import referral_body, volunteer_body

PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def done_run(client: TestClient, coordinator: dict[str, str]) -> dict[str, Any]:
    """A run with proposals and unmatched referrals: seven parents, two volunteers with two places each."""
    for n in range(2):
        client.post(
            "/v1/volunteers",
            json=volunteer_body(name=f"Volunteer {n}", capacity={"max_parents": 2, "max_sessions_per_week": 2}),
            headers=coordinator,
        )
    for n in range(7):
        assert client.post("/v1/referrals", json=referral_body(n), headers=coordinator).status_code == 201
    answer = client.post("/v1/match-runs?wait=true", headers=coordinator)
    assert answer.status_code == 201, answer.text
    run: dict[str, Any] = answer.json()
    assert len(run["proposals"]) == 4 and len(run["unmatched"]) == 3
    return run


def _walk(client: TestClient, url: str, headers: dict[str, str], limit: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        answer = client.get(url, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json()["items"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return pages


def test_polling_without_the_result_shows_status_and_stats_only(
    client: TestClient, coordinator: dict[str, str], done_run: dict[str, Any]
) -> None:
    light = client.get(f"/v1/match-runs/{done_run['id']}?result=false", headers=coordinator)

    assert light.status_code == 200
    body = light.json()
    assert body["status"] == "done" and body["stats"] == done_run["stats"]
    assert body["proposals"] is None and body["unmatched"] is None
    full = client.get(f"/v1/match-runs/{done_run['id']}", headers=coordinator).json()
    assert full["proposals"] == done_run["proposals"] and full["unmatched"] == done_run["unmatched"]


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_the_pages_hold_the_inline_result_each_entry_once_in_id_order(
    client: TestClient, coordinator: dict[str, str], done_run: dict[str, Any], limit: int
) -> None:
    run_url = f"/v1/match-runs/{done_run['id']}"

    proposals = _walk(client, f"{run_url}/proposals", coordinator, limit)
    unmatched = _walk(client, f"{run_url}/unmatched", coordinator, limit)

    assert all(len(page) <= limit for page in proposals + unmatched)
    flat_proposals = [p for page in proposals for p in page]
    flat_unmatched = [u for page in unmatched for u in page]
    assert flat_proposals == sorted(done_run["proposals"], key=lambda p: p["id"])
    assert flat_unmatched == sorted(done_run["unmatched"], key=lambda u: u["referral_id"])


def test_pages_of_a_run_under_way_are_409_and_of_an_unknown_run_404(
    client: TestClient, coordinator: dict[str, str], held_tasks: HeldRunner
) -> None:
    client.post("/v1/referrals", json=referral_body(1), headers=coordinator)
    queued = client.post("/v1/match-runs", headers=coordinator).json()

    for part in ("proposals", "unmatched"):
        under_way = client.get(f"/v1/match-runs/{queued['id']}/{part}", headers=coordinator)
        assert under_way.status_code == 409 and under_way.headers["content-type"] == PROBLEM_JSON
        assert under_way.json()["state"] == "queued"
        unknown = client.get(f"/v1/match-runs/01890000-0000-7000-8000-000000000000/{part}", headers=coordinator)
        assert unknown.status_code == 404
    light = client.get(f"/v1/match-runs/{queued['id']}?result=false", headers=coordinator).json()
    assert light["status"] == "queued" and light["stats"] is None


def test_a_bad_cursor_or_limit_is_422_naming_it(
    client: TestClient, coordinator: dict[str, str], done_run: dict[str, Any]
) -> None:
    for part in ("proposals", "unmatched"):
        url = f"/v1/match-runs/{done_run['id']}/{part}"
        bad_cursor = client.get(url, params={"cursor": "AAAAAAAA"}, headers=coordinator)
        assert bad_cursor.status_code == 422 and bad_cursor.headers["content-type"] == PROBLEM_JSON
        assert "cursor" in bad_cursor.text
        bad_limit = client.get(url, params={"limit": 0}, headers=coordinator)
        assert bad_limit.status_code == 422 and "limit" in bad_limit.text


def test_only_coordinators_and_admins_read_the_pages(
    client: TestClient, make_key: KeyMaker, done_run: dict[str, Any]
) -> None:
    integrator = make_key("integrator", source="nhs-test")
    volunteer_id = done_run["proposals"][0]["volunteer_id"]
    volunteer = make_key("volunteer", volunteer_id=volunteer_id)
    for part in ("proposals", "unmatched"):
        url = f"/v1/match-runs/{done_run['id']}/{part}"
        assert client.get(url, headers=integrator).status_code == 403
        assert client.get(url, headers=volunteer).status_code == 403
        assert client.get(url).status_code == 401
        assert client.get(url, headers=make_key("admin")).status_code == 200
