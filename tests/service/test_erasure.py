"""Erasure: after DELETE a person's name, contacts and postcode are nowhere in the database, the events, the
webhook bodies or the calendar feed, and the anonymous counts reports need are unchanged."""

import json
from datetime import UTC, datetime
from typing import Any

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection, inspect, text
from sqlmodel import Session, select

from service.events.service import body as event_body
from service.models import OutboxEvent
from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body

PROBLEM = "application/problem+json"
START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday, before the volunteer's window
TODAY = START.date().isoformat()

PARENT = {
    "name": "Agnieszka Nowak",
    "phone": "07700 900123",
    "email": "aga.nowak@example.org",
    "postcode": "EH6 6QQ",
    "address": {"lines": ["Flat 9Q7", "17 Quernstane Wynd"]},
    "access_notes": "Buzzer marked Wojciechowska; the dog is friendly",
    "max_travel_km": 4,
}
HER_TRACES = [
    "Quernstane Wynd",
    "Flat 9Q7",
    "Wojciechowska",
    "Agnieszka",
    "Nowak",
    "900123",
    "aga.nowak",
    "EH6 6QQ",
    "EH66QQ",
    "REF-0001",
    "NHS Lothian Health Visiting",
]
VOLUNTEER_TRACES = ["Joanna", "Kowalska", "joanna@example.org", "900456", "EH7 5QY", "EH75QY"]


def traces_in_database(connection: Connection, needles: list[str]) -> list[str]:
    """Every table of the migrated database, every column read as text (JSON included): where each needle is."""
    found = []
    quote = connection.dialect.identifier_preparer.quote
    for table in inspect(connection).get_table_names():
        for row in connection.execute(text(f"SELECT * FROM {quote(table)}")).mappings():
            for column, value in row.items():
                if value is None or isinstance(value, int | float):
                    continue
                as_text = value if isinstance(value, str) else json.dumps(value, default=str)
                found += [f"{table}.{column}: {needle}" for needle in needles if needle.lower() in as_text.lower()]
    return found


def webhook_bodies(connection: Connection) -> str:
    with Session(connection) as session:
        events = session.exec(select(OutboxEvent)).all()
        return json.dumps([event_body(event, sent_at=TODAY) for event in events])


def _outcomes(client: TestClient, coordinator: dict[str, str]) -> dict[str, Any]:
    report = client.get("/v1/reports/outcomes", headers=coordinator)
    assert report.status_code == 200, report.text
    body: dict[str, Any] = report.json()
    return body


def _received_and_matched(report: dict[str, Any]) -> dict[str, Any]:
    by_area = {g["group"]: g["received"] for g in report["breakdowns"]["area"]}
    by_language = {g["group"]: g["received"] for g in report["breakdowns"]["language"]}
    return {
        "received": report["total"]["received"],
        "matched": report["total"]["matched"],
        "started": report["total"]["started"],
        "by_area": by_area,
        "by_language": by_language,
    }


def _audit_actions(connection: Connection, record_id: str) -> list[str]:
    rows = connection.execute(
        text("SELECT action FROM audit_event WHERE record_id = :id ORDER BY at, id"), {"id": record_id}
    )
    return [row[0] for row in rows]


def _feed(client: TestClient, me: dict[str, str]) -> str:
    url = client.post("/v1/me/calendar", headers=me).json()["url"]
    return str(url).removeprefix("http://127.0.0.1:8000")


