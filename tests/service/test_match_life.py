"""A match's whole life, with time moved by time-machine, and every illegal step answered 409."""

from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday, before her 10:00 window


def _events(connection: Connection, event_type: str) -> int:
    return int(
        connection.execute(text("SELECT count(*) FROM outbox_event WHERE type=:t"), {"t": event_type}).scalar() or 0
    )


def _matched(client: TestClient, coordinator: dict[str, str], n: int = 1) -> tuple[str, str, str]:
    volunteer = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()
    rid = client.post("/v1/referrals", json=referral_body(n), headers=coordinator).json()["id"]
    proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
    match = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()
    return match["id"], rid, volunteer["id"]


def test_a_match_lives_from_acceptance_to_a_completed_ending_and_her_rest(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        match_id, rid, vid = _matched(client, coordinator)
        me = make_key("volunteer", volunteer_id=vid)
        accepted = client.post(f"/v1/matches/{match_id}/accept", headers=me)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "scheduled"
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=me).json()["items"]
        assert len(sessions) == 8
        assert [s["kind"] for s in sessions][5:] == ["ending_conversation", "regular", "closing"]
        assert _events(db, "session.scheduled") == 8
        for index, planned in enumerate(sessions):
            traveller.move_to(datetime.fromisoformat(planned["ends_at"]))
            marked = client.post(f"/v1/sessions/{planned['id']}/attendance", json={"status": "attended"}, headers=me)
            assert marked.status_code == 200, marked.text
            status = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()["status"]
            expected = "active" if index < 5 else "ending" if index < 7 else "ended"
            assert status == expected, (index, status)
        ended = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()
        assert ended["outcome"] == "completed"
        assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["status"] == "ended"
        assert _events(db, "match.ending_soon") == 1 and _events(db, "match.ended") == 1
        patch_current(
            client, f"/v1/volunteers/{vid}", json={"last_supervision_on": ended["ended_on"]}, headers=coordinator
        )
        volunteer = client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()
        assert [r["code"] for r in volunteer["not_ready_reasons"]] == ["resting"]
        client.post("/v1/referrals", json=referral_body(50), headers=coordinator)
        assert client.post("/v1/match-runs?wait=true", headers=coordinator).json()["stats"]["matched"] == 0
        traveller.move_to(datetime.fromisoformat(ended["ended_on"] + "T12:00:00+00:00") + timedelta(days=15))
        assert client.post("/v1/match-runs?wait=true", headers=coordinator).json()["stats"]["matched"] == 1


