"""Risk review outcomes that fit practice, for a parent waiting and for a match under way: peer support goes on
beside clinical care, pauses until a date or a further review, or ends kindly."""

import json
from datetime import UTC, date, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlmodel import Session

from service.jobs import PERIODIC_JOBS
from tests.conftest import KeyMaker
from tests.factories import referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday, before her 10:00 window
SELF_HARM = [1, 1, 2, 1, 1, 2, 1, 1, 1, 1]  # item 10 = 1


def _epds() -> dict[str, object]:
    return {"instrument": "EPDS", "answers": SELF_HARM, "completed_on": date.today().isoformat()}


def _matched(client: TestClient, coordinator: dict[str, str], make_key: KeyMaker) -> tuple[str, str]:
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    rid = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
    match_id = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator).json()[
        "id"
    ]
    assert client.post(f"/v1/matches/{match_id}/accept", headers=make_key("volunteer", volunteer_id=vid)).is_success
    return rid, match_id


def _sessions(client: TestClient, match_id: str, headers: dict[str, str]) -> list[dict[str, str]]:
    return client.get(f"/v1/matches/{match_id}/sessions", headers=headers).json()["items"]


def _review(client: TestClient, rid: str, headers: dict[str, str], outcome: str, **extra: str) -> dict[str, object]:
    response = client.post(
        f"/v1/referrals/{rid}/risk-review", json={"outcome": outcome, "note": "Discussed.", **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def _worker_round(db: Connection) -> None:
    for job in PERIODIC_JOBS:
        with Session(db) as session:
            job(session)
            session.commit()


def _reminded(db: Connection) -> set[str]:
    rows = db.execute(text("SELECT payload FROM outbox_event WHERE type = 'session.reminder'")).scalars()
    return {(p if isinstance(p, dict) else json.loads(p))["session_id"] for p in rows}


def _proposed(client: TestClient, coordinator: dict[str, str]) -> list[str]:
    run = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    return [p["referral_id"] for p in run["proposals"]]


def _starts(session: dict[str, str]) -> datetime:
    return datetime.fromisoformat(session["starts_at"])


def test_continue_alongside_clinical_keeps_a_matched_parents_sessions(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        rid, match_id = _matched(client, coordinator, make_key)
        before = _sessions(client, match_id, coordinator)
        client.post(f"/v1/referrals/{rid}/measures", json=_epds(), headers=coordinator)
        assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["risk_review_pending"] is True
        review = _review(client, rid, coordinator, "continue_alongside_clinical")
        assert review["match_id"] == match_id and review["match_status"] == "scheduled"
        assert review["match_paused"] is False
        assert _sessions(client, match_id, coordinator) == before
        referral = client.get(f"/v1/referrals/{rid}", headers=coordinator).json()
        assert referral["status"] == "matched" and referral["risk_review_pending"] is False


def test_pause_stops_planning_and_reminders_until_its_date_then_the_sessions_follow_on(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        rid, match_id = _matched(client, coordinator, make_key)
        before = _sessions(client, match_id, coordinator)
        until = (_starts(before[2]) + timedelta(days=1)).date()  # the first three sessions fall in the pause
        review = _review(client, rid, coordinator, "pause", until=until.isoformat())
        assert review["match_paused"] is True and review["until"] == until.isoformat()
        paused = _sessions(client, match_id, coordinator)
        held = [s for s in paused if s["status"] == "on_hold"]
        assert [s["id"] for s in held] == [s["id"] for s in before[:3]]
        assert all(s["status"] == "planned" and _starts(s).date() >= until for s in paused if s not in held)
        extension = {"sessions": 1, "parent_agrees": True, "volunteer_agrees": True}
        assert client.post(f"/v1/matches/{match_id}/extensions", json=extension, headers=coordinator).status_code == 409

        for session in before[:3]:  # no reminder for a session in the pause, however the worker runs
            traveller.move_to(_starts(session) - timedelta(hours=1))
            _worker_round(db)
        assert _reminded(db).isdisjoint(s["id"] for s in held)

        traveller.move_to(datetime.combine(until, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1))
        _worker_round(db)
        resumed = _sessions(client, match_id, coordinator)
        assert {s["status"] for s in resumed} == {"planned"} and len(resumed) == len(before)
        assert all(_starts(s).date() >= until for s in resumed)
        assert [s["kind"] for s in resumed][-1] == "closing"


def test_a_pause_without_a_date_waits_for_a_further_review(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        rid, match_id = _matched(client, coordinator, make_key)
        _review(client, rid, coordinator, "pause")
        assert {s["status"] for s in _sessions(client, match_id, coordinator)} == {"on_hold"}
        assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["risk_review_pending"] is True
        assert _review(client, rid, coordinator, "cleared")["match_paused"] is False
        assert {s["status"] for s in _sessions(client, match_id, coordinator)} == {"planned"}


def test_end_peer_support_ends_a_match_kindly_with_a_no_blame_reason(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        rid, match_id = _matched(client, coordinator, make_key)
        review = _review(client, rid, coordinator, "end_peer_support")
        assert review["match_status"] == "ended" and review["referral_status"] == "ended"
        match = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()
        assert match["end_reason"] == "clinical_needs" and match["outcome"] == "ended_early"
        assert {s["status"] for s in _sessions(client, match_id, coordinator)} == {"cancelled"}


def test_refer_clinical_is_the_old_name_of_end_peer_support_only_before_a_match(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        rid, _match_id = _matched(client, coordinator, make_key)
        old = client.post(
            f"/v1/referrals/{rid}/risk-review", json={"outcome": "refer_clinical", "note": "x"}, headers=coordinator
        )
        assert old.status_code == 422 and old.json()["errors"][0]["loc"] == ["body", "outcome"]
        waiting = client.post("/v1/referrals", json=referral_body(2, epds=_epds()), headers=coordinator).json()["id"]
        assert _review(client, waiting, coordinator, "refer_clinical")["referral_status"] == "declined"


def test_a_waiting_parent_paused_is_not_matched_until_the_date(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
        rid = client.post("/v1/referrals", json=referral_body(1, epds=_epds()), headers=coordinator).json()["id"]
        until = START.date() + timedelta(days=14)
        assert _review(client, rid, coordinator, "pause", until=until.isoformat())["referral_status"] == "escalated"
        referral = client.get(f"/v1/referrals/{rid}", headers=coordinator).json()
        assert referral["paused_until"] == until.isoformat() and referral["risk_review_pending"] is False
        assert _proposed(client, coordinator) == []
        traveller.move_to(START + timedelta(days=13))
        _worker_round(db)
        assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["status"] == "escalated"
        traveller.move_to(START + timedelta(days=14, hours=1))
        _worker_round(db)
        assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["status"] == "waiting"
        assert _proposed(client, coordinator) == [rid]


def test_continue_alongside_clinical_lets_a_waiting_parent_be_matched(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    rid = client.post("/v1/referrals", json=referral_body(1, epds=_epds()), headers=coordinator).json()["id"]
    assert _review(client, rid, coordinator, "continue_alongside_clinical")["referral_status"] == "waiting"
    declined = client.post("/v1/referrals", json=referral_body(2, epds=_epds()), headers=coordinator).json()["id"]
    assert _review(client, declined, coordinator, "end_peer_support")["referral_status"] == "declined"


def test_until_goes_only_with_pause_and_lies_ahead(client: TestClient, coordinator: dict[str, str]) -> None:
    rid = client.post("/v1/referrals", json=referral_body(1, epds=_epds()), headers=coordinator).json()["id"]
    ahead = (date.today() + timedelta(days=7)).isoformat()
    for body in (
        {"outcome": "cleared", "note": "x", "until": ahead},
        {"outcome": "pause", "note": "x", "until": date.today().isoformat()},
    ):
        assert client.post(f"/v1/referrals/{rid}/risk-review", json=body, headers=coordinator).status_code == 422


def test_a_session_cancelled_in_a_pause_is_replaced_on_hold_and_follows_on_when_it_lifts(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        rid, match_id = _matched(client, coordinator, make_key)
        _review(client, rid, coordinator, "pause")
        first = _sessions(client, match_id, coordinator)[0]
        cancel = {"by": "parent", "reason": "baby_unwell"}
        assert client.post(f"/v1/sessions/{first['id']}/cancel", json=cancel, headers=coordinator).is_success
        statuses = [s["status"] for s in _sessions(client, match_id, coordinator)]
        assert statuses.count("cancelled") == 1 and statuses.count("on_hold") == 8
        _review(client, rid, coordinator, "continue_alongside_clinical")
        statuses = [s["status"] for s in _sessions(client, match_id, coordinator)]
        assert statuses.count("cancelled") == 1 and statuses.count("planned") == 8