def test_an_erased_referral_leaves_no_trace_of_her_and_the_counts_stay(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": "s" * 32}, headers=admin
        )
        # First names in feed titles, so the feed shows her name until she is erased.
        assert client.put("/v1/programme", json={"feed_shows_first_names": True}, headers=admin).status_code == 200
        vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
        for n in range(2, 7):  # others referred in the same period, so the counts are not suppressed as "<5"
            client.post(
                "/v1/referrals",
                headers=coordinator,
                json=referral_body(
                    n,
                    parent={"name": f"Parent {n}", "phone": "07700 900999", "postcode": "EH7 5QY"},
                    referrer={"organisation": "GP practice", "role": "gp"},
                ),
            )
        body = referral_body(1, parent=PARENT, epds={"answers": [1] * 10, "completed_on": TODAY})
        headers = {**coordinator, "Idempotency-Key": "erase-1"}
        created = client.post("/v1/referrals", json=body, headers=headers)
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        assert created.json()["status"] == "escalated"
        reviewed = client.post(
            f"/v1/referrals/{rid}/risk-review",
            headers=coordinator,
            json={"outcome": "cleared", "note": "Spoke with Agnieszka Nowak at EH6 6QQ; safe, GP aware"},
        )
        assert reviewed.status_code == 201, reviewed.text
        proposal = client.post("/v1/match-runs?wait=true", json={"referral_ids": [rid]}, headers=coordinator).json()
        match_id = client.post(f"/v1/proposals/{proposal['proposals'][0]['id']}/accept", headers=coordinator).json()[
            "id"
        ]
        me = make_key("volunteer", volunteer_id=vid)
        assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200
        first = client.get(f"/v1/matches/{match_id}/sessions", headers=me).json()["items"][0]
        traveller.move_to(datetime.fromisoformat(first["ends_at"]))
        client.post(f"/v1/sessions/{first['id']}/attendance", json={"status": "attended"}, headers=me)
        feed = _feed(client, me)
        assert "Agnieszka" in client.get(feed).text
        assert traces_in_database(db, HER_TRACES), "the scan must see her data before the erasure"
        counts = _received_and_matched(_outcomes(client, coordinator))

        erased = client.delete(f"/v1/referrals/{rid}", headers=admin)
        assert erased.status_code == 204, erased.text

        assert traces_in_database(db, HER_TRACES) == []
        assert not [needle for needle in HER_TRACES if needle.lower() in webhook_bodies(db).lower()]
        calendar = client.get(feed).text
        assert "Agnieszka" not in calendar and "Nowak" not in calendar
        assert _received_and_matched(_outcomes(client, coordinator)) == counts
        assert traces_in_database(db, ["Joanna Kowalska"]), "the volunteer was not erased"

        referral = client.get(f"/v1/referrals/{rid}", headers=coordinator).json()
        assert referral["erased_at"] is not None and referral["status"] == "ended"
        assert referral["parent"] == {
            "name": None,
            "role": "mother",
            "phone": None,
            "email": None,
            "postcode": None,
            "location": None,
            "due_date": None,
            "baby_birth_date": None,
            "address": None,
            "access_notes": None,
            "max_travel_km": 4.0,
        }
        assert referral["area"] == "EH6" and referral["languages"] == ["pl", "en"]
        assert referral["availability"] == referral["experiences"] == referral["background"] == []
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        assert [s["status"] for s in sessions] == ["attended"] + ["cancelled"] * 7
        match = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()
        assert match["status"] == "ended" and match["outcome"] == "ended_early"
        assert [
            m["total"] for m in client.get(f"/v1/referrals/{rid}/measures", headers=coordinator).json()["items"]
        ] == [10]
        replay = client.post("/v1/referrals", json=body, headers=headers)
        assert replay.status_code == 201 and replay.json()["parent"]["name"] is None

        assert client.delete(f"/v1/referrals/{rid}", headers=admin).status_code == 204
        assert _audit_actions(db, rid).count("referral.erased") == 1
        assert (
            patch_current(client, f"/v1/referrals/{rid}", json={"interests": []}, headers=coordinator).status_code
            == 409
        )
        epds = {"answers": [0] * 10, "completed_on": TODAY, "timepoint": "end"}
        refused = client.post(f"/v1/referrals/{rid}/measures", json=epds, headers=coordinator)
        assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM


