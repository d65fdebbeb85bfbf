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


def _events(client: TestClient, admin: dict[str, str], event_type: str) -> list[dict[str, object]]:
    from sqlmodel import Session, select

    from service.models import OutboxEvent

    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as db:
        return [{"record_id": e.record_id, **e.payload}
                for e in db.exec(select(OutboxEvent).where(OutboxEvent.type == event_type))]


def _five_months_of_leave(client: TestClient, coordinator: dict[str, str],
                          make_key: KeyMaker) -> tuple[str, dict[str, str], date, date]:
    match_id, me = _scheduled(client, coordinator, make_key)
    before = _live(client, match_id, me)
    start = date.fromisoformat(str(before[2]["starts_at"])[:10])
    end = date(start.year, start.month + 5, 28)
    answer = client.patch("/v1/me", json={"leave": [{"start": start.isoformat(), "end": end.isoformat()}]},
                          headers=me)
    assert answer.status_code == 200, answer.text
    return match_id, me, start, end


def test_leave_that_cannot_be_planned_around_leaves_nothing_planned_inside_it(client: TestClient,
                                                                              coordinator: dict[str, str],
                                                                              admin: dict[str, str],
                                                                              make_key: KeyMaker) -> None:
    with time_machine.travel(START, tick=False):
        match_id, me, start, end = _five_months_of_leave(client, coordinator, make_key)
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        inside = [s for s in sessions if start.isoformat() <= str(s["starts_at"])[:10] <= end.isoformat()]
        assert inside and {s["status"] for s in inside} == {"needs_cover"}
        assert not [s for s in sessions if s["status"] == "planned" and s in inside]
        raised = _events(client, admin, "session.needs_cover")
        assert sorted(str(e["session_id"]) for e in raised) == sorted(str(s["id"]) for s in inside)
        assert all(e["record_id"] == match_id and "wait_for_return" in e["choices"] for e in raised)  # type: ignore[operator]
        # Nothing of it reaches the parent as a reminder: only planned sessions are reminded.
        assert all(s["status"] != "planned" for s in inside)


def test_waiting_for_her_return_plans_the_sessions_after_her_leave(client: TestClient, coordinator: dict[str, str],
                                                                   make_key: KeyMaker) -> None:
    with time_machine.travel(START, tick=False):
        match_id, me, _start, end = _five_months_of_leave(client, coordinator, make_key)
        moved = client.post(f"/v1/matches/{match_id}/cover", json={"choice": "wait_for_return"}, headers=coordinator)
        assert moved.status_code == 200, moved.text
        assert moved.json()["items"] and all(str(s["starts_at"])[:10] > end.isoformat() for s in moved.json()["items"])
        after = _live(client, match_id, me)
        assert {s["status"] for s in after} == {"planned"} and len(after) == 8
        assert [s["number"] for s in after] == list(range(1, 9)) and after[-1]["kind"] == "closing"
        again = client.post(f"/v1/matches/{match_id}/cover", json={"choice": "wait_for_return"}, headers=coordinator)
        assert again.status_code == 409


def test_a_rematch_ends_the_match_kindly_and_the_parent_waits_first(client: TestClient, coordinator: dict[str, str],
                                                                    make_key: KeyMaker) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _me, _start, _end = _five_months_of_leave(client, coordinator, make_key)
        answer = client.post(f"/v1/matches/{match_id}/cover", json={"choice": "rematch"}, headers=coordinator)
        assert answer.status_code == 200, answer.text
        match = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()
        assert match["status"] == "ended" and match["end_reason"] == "volunteer_unavailable"
        referral = client.get(f"/v1/referrals/{match['referral_id']}", headers=coordinator).json()
        assert referral["status"] == "waiting" and referral["priority"] is True
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        assert "needs_cover" not in {s["status"] for s in sessions}