def test_an_early_ending_with_rematch_puts_her_ahead_of_newer_referrals(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        match_id, rid, _vid = _matched(client, coordinator)
        client.post(f"/v1/matches/{match_id}/accept", headers=coordinator)
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        for planned in sessions[:3]:
            traveller.move_to(datetime.fromisoformat(planned["ends_at"]))
            client.post(f"/v1/sessions/{planned['id']}/attendance", json={"status": "attended"}, headers=coordinator)
        ended = client.post(
            f"/v1/matches/{match_id}/end",
            json={"reason": "not_a_good_fit", "initiated_by": "parent", "rematch": True},
            headers=coordinator,
        )
        assert ended.status_code == 200 and ended.json()["outcome"] == "ended_early"
        assert "blame" not in ended.text
        after = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        assert [s["status"] for s in after] == ["attended"] * 3 + ["cancelled"] * 5
        referral = client.get(f"/v1/referrals/{rid}", headers=coordinator).json()
        assert referral["status"] == "waiting" and referral["priority"] is True
        newer = client.post("/v1/referrals", json=referral_body(77), headers=coordinator).json()["id"]
        client.post(
            "/v1/volunteers",
            json=volunteer_body(name="Second Volunteer", capacity={"max_parents": 1, "max_sessions_per_week": 1}),
            headers=coordinator,
        )
        run = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
        assert [p["referral_id"] for p in run["proposals"]] == [rid]
        assert newer in {u["referral_id"] for u in run["unmatched"]}


def test_a_declined_match_returns_her_to_waiting_and_the_pair_is_not_proposed_again(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    match_id, rid, vid = _matched(client, coordinator)
    declined = client.post(f"/v1/matches/{match_id}/decline", headers=make_key("volunteer", volunteer_id=vid))
    assert declined.json()["status"] == "declined"
    assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["status"] == "waiting"
    assert client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"] == []


def test_another_volunteer_cannot_see_or_accept_her_match(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    match_id, _rid, _vid = _matched(client, coordinator)
    other = make_key("volunteer", volunteer_id="someone-else")
    assert client.post(f"/v1/matches/{match_id}/accept", headers=other).status_code == 404
    assert client.get(f"/v1/matches/{match_id}/sessions", headers=other).status_code == 404


def test_a_cancelled_session_is_replaced_at_the_end_and_the_markers_move(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _rid, _vid = _matched(client, coordinator)
        client.post(f"/v1/matches/{match_id}/accept", headers=coordinator)
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        cancelled = client.post(
            f"/v1/sessions/{sessions[1]['id']}/cancel",
            json={"by": "parent", "reason": "baby_unwell"},
            headers=coordinator,
        )
        assert cancelled.status_code == 200, cancelled.text
        after = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        live = [s for s in after if s["status"] == "planned"]
        assert len(live) == 8 and after[1]["status"] == "cancelled"
        assert live[-1]["kind"] == "closing" and live[-3]["kind"] == "ending_conversation"
        assert live[-1]["starts_at"] > sessions[-1]["starts_at"]


def test_an_extension_needs_both_people_and_keeps_to_the_cap(client: TestClient, coordinator: dict[str, str]) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _rid, _vid = _matched(client, coordinator)
        client.post(f"/v1/matches/{match_id}/accept", headers=coordinator)
        url = f"/v1/matches/{match_id}/extensions"
        one_sided = client.post(
            url, json={"sessions": 2, "parent_agrees": True, "volunteer_agrees": False}, headers=coordinator
        )
        assert one_sided.status_code == 422
        added = client.post(
            url, json={"sessions": 2, "parent_agrees": True, "volunteer_agrees": True}, headers=coordinator
        )
        assert added.status_code == 201 and [s["number"] for s in added.json()["items"]] == [9, 10]
        live = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        assert [s["kind"] for s in live][7:] == ["ending_conversation", "regular", "closing"]
        too_many = client.post(
            url, json={"sessions": 3, "parent_agrees": True, "volunteer_agrees": True}, headers=coordinator
        )
        assert too_many.status_code == 409


def test_a_session_is_rescheduled_to_the_next_feasible_slot(client: TestClient, coordinator: dict[str, str]) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _rid, _vid = _matched(client, coordinator)
        client.post(f"/v1/matches/{match_id}/accept", headers=coordinator)
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        moved = client.post(f"/v1/sessions/{sessions[0]['id']}/reschedule", json={}, headers=coordinator)
        assert moved.status_code == 200, moved.text
        assert moved.json()["starts_at"] != sessions[0]["starts_at"]
        naive = client.post(
            f"/v1/sessions/{sessions[0]['id']}/reschedule",
            json={"not_before": "2027-02-01T10:00:00"},
            headers=coordinator,
        )
        assert naive.status_code == 422


def test_illegal_transitions_are_409_naming_the_state(client: TestClient, coordinator: dict[str, str]) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _rid, _vid = _matched(client, coordinator)
        end = {"reason": "other", "initiated_by": "coordinator"}
        pending_end = client.post(f"/v1/matches/{match_id}/end", json=end, headers=coordinator)
        assert pending_end.status_code == 409 and pending_end.json()["state"] == "pending"
        client.post(f"/v1/matches/{match_id}/accept", headers=coordinator)
        again = client.post(f"/v1/matches/{match_id}/accept", headers=coordinator)
        assert again.status_code == 409 and again.json()["state"] == "scheduled"
        assert client.post(f"/v1/matches/{match_id}/decline", headers=coordinator).status_code == 409
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        early = client.post(
            f"/v1/sessions/{sessions[0]['id']}/attendance", json={"status": "attended"}, headers=coordinator
        )
        assert early.status_code == 409
        client.post(f"/v1/matches/{match_id}/end", json=end, headers=coordinator)
        for action, body in (("accept", None), ("decline", None), ("end", end)):
            response = client.post(f"/v1/matches/{match_id}/{action}", json=body, headers=coordinator)
            assert response.status_code == 409 and response.json()["state"] == "ended", action
        cancelled = client.post(
            f"/v1/sessions/{sessions[5]['id']}/cancel", json={"by": "parent", "reason": "other"}, headers=coordinator
        )
        assert cancelled.status_code == 409 and cancelled.json()["state"] == "cancelled"
