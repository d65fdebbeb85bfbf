"""Plans that hold when life bends them (issue 19), through the API: numbers follow the dates after leave."""

from datetime import UTC, date, datetime
from itertools import pairwise

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session, select

from service.models import OutboxEvent
from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday


def _scheduled(client: TestClient, coordinator: dict[str, str], make_key: KeyMaker) -> tuple[str, dict[str, str]]:
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
    match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
    me = make_key("volunteer", volunteer_id=vid)
    assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200
    return match_id, me


def _live(client: TestClient, match_id: str, headers: dict[str, str]) -> list[dict[str, object]]:
    sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=headers).json()["items"]
    return sorted((s for s in sessions if s["status"] != "cancelled"), key=lambda s: str(s["starts_at"]))


def test_after_four_weeks_of_leave_the_sessions_are_numbered_in_date_order(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, me = _scheduled(client, coordinator, make_key)
        before = _live(client, match_id, me)
        third = date.fromisoformat(str(before[2]["starts_at"])[:10])
        sixth = date.fromisoformat(str(before[5]["starts_at"])[:10])
        patched = patch_current(
            client, "/v1/me", json={"leave": [{"start": third.isoformat(), "end": sixth.isoformat()}]}, headers=me
        )
        assert patched.status_code == 200, patched.text
        after = _live(client, match_id, me)
        assert len(after) == len(before)
        assert [s["number"] for s in after] == list(range(1, len(after) + 1))
        assert after[-1]["kind"] == "closing" and after[-3]["kind"] == "ending_conversation"
        assert [s["kind"] for s in after[:-3]] == ["regular"] * (len(after) - 3)
        inside = [s for s in after if third.isoformat() <= str(s["starts_at"])[:10] <= sixth.isoformat()]
        assert inside == []


def _events(db: Connection, event_type: str) -> list[dict[str, object]]:
    with Session(db) as reader:
        return [
            {"record_id": e.record_id, **e.payload}
            for e in reader.exec(select(OutboxEvent).where(OutboxEvent.type == event_type))
        ]


def _five_months_of_leave(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> tuple[str, dict[str, str], date, date]:
    match_id, me = _scheduled(client, coordinator, make_key)
    before = _live(client, match_id, me)
    start = date.fromisoformat(str(before[2]["starts_at"])[:10])
    end = date(start.year, start.month + 5, 28)
    answer = patch_current(
        client, "/v1/me", json={"leave": [{"start": start.isoformat(), "end": end.isoformat()}]}, headers=me
    )
    assert answer.status_code == 200, answer.text
    return match_id, me, start, end


def test_leave_that_cannot_be_planned_around_leaves_nothing_planned_inside_it(
    client: TestClient, coordinator: dict[str, str], db: Connection, make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _me, start, end = _five_months_of_leave(client, coordinator, make_key)
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        inside = [s for s in sessions if start.isoformat() <= str(s["starts_at"])[:10] <= end.isoformat()]
        assert inside and {s["status"] for s in inside} == {"needs_cover"}
        assert not [s for s in sessions if s["status"] == "planned" and s in inside]
        raised = _events(db, "session.needs_cover")
        assert sorted(str(e["session_id"]) for e in raised) == sorted(str(s["id"]) for s in inside)
        assert all(e["record_id"] == match_id and "wait_for_return" in e["choices"] for e in raised)  # type: ignore[operator]
        # Nothing of it reaches the parent as a reminder: only planned sessions are reminded.
        assert all(s["status"] != "planned" for s in inside)


def test_waiting_for_her_return_plans_the_sessions_after_her_leave(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
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


def test_a_rematch_ends_the_match_kindly_and_the_parent_waits_first(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
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


def test_a_match_whose_sessions_could_never_be_planned_is_refused_before_the_volunteer_is_asked(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False):
        one_hour = [{"day": "tue", "start": "10:00", "end": "11:00"}]
        client.post(
            "/v1/volunteers",
            headers=coordinator,
            json=volunteer_body(availability=one_hour, capacity={"max_parents": 2, "max_sessions_per_week": 2}),
        )
        for n in (1, 2):
            assert client.post("/v1/referrals", json=referral_body(n), headers=coordinator).status_code == 201
        run = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
        assert len(run["proposals"]) == 2  # the matcher sees one free hour and two free places
        first = client.post(f"/v1/proposals/{run['proposals'][0]['id']}/accept", headers=coordinator)
        assert first.status_code == 201
        second = client.post(f"/v1/proposals/{run['proposals'][1]['id']}/accept", headers=coordinator)
        assert second.status_code == 409, second.text
        assert second.json()["code"] and "could not be planned" in second.json()["detail"]
        assert client.get("/v1/matches", headers=coordinator).json()["items"][0]["id"] == first.json()["id"]
        assert len(client.get("/v1/matches", headers=coordinator).json()["items"]) == 1


def test_the_first_two_sessions_are_at_least_five_days_apart(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    thursday = datetime(2027, 1, 7, 8, 0, tzinfo=UTC)
    windows = [{"day": "fri", "start": "10:00", "end": "12:00"}, {"day": "tue", "start": "10:00", "end": "12:00"}]
    with time_machine.travel(thursday, tick=False):
        vid = client.post("/v1/volunteers", headers=coordinator, json=volunteer_body(availability=windows)).json()["id"]
        client.post("/v1/referrals", json=referral_body(availability=windows), headers=coordinator)
        proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
        match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
        me = make_key("volunteer", volunteer_id=vid)
        assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200
        starts = [datetime.fromisoformat(str(s["starts_at"])) for s in _live(client, match_id, me)]
        gaps = [(b - a).days for a, b in pairwise(starts)]
        assert min(gaps) >= 5, gaps


def test_a_birth_pause_keeps_sessions_away_from_the_due_date(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str], db: Connection, make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        settings = client.get("/v1/programme", headers=admin).json()
        settings.update(birth_pause_weeks_before=1, birth_pause_weeks_after=4)
        assert client.put("/v1/programme", json=settings, headers=admin).status_code == 200
        due = date(2027, 2, 2)
        vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
        body = referral_body(parent={"baby_birth_date": None, "due_date": due.isoformat()})
        assert client.post("/v1/referrals", json=body, headers=coordinator).status_code == 201
        proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
        match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
        me = make_key("volunteer", volunteer_id=vid)
        assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200
        days = [date.fromisoformat(str(s["starts_at"])[:10]) for s in _live(client, match_id, me)]
        assert len(days) == 8
        assert not [d for d in days if date(2027, 1, 26) <= d <= date(2027, 3, 2)], days
        assert any(d < date(2027, 1, 26) for d in days) and any(d > date(2027, 3, 2) for d in days)
        pause = _events(db, "match.birth_pause")
        assert pause == [
            {
                "record_id": match_id,
                "pause_starts_on": "2027-01-26",
                "pause_ends_on": "2027-03-02",
                "offer": "telephone_check_in",
            }
        ]


def test_another_volunteer_covers_while_she_is_away_by_the_matcher_s_rules(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _me, start, end = _five_months_of_leave(client, coordinator, make_key)
        first = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()["volunteer_id"]
        morag = client.post("/v1/volunteers", headers=coordinator, json=volunteer_body(name="Morag Ross")).json()["id"]
        french = client.post(
            "/v1/volunteers", headers=coordinator, json=volunteer_body(name="Claire Martin", languages=["fr"])
        ).json()["id"]
        suggested = client.get(f"/v1/matches/{match_id}/cover-suggestions", headers=coordinator)
        assert suggested.status_code == 200, suggested.text
        ids = [s["volunteer_id"] for s in suggested.json()["items"]]
        assert ids[0] == morag and first not in ids and french not in ids
        assert suggested.json()["items"][0]["reasons"][0]["code"]
        refused = client.post(
            f"/v1/matches/{match_id}/cover", json={"choice": "cover", "volunteer_id": french}, headers=coordinator
        )
        assert refused.status_code == 409 and "no_shared_language" in refused.json()["broken"]
        covered = client.post(
            f"/v1/matches/{match_id}/cover", json={"choice": "cover", "volunteer_id": morag}, headers=coordinator
        )
        assert covered.status_code == 200, covered.text
        items = covered.json()["items"]
        assert items and {s["status"] for s in items} == {"planned"}
        assert all(start.isoformat() <= str(s["starts_at"])[:10] <= end.isoformat() for s in items)
        morag_key = make_key("volunteer", volunteer_id=morag)
        hers = {s["id"] for s in client.get("/v1/me/sessions", params={"limit": 50}, headers=morag_key).json()["items"]}
        assert {s["id"] for s in items} <= hers
        after = _live(client, match_id, coordinator)
        assert [s["number"] for s in after] == list(range(1, 9)) and {s["status"] for s in after} == {"planned"}
        match = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()
        assert match["volunteer_id"] == first and match["status"] == "scheduled"


def test_sessions_after_her_check_lapses_need_cover_and_are_never_reminded(
    client: TestClient, coordinator: dict[str, str], db: Connection, make_key: KeyMaker
) -> None:
    from service.matches.disruptions import cover_what_cannot_go_ahead

    with time_machine.travel(START, tick=False):
        match_id, _me = _scheduled(client, coordinator, make_key)
        volunteer_id = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()["volunteer_id"]
        sessions = _live(client, match_id, coordinator)
        lapse = date.fromisoformat(str(sessions[3]["starts_at"])[:10])
        check = {"scheme": "PVG", "checked_on": "2024-01-01", "expires_on": lapse.isoformat()}
        assert (
            patch_current(
                client, f"/v1/volunteers/{volunteer_id}", json={"check": check}, headers=coordinator
            ).status_code
            == 200
        )
        with Session(db) as job_db:
            assert cover_what_cannot_go_ahead(job_db) == 4
            job_db.commit()
        after = _live(client, match_id, coordinator)
        assert [s["status"] for s in after] == ["planned"] * 4 + ["needs_cover"] * 4
        raised = _events(db, "session.needs_cover")
        assert len(raised) == 4 and {e["cause"] for e in raised} == {"check_lapsed"}
        with Session(db) as job_db:
            assert cover_what_cannot_go_ahead(job_db) == 0  # once
            job_db.commit()


def test_a_session_on_a_bank_holiday_of_a_new_region_is_moved_off_it(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str], db: Connection, make_key: KeyMaker
) -> None:
    from service.matches.disruptions import cover_what_cannot_go_ahead

    mondays = [{"day": "mon", "start": "10:00", "end": "12:00"}]
    easter_monday = date(2027, 3, 29)  # a bank holiday in England, not in Scotland
    with time_machine.travel(datetime(2027, 3, 2, 8, 0, tzinfo=UTC), tick=False):
        vid = client.post("/v1/volunteers", headers=coordinator, json=volunteer_body(availability=mondays)).json()["id"]
        client.post("/v1/referrals", json=referral_body(availability=mondays), headers=coordinator)
        proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
        match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
        assert (
            client.post(f"/v1/matches/{match_id}/accept", headers=make_key("volunteer", volunteer_id=vid)).status_code
            == 200
        )
        days = [str(s["starts_at"])[:10] for s in _live(client, match_id, coordinator)]
        assert easter_monday.isoformat() in days
        settings = client.get("/v1/programme", headers=admin).json()
        settings["bank_holiday_region"] = "england"
        assert client.put("/v1/programme", json=settings, headers=admin).status_code == 200
        with Session(db) as job_db:
            assert cover_what_cannot_go_ahead(job_db) >= 1
            job_db.commit()
        after = _live(client, match_id, coordinator)
        assert easter_monday.isoformat() not in [str(s["starts_at"])[:10] for s in after if s["status"] == "planned"]
        assert len(after) == 8 and [s["number"] for s in after] == list(range(1, 9))
