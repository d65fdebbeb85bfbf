"""The volunteer's own view: her sessions, the minimum about each parent, and her calendar feed."""

from datetime import UTC, datetime

import time_machine
from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)


def _scheduled(client: TestClient, coordinator: dict[str, str], make_key: KeyMaker) -> tuple[str, dict[str, str]]:
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
    match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
    me = make_key("volunteer", volunteer_id=vid)
    client.post(f"/v1/matches/{match_id}/accept", headers=me)
    return match_id, me


def test_she_sees_her_sessions_and_only_the_minimum_about_the_parent(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, me = _scheduled(client, coordinator, make_key)
        sessions = client.get("/v1/me/sessions", headers=me).json()["items"]
        assert len(sessions) == 8 and {s["match_id"] for s in sessions} == {match_id}
        matches = client.get("/v1/me/matches", headers=me).json()["items"]
        assert matches == [
            {
                "id": match_id,
                "status": "scheduled",
                "format": "home_visit",
                "parent": {
                    "first_name": "Agnieszka",
                    "area": "EH6",
                    "preferred_days": ["tue", "thu"],
                    "phone": "07700 900123",
                    "meeting_place": "EH6 6QQ",
                },
            }
        ]
        other = make_key("volunteer", volunteer_id="nobody")
        assert client.get("/v1/me/sessions", headers=other).json()["items"] == []


def test_the_calendar_feed_parses_back_round_trips_a_cancellation_and_rotates(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, me = _scheduled(client, coordinator, make_key)
        url = client.post("/v1/me/calendar", headers=me).json()["url"]
        path = url.removeprefix("http://127.0.0.1:8000")
        feed = client.get(path)
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
        text = feed.text
        assert "Nowak" not in text and "EH6" not in text and "depression" not in text
        events = [c for c in Calendar.from_ical(feed.content).walk("VEVENT")]
        assert len(events) == 8 and all(str(e["STATUS"]) == "CONFIRMED" for e in events)
        assert Calendar.from_ical(feed.content).walk("VTIMEZONE")[0]["TZID"] == "Europe/London"
        first = client.get(f"/v1/matches/{match_id}/sessions", headers=me).json()["items"][0]
        client.post(
            f"/v1/sessions/{first['id']}/cancel", json={"by": "volunteer", "reason": "volunteer_unwell"}, headers=me
        )
        again = {str(e["UID"]): e for e in Calendar.from_ical(client.get(path).content).walk("VEVENT")}
        cancelled = again[f"{first['id']}@peer-match"]
        assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 1
        assert len(again) == 9  # the replacement at the end
        new_url = client.post("/v1/me/calendar", headers=me).json()["url"]
        assert client.get(path).status_code == 404
        assert client.get(new_url.removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_leave_she_adds_moves_the_sessions_it_covers(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, me = _scheduled(client, coordinator, make_key)
        before = client.get(f"/v1/matches/{match_id}/sessions", headers=me).json()["items"]
        second_day = before[1]["starts_at"][:10]
        patched = patch_current(
            client, "/v1/me", json={"leave": [{"start": second_day, "end": second_day}]}, headers=me
        )
        assert patched.status_code == 200
        after = client.get(f"/v1/matches/{match_id}/sessions", headers=me).json()["items"]
        assert all(s["starts_at"][:10] != second_day for s in after)
        assert len([s for s in after if s["status"] == "planned"]) == 8
        unchanged = [s for s in after if s["starts_at"] in {b["starts_at"] for b in before}]
        assert len(unchanged) == 7


def test_her_sessions_come_a_page_at_a_time_in_time_order(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        _match_id, me = _scheduled(client, coordinator, make_key)
        seen: list[dict[str, object]] = []
        cursor = None
        for _ in range(10):
            params: dict[str, object] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            page = client.get("/v1/me/sessions", params=params, headers=me).json()
            assert len(page["items"]) <= 3
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 8 and len({s["id"] for s in seen}) == 8
        assert [s["starts_at"] for s in seen] == sorted(str(s["starts_at"]) for s in seen)