def test_an_erased_volunteer_leaves_no_trace_her_parents_wait_again_and_her_keys_stop(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False):
        vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
        rid = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
        other_rid = client.post("/v1/referrals", json=referral_body(2), headers=coordinator).json()["id"]
        own = client.post(
            "/v1/matches",
            headers=coordinator,
            json={"referral_id": rid, "volunteer_id": vid, "override_reason": "Joanna Kowalska lives on her street"},
        )
        assert own.status_code == 201, own.text
        match_id = own.json()["id"]
        me = make_key("volunteer", volunteer_id=vid)
        assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200
        run = client.post("/v1/match-runs?wait=true", json={"referral_ids": [other_rid]}, headers=coordinator).json()
        assert [p["volunteer_id"] for p in run["proposals"]] == [vid]
        client.post(
            "/v1/volunteers",
            headers=coordinator,
            json=volunteer_body(name="Ewa Nowicka", email="ewa@example.org", phone="07700 900777", postcode="EH1 1YZ"),
        )
        feed = _feed(client, me)
        assert traces_in_database(db, VOLUNTEER_TRACES)
        counts = _received_and_matched(_outcomes(client, coordinator))

        assert client.delete(f"/v1/volunteers/{vid}", headers=admin).status_code == 204

        assert traces_in_database(db, VOLUNTEER_TRACES) == []
        assert not [needle for needle in VOLUNTEER_TRACES if needle.lower() in webhook_bodies(db).lower()]
        assert traces_in_database(db, ["Ewa Nowicka", "Agnieszka"]), "nobody else was erased"
        assert _received_and_matched(_outcomes(client, coordinator)) == counts
        assert client.get("/v1/me", headers=me).status_code == 401
        assert client.get(feed).status_code == 404

        volunteer = client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()
        assert volunteer["erased_at"] is not None and volunteer["status"] == "left" and not volunteer["ready"]
        assert (volunteer["name"], volunteer["email"], volunteer["phone"], volunteer["postcode"]) == (None,) * 4
        assert volunteer["languages"] == ["pl", "en"] and volunteer["area"] == "EH7"
        match = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()
        assert match["status"] == "ended" and match["ended_initiated_by"] == "volunteer"
        assert match["override_reason"] is None
        referral = client.get(f"/v1/referrals/{rid}", headers=coordinator).json()
        assert referral["status"] == "waiting" and referral["priority"] is True
        assert client.get(f"/v1/referrals/{other_rid}", headers=coordinator).json()["status"] == "waiting"
        assert (
            client.get(f"/v1/match-runs/{run['id']}", headers=coordinator).json()["proposals"][0]["status"] == "expired"
        )
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        assert {s["status"] for s in sessions} == {"cancelled"}

        assert client.delete(f"/v1/volunteers/{vid}", headers=admin).status_code == 204
        assert _audit_actions(db, vid).count("volunteer.erased") == 1
        refused = patch_current(client, f"/v1/volunteers/{vid}", json={"name": "Joanna"}, headers=coordinator)
        assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM


def test_erasing_a_referral_whose_match_awaits_the_volunteer_calls_it_off_and_frees_her_place(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str]
) -> None:
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    rid = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
    match_id = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator).json()[
        "id"
    ]
    assert client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()["current_parents"] == 1

    assert client.delete(f"/v1/referrals/{rid}", headers=admin).status_code == 204

    assert client.get(f"/v1/matches/{match_id}", headers=coordinator).json()["status"] == "cancelled"
    assert client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()["current_parents"] == 0
    referral = client.get(f"/v1/referrals/{rid}", headers=coordinator).json()
    assert referral["status"] == "withdrawn" and referral["parent"]["name"] is None


def test_a_waiting_referral_is_withdrawn_and_integrators_see_that_she_was_erased(
    client: TestClient, admin: dict[str, str], make_key: KeyMaker
) -> None:
    integrator = {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": "w-1"}
    rid = client.post("/v1/referrals", json=referral_body(1), headers=integrator).json()["id"]

    assert client.delete(f"/v1/referrals/{rid}", headers=admin).status_code == 204

    seen = client.get(f"/v1/referrals/{rid}", headers=integrator).json()
    assert seen["status"] == "withdrawn" and seen["erased_at"] is not None and seen["external_id"] is None
    assert client.post("/v1/match-runs?wait=true", headers=make_key("coordinator")).json()["stats"]["referrals"] == 0


def test_erasing_a_referral_with_a_pending_risk_review_is_409_until_it_is_recorded(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str]
) -> None:
    body = referral_body(1, epds={"answers": [0] * 9 + [2], "completed_on": TODAY})
    with time_machine.travel(START, tick=False):
        rid = client.post("/v1/referrals", json=body, headers=coordinator).json()["id"]
        refused = client.delete(f"/v1/referrals/{rid}", headers=admin)
        assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
        assert "risk review" in refused.json()["detail"]
        client.post(
            f"/v1/referrals/{rid}/risk-review",
            json={"outcome": "refer_clinical", "note": "GP informed"},
            headers=coordinator,
        )
        assert client.delete(f"/v1/referrals/{rid}", headers=admin).status_code == 204
        assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["status"] == "declined"


def test_erasing_an_unknown_record_is_404_problem_details(client: TestClient, admin: dict[str, str]) -> None:
    for path in ("/v1/referrals/nobody", "/v1/volunteers/nobody"):
        response = client.delete(path, headers=admin)
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
