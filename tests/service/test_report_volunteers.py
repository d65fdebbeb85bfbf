"""The volunteers' side of the reports: sessions and hours they gave, matches they took on, supervision kept up,
and why those who left did so (a code recorded with the move to `left`)."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from tests.factories import patch_current, volunteer_body
from tests.service.test_reports import programme as programme  # the seeded programme, a fixture

S, W = "<5", "suppressed"
TODAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _volunteer(client: TestClient, coordinator: dict[str, str], n: int, **overrides: Any) -> str:
    body = volunteer_body(name=f"Volunteer {n}", email=f"v{n}@example.org", **overrides)
    response = client.post("/v1/volunteers", json=body, headers=coordinator)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _leave(client: TestClient, coordinator: dict[str, str], volunteer_id: str, **body: Any) -> Any:
    return patch_current(client, f"/v1/volunteers/{volunteer_id}", json={"status": "left", **body}, headers=coordinator)


def test_a_reason_for_leaving_is_recorded_with_the_move_and_checked(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    volunteer_id = _volunteer(client, coordinator, 1)
    unknown = _leave(client, coordinator, volunteer_id, left_reason="won_the_lottery")
    assert unknown.status_code == 422 and "left_reason" in unknown.text, unknown.text
    staying = patch_current(
        client, f"/v1/volunteers/{volunteer_id}", json={"left_reason": "moved_away"}, headers=coordinator
    )
    assert staying.status_code == 422 and "left_reason" in staying.text, staying.text
    left = _leave(client, coordinator, volunteer_id, left_reason="moved_away")
    assert left.status_code == 200, left.text
    assert (left.json()["status"], left.json()["left_reason"]) == ("left", "moved_away")
    back = patch_current(client, f"/v1/volunteers/{volunteer_id}", json={"status": "active"}, headers=coordinator)
    assert (back.json()["status"], back.json()["left_reason"]) == ("active", None)


def test_the_volunteers_report_counts_what_they_gave(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    """The seeded programme: one volunteer (now left, no reason recorded) held every session, 53 attended
    (8+3+8+2+8+1+8+4+2+8+1) of an hour each, for 12 confirmed matches (P1..P12); the telephone volunteer is
    active, supervised 10 days before she was added."""
    with time_machine.travel(TODAY, tick=False):
        report = client.get("/v1/reports/volunteers", headers=coordinator).json()
    assert {k: v for k, v in report.items() if k not in ("period", "generated_at")} == {
        "audience": "internal",
        "active": 1,
        "paused": 0,
        "left": 1,
        "sessions_held": 53,
        "hours_given": 53.0,
        "volunteers_giving": 1,
        "matches_supported": 12,
        "supervision_kept_up": 1,
        "supervision_share": 1.0,
        "left_by_reason": [{"reason": "not_recorded", "volunteers": 1}],
    }
    with time_machine.travel(TODAY, tick=False):
        external = client.get("/v1/reports/volunteers?audience=external", headers=coordinator).json()
    # One volunteer gave all the hours: a funder sees neither the hours nor a count that small.
    assert (external["hours_given"], external["volunteers_giving"], external["sessions_held"]) == (None, S, 53)
    assert external["left_by_reason"] == [{"reason": "not_recorded", "volunteers": S}]


@pytest.fixture
def seven_left(client: TestClient, coordinator: dict[str, str]) -> None:
    """Seven volunteers who left: 5 moved away, 2 for paid work; and 6 active, 2 of them overdue supervision."""
    with time_machine.travel(TODAY, tick=False):
        for n, reason in enumerate(["moved_away"] * 5 + ["paid_work"] * 2):
            assert (
                _leave(client, coordinator, _volunteer(client, coordinator, n), left_reason=reason).status_code == 200
            )
        for n in range(6):
            supervised = date(2027, 2, 20) if n < 4 else date(2026, 10, 1)
            _volunteer(client, coordinator, 100 + n, last_supervision_on=supervised.isoformat())


def test_reasons_for_leaving_by_code_exact_and_for_funders(
    client: TestClient, coordinator: dict[str, str], seven_left: None
) -> None:
    """Externally, paid work's 2 is "<5" and 7 - 5 would give it back: moved away is withheld too."""
    with time_machine.travel(TODAY + timedelta(hours=1), tick=False):
        internal = client.get("/v1/reports/volunteers", headers=coordinator).json()
        external = client.get("/v1/reports/volunteers?audience=external", headers=coordinator).json()
    assert internal["left_by_reason"] == [
        {"reason": "moved_away", "volunteers": 5},
        {"reason": "paid_work", "volunteers": 2},
    ]
    assert (internal["active"], internal["supervision_kept_up"], internal["supervision_share"]) == (6, 4, 0.667)
    assert external["left"] == 7
    assert external["left_by_reason"] == [
        {"reason": "moved_away", "volunteers": W},
        {"reason": "paid_work", "volunteers": S},
    ]
    assert (external["supervision_kept_up"], external["supervision_share"]) == (S, None)
