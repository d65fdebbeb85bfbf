"""Lone working on home visits (issue 20): the volunteer checks in and out of her own home visits, which records
her attendance; a visit that was due with no check-out the programme's grace after its planned end raises
`volunteer.safety_check_missed` once, at the right time (time moved, never slept), to the coordinators on duty."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlmodel import Session

from service.core import auth
from service.jobs import PERIODIC_JOBS
from tests.conftest import KeyMaker
from tests.factories import referral_body, volunteer_body

PROBLEM = "application/problem+json"
START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday; her window is Tuesdays from 09:30
GRACE = timedelta(minutes=30)  # the programme's default
MISSED = "volunteer.safety_check_missed"


def _worker_round(connection: Connection) -> None:
    for job in PERIODIC_JOBS:
        with Session(connection) as session:
            job(session)
            session.commit()


def _missed(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        text("SELECT record_id, payload FROM outbox_event WHERE type=:t ORDER BY occurred_at, id"), {"t": MISSED}
    ).all()
    return [
        {"volunteer_id": record_id, **(payload if isinstance(payload, dict) else json.loads(payload))}
        for record_id, payload in rows
    ]


def _scheduled(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, **referral: Any
) -> tuple[str, str, dict[str, str], list[dict[str, Any]]]:
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    client.post("/v1/referrals", json=referral_body(1, **referral), headers=coordinator)
    proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
    match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
    me = make_key("volunteer", volunteer_id=vid)
    assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200
    return vid, match_id, me, client.get(f"/v1/matches/{match_id}/sessions", headers=me).json()["items"]


def _at(session: dict[str, Any], key: str = "starts_at") -> datetime:
    return datetime.fromisoformat(session[key])


def test_checking_in_and_out_records_the_times_and_her_attendance(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _vid, match_id, me, sessions = _scheduled(client, coordinator, make_key)
        first = sessions[0]
        url = f"/v1/me/sessions/{first['id']}"
        traveller.move_to(_at(first) - timedelta(hours=2))
        early = client.post(f"{url}/check-in", headers=me)
        assert early.status_code == 409 and early.headers["content-type"] == PROBLEM
        assert client.post(f"{url}/check-out", headers=me).status_code == 409  # not started

        arrived = _at(first) - timedelta(minutes=5)
        traveller.move_to(arrived)
        checked_in = client.post(f"{url}/check-in", headers=me)
        assert checked_in.status_code == 200, checked_in.text
        assert _at(checked_in.json(), "checked_in_at") == arrived
        assert checked_in.json()["status"] == "planned"  # not attended before it starts
        assert client.post(f"{url}/check-in", headers=me).status_code == 409

        left = _at(first, "ends_at") + timedelta(minutes=3)
        traveller.move_to(left)
        checked_out = client.post(f"{url}/check-out", headers=me)
        assert checked_out.status_code == 200, checked_out.text
        body = checked_out.json()
        assert (body["status"], _at(body, "checked_in_at"), _at(body, "checked_out_at")) == ("attended", arrived, left)
        assert client.post(f"{url}/check-out", headers=me).status_code == 409
        assert client.get(f"/v1/matches/{match_id}", headers=coordinator).json()["status"] == "active"

        second = sessions[1]
        traveller.move_to(_at(second) + timedelta(minutes=2))
        on_time = client.post(f"/v1/me/sessions/{second['id']}/check-in", headers=me).json()
        assert on_time["status"] == "attended"  # from the start, checking in marks it
        mine = {s["id"]: s for s in client.get("/v1/me/sessions", headers=me).json()["items"]}
        assert mine[second["id"]]["checked_in_at"] is not None and mine[second["id"]]["checked_out_at"] is None


def test_only_her_own_home_visits_can_be_checked_into(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _vid, _match_id, me, sessions = _scheduled(client, coordinator, make_key)
        other = make_key(
            "volunteer",
            volunteer_id=client.post(
                "/v1/volunteers", json=volunteer_body(name="Ewa Nowicka"), headers=coordinator
            ).json()["id"],
        )
        traveller.move_to(_at(sessions[0]))
        for path in (f"/v1/me/sessions/{sessions[0]['id']}/check-in", "/v1/me/sessions/nothing/check-in"):
            refused = client.post(path, headers=other)
            assert refused.status_code == 404 and refused.headers["content-type"] == PROBLEM
        assert client.post(f"/v1/me/sessions/{sessions[0]['id']}/check-in", headers=coordinator).status_code == 403

        cancelled = sessions[1]
        client.post(f"/v1/sessions/{cancelled['id']}/cancel", json={"reason": "baby_unwell"}, headers=coordinator)
        traveller.move_to(_at(cancelled))
        gone = client.post(f"/v1/me/sessions/{cancelled['id']}/check-in", headers=me)
        assert gone.status_code == 409 and gone.json()["state"] == "cancelled"


def test_a_telephone_session_is_not_checked_into(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _vid, _match_id, me, sessions = _scheduled(client, coordinator, make_key, formats=["telephone"])
        traveller.move_to(_at(sessions[0]))
        refused = client.post(f"/v1/me/sessions/{sessions[0]['id']}/check-in", headers=me)
        assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
        assert "home visits" in refused.json()["detail"] and refused.json()["state"] == "telephone"


def test_a_visit_without_a_check_out_alerts_once_after_the_grace_and_never_when_she_checked_out(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        vid, match_id, me, sessions = _scheduled(client, coordinator, make_key)
        with Session(db) as session:
            key, _secret = auth.create_key(session, name="lead", role=auth.Role.coordinator, safeguarding_lead=True)
            lead_id = key.id
            session.commit()
        checked_in, never, safe = sessions[0], sessions[1], sessions[2]

        # Checked in, never out.
        traveller.move_to(_at(checked_in))
        assert client.post(f"/v1/me/sessions/{checked_in['id']}/check-in", headers=me).status_code == 200
        traveller.move_to(_at(checked_in, "ends_at") + GRACE - timedelta(minutes=1))
        _worker_round(db)
        assert _missed(db) == []  # not before the grace
        traveller.move_to(_at(checked_in, "ends_at") + GRACE)
        _worker_round(db)
        _worker_round(db)  # a second worker, or the same one after a restart
        traveller.move_to(_at(checked_in, "ends_at") + GRACE + timedelta(hours=3))
        _worker_round(db)
        assert _missed(db) == [
            {
                "volunteer_id": vid,
                "session_id": checked_in["id"],
                "match_id": match_id,
                "planned_end_at": checked_in["ends_at"].replace("Z", "+00:00"),
                "checked_in_at": checked_in["starts_at"].replace("Z", "+00:00"),
                "coordinator_key_ids": [lead_id],
            }
        ]

        # Not checked in at all: the visit was due, so the alert is raised just the same.
        traveller.move_to(_at(never, "ends_at") + GRACE + timedelta(minutes=1))
        _worker_round(db)
        assert [(e["session_id"], e["checked_in_at"]) for e in _missed(db)[1:]] == [(never["id"], None)]

        # Checked out in time: nothing, then or later.
        traveller.move_to(_at(safe, "ends_at") + timedelta(minutes=10))
        assert client.post(f"/v1/me/sessions/{safe['id']}/check-out", headers=me).status_code == 200
        traveller.move_to(_at(safe, "ends_at") + GRACE + timedelta(hours=1))
        _worker_round(db)
        assert [e["session_id"] for e in _missed(db)] == [checked_in["id"], never["id"]]

    alerted = db.execute(
        text("SELECT reason FROM audit_event WHERE action='session.safety_check_alerted' AND record_id=:m"),
        {"m": match_id},
    ).scalars()
    assert sorted(alerted) == [lead_id, lead_id]


def test_the_grace_is_the_programmes_and_every_coordinator_hears_when_no_lead_is_named(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        put = client.put("/v1/programme", json={"check_out_grace_minutes": 90}, headers=admin)
        assert put.status_code == 200 and put.json()["check_out_grace_minutes"] == 90
        _vid, _match_id, _me, sessions = _scheduled(client, coordinator, make_key)
        traveller.move_to(_at(sessions[0], "ends_at") + timedelta(minutes=89))
        _worker_round(db)
        assert _missed(db) == []
        traveller.move_to(_at(sessions[0], "ends_at") + timedelta(minutes=90))
        _worker_round(db)
        [raised] = _missed(db)
        coordinators = db.execute(
            text("SELECT id FROM api_key WHERE role='coordinator' AND revoked_at IS NULL ORDER BY created_at")
        ).scalars()
        assert raised["coordinator_key_ids"] == list(coordinators) and raised["coordinator_key_ids"]
