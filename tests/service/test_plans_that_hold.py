"""Plans that hold when life bends them (issue 19), through the API: numbers follow the dates after leave."""

from datetime import UTC, date, datetime

import time_machine
from fastapi.testclient import TestClient

from tests.conftest import KeyMaker
from tests.factories import referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday


def _scheduled(client: TestClient, coordinator: dict[str, str], make_key: KeyMaker) -> tuple[str, dict[str, str]]:
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    proposal = client.post("/v1/match-runs", headers=coordinator).json()["proposals"][0]
    match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
    me = make_key("volunteer", volunteer_id=vid)
    assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200
    return match_id, me


def _live(client: TestClient, match_id: str, headers: dict[str, str]) -> list[dict[str, object]]:
    sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=headers).json()["items"]
    return sorted((s for s in sessions if s["status"] != "cancelled"), key=lambda s: str(s["starts_at"]))


def test_after_four_weeks_of_leave_the_sessions_are_numbered_in_date_order(client: TestClient,
                                                                            coordinator: dict[str, str],
                                                                            make_key: KeyMaker) -> None:
    with time_machine.travel(START, tick=False):
        match_id, me = _scheduled(client, coordinator, make_key)
        before = _live(client, match_id, me)
        third = date.fromisoformat(str(before[2]["starts_at"])[:10])
        sixth = date.fromisoformat(str(before[5]["starts_at"])[:10])
        patched = client.patch("/v1/me", json={"leave": [{"start": third.isoformat(), "end": sixth.isoformat()}]},
                               headers=me)
        assert patched.status_code == 200, patched.text
        after = _live(client, match_id, me)
        assert len(after) == len(before)
        assert [s["number"] for s in after] == list(range(1, len(after) + 1))
        assert after[-1]["kind"] == "closing" and after[-3]["kind"] == "ending_conversation"
        assert [s["kind"] for s in after[:-3]] == ["regular"] * (len(after) - 3)
        inside = [s for s in after if third.isoformat() <= str(s["starts_at"])[:10] <= sixth.isoformat()]
        assert inside == []
