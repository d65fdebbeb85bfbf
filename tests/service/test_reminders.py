"""Reminders with time moved by time-machine: each session reminded once, the lead time before it, across
repeated worker rounds and re-plans; the ending announced once when the ending conversation is next."""

import json
from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlmodel import Session

from service.jobs import PERIODIC_JOBS
from tests.factories import referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday; her window is Tuesdays from 10:00
LEAD = timedelta(hours=24)  # the programme's default reminder lead time


def _worker_round(connection: Connection) -> None:
    """What each worker round does before delivering; two workers or a restart simply run it again."""
    for job in PERIODIC_JOBS:
        with Session(connection) as session:
            job(session)
            session.commit()


def _reminded(connection: Connection, event_type: str = "session.reminder") -> list[str]:
    rows = connection.execute(
        text("SELECT payload FROM outbox_event WHERE type=:t ORDER BY occurred_at, id"), {"t": event_type}
    ).scalars()
    return [(row if isinstance(row, dict) else json.loads(row))["session_id"] for row in rows]


def _planned_match(client: TestClient, coordinator: dict[str, str]) -> tuple[str, list[dict[str, str]]]:
    client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    client.post("/v1/referrals", json=referral_body(1), headers=coordinator)
    proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
    match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
    assert client.post(f"/v1/matches/{match_id}/accept", headers=coordinator).status_code == 200
    return match_id, client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]


def _at(session: dict[str, str], key: str = "starts_at") -> datetime:
    return datetime.fromisoformat(session[key])


def test_each_session_is_reminded_once_the_lead_time_before_it(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _match_id, sessions = _planned_match(client, coordinator)
        _worker_round(db)
        assert _reminded(db) == []  # the first session is a week away
        for planned in sessions[:3]:
            traveller.move_to(_at(planned) - LEAD - timedelta(minutes=1))
            _worker_round(db)
            assert planned["id"] not in _reminded(db)  # not before the lead time
            traveller.move_to(_at(planned) - LEAD + timedelta(minutes=1))
            _worker_round(db)
            _worker_round(db)  # a second worker, or the same one after a restart
        assert _reminded(db) == [s["id"] for s in sessions[:3]]
        # the worker was down for weeks: sessions already past are not reminded late; the next one is, once
        traveller.move_to(_at(sessions[6]) - timedelta(hours=2))
        _worker_round(db)
        _worker_round(db)
        assert _reminded(db) == [s["id"] for s in sessions[:3]] + [sessions[6]["id"]]


def test_a_re_plan_moves_a_pending_reminder_and_never_repeats_a_sent_one(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _match_id, sessions = _planned_match(client, coordinator)
        first, second = sessions[0], sessions[1]
        traveller.move_to(_at(first) - LEAD + timedelta(minutes=5))
        _worker_round(db)
        assert _reminded(db) == [first["id"]]
        moved_first = client.post(f"/v1/sessions/{first['id']}/reschedule", json={}, headers=coordinator)
        assert moved_first.status_code == 200, moved_first.text
        moved_second = client.post(
            f"/v1/sessions/{second['id']}/reschedule",
            json={"not_before": (_at(second) + timedelta(days=1)).isoformat()},
            headers=coordinator,
        )
        assert moved_second.status_code == 200, moved_second.text
        new_second = _at(moved_second.json())
        assert new_second > _at(second)
        traveller.move_to(_at(second) - LEAD + timedelta(minutes=5))  # its old reminder time: nothing now
        _worker_round(db)
        traveller.move_to(_at(moved_first.json()) - LEAD + timedelta(minutes=5))
        _worker_round(db)  # the first session, moved after its reminder, is not reminded again
        assert _reminded(db) == [first["id"]]
        traveller.move_to(new_second - LEAD + timedelta(minutes=5))
        _worker_round(db)
        assert _reminded(db) == [first["id"], second["id"]]


def test_the_ending_is_announced_once_when_the_ending_conversation_is_next(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        match_id, sessions = _planned_match(client, coordinator)
        ending = next(s for s in sessions if s["kind"] == "ending_conversation")
        before = sessions[sessions.index(ending) - 1]
        traveller.move_to(_at(before, "ends_at") - timedelta(minutes=1))
        _worker_round(db)
        assert _reminded(db, "match.ending_soon") == []
        traveller.move_to(_at(before, "ends_at") + timedelta(minutes=1))
        _worker_round(db)
        client.post(f"/v1/sessions/{before['id']}/attendance", json={"status": "attended"}, headers=coordinator)
        _worker_round(db)
        assert _reminded(db, "match.ending_soon") == [ending["id"]]
        extended = client.post(
            f"/v1/matches/{match_id}/extensions",
            json={"sessions": 2, "parent_agrees": True, "volunteer_agrees": True},
            headers=coordinator,
        )
        assert extended.status_code == 201, extended.text
        live = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        new_ending = next(s for s in live if s["kind"] == "ending_conversation")
        assert new_ending["id"] != ending["id"]
        traveller.move_to(_at(new_ending) - timedelta(hours=1))
        _worker_round(db)
        _worker_round(db)
        assert _reminded(db, "match.ending_soon") == [ending["id"], new_ending["id"]]  # the moved ending, once
