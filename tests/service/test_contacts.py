"""The contact log through the API: the volunteer's note after a session (which records attendance where it is
not yet recorded), coordinators' other contacts, who reads which, and the notes copied nowhere else."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import structlog
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.conftest import KeyMaker
from tests.factories import referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday, before her 10:00 window
NOTE = "Walked to the park; mum said wqzj-unique she is sleeping better since the GP review."
COORDINATOR_NOTE = "Called her back xkcv-unique about the health visitor's letter."
PROBLEM = "application/problem+json"


def _matched(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, *, external: int = 1
) -> tuple[str, str, dict[str, str]]:
    """A scheduled match: its id, its referral's id and the volunteer's key."""
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    rid = client.post("/v1/referrals", json=referral_body(external), headers=coordinator).json()["id"]
    created = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator)
    assert created.status_code == 201, created.text
    volunteer = make_key("volunteer", volunteer_id=vid)
    assert client.post(f"/v1/matches/{created.json()['id']}/accept", headers=volunteer).status_code == 200
    return created.json()["id"], rid, volunteer


def _sessions(client: TestClient, match_id: str, headers: dict[str, str]) -> list[dict[str, str]]:
    return client.get(f"/v1/matches/{match_id}/sessions", headers=headers).json()["items"]


def _note(**overrides: object) -> dict[str, object]:
    return {"attended": True, "format": "home_visit", "minutes": 60, "note": NOTE, "concern": False, **overrides}


def _after(session: dict[str, str]) -> datetime:
    return datetime.fromisoformat(session["ends_at"]) + timedelta(hours=1)


def test_the_note_after_the_first_session_records_attendance_and_starts_the_match(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        match_id, rid, volunteer = _matched(client, coordinator, make_key)
        first = _sessions(client, match_id, volunteer)[0]
        traveller.move_to(_after(first))

        recorded = client.post(f"/v1/sessions/{first['id']}/contact", json=_note(), headers=volunteer)
        assert recorded.status_code == 201, recorded.text
        contact = recorded.json()
        assert (contact["kind"], contact["attended"], contact["minutes"], contact["note"]) == (
            "session",
            True,
            60,
            NOTE,
        )
        assert contact["session_id"] == first["id"] and contact["match_id"] == match_id
        assert contact["referral_id"] == rid and contact["concern_form"] is None

        assert _sessions(client, match_id, coordinator)[0]["status"] == "attended"
        assert client.get(f"/v1/matches/{match_id}", headers=coordinator).json()["status"] == "active"
        for path, headers in (
            (f"/v1/matches/{match_id}/contacts", volunteer),
            (f"/v1/matches/{match_id}/contacts", coordinator),
            (f"/v1/referrals/{rid}/contacts", coordinator),
        ):
            assert [c["id"] for c in client.get(path, headers=headers).json()["items"]] == [contact["id"]]


def test_a_missed_session_noted_counts_as_missed_and_a_session_already_marked_keeps_its_mark(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        match_id, _rid, volunteer = _matched(client, coordinator, make_key)
        first, second = _sessions(client, match_id, volunteer)[:2]
        traveller.move_to(_after(first))
        noted = client.post(f"/v1/sessions/{first['id']}/contact", json=_note(attended=False), headers=volunteer)
        assert noted.status_code == 201, noted.text
        assert _sessions(client, match_id, coordinator)[0]["status"] == "missed"
        assert client.get(f"/v1/matches/{match_id}", headers=coordinator).json()["status"] == "scheduled"

        traveller.move_to(_after(second))
        marked = client.post(f"/v1/sessions/{second['id']}/attendance", json={"status": "attended"}, headers=volunteer)
        assert marked.status_code == 200
        again = client.post(f"/v1/sessions/{second['id']}/contact", json=_note(attended=False), headers=volunteer)
        assert again.status_code == 201
        assert _sessions(client, match_id, coordinator)[1]["status"] == "attended"


def test_a_note_before_the_session_or_for_one_cancelled_as_attended_is_409(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _rid, volunteer = _matched(client, coordinator, make_key)
        first, second = _sessions(client, match_id, volunteer)[:2]
        early = client.post(f"/v1/sessions/{first['id']}/contact", json=_note(), headers=volunteer)
        assert early.status_code == 409 and early.headers["content-type"] == PROBLEM
        cancel = {"by": "parent", "reason": "baby_unwell", "replace": True}
        assert client.post(f"/v1/sessions/{second['id']}/cancel", json=cancel, headers=coordinator).status_code == 200
        cancelled = client.post(f"/v1/sessions/{second['id']}/contact", json=_note(), headers=coordinator)
        assert cancelled.status_code == 409
        assert client.get(f"/v1/matches/{match_id}/contacts", headers=coordinator).json()["items"] == []


def test_i_have_a_concern_links_to_the_concern_form_and_raises_no_concern_itself(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        match_id, _rid, volunteer = _matched(client, coordinator, make_key)
        first = _sessions(client, match_id, volunteer)[0]
        traveller.move_to(_after(first))
        recorded = client.post(f"/v1/sessions/{first['id']}/contact", json=_note(concern=True), headers=volunteer)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["concern_form"] == {"method": "POST", "href": "/v1/concerns", "match_id": match_id}
        assert db.execute(text("SELECT count(*) FROM concern")).scalar_one() == 0
        assert db.execute(text("SELECT count(*) FROM outbox_event WHERE type = 'safety.concern'")).scalar_one() == 0
        # The form it names takes the match id as it is.
        concern = {
            "match_id": recorded.json()["concern_form"]["match_id"],
            "category": "parent_wellbeing",
            "what_happened": "She was tearful throughout.",
            "occurred_at": first["starts_at"],
        }
        assert client.post("/v1/concerns", json=concern, headers=volunteer).status_code == 201


def test_a_volunteer_never_reads_or_writes_another_volunteers_notes_and_reads_only_her_own(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        match_id, rid, volunteer = _matched(client, coordinator, make_key)
        other_vid = client.post("/v1/volunteers", json=volunteer_body(name="Ewa Nowicka"), headers=coordinator)
        other = make_key("volunteer", volunteer_id=other_vid.json()["id"])
        first = _sessions(client, match_id, volunteer)[0]
        traveller.move_to(_after(first))
        assert client.post(f"/v1/sessions/{first['id']}/contact", json=_note(), headers=volunteer).status_code == 201
        by_coordinator = client.post(
            f"/v1/sessions/{first['id']}/contact", json=_note(note=COORDINATOR_NOTE), headers=coordinator
        )
        assert by_coordinator.status_code == 201
        call = {"kind": "call", "occurred_at": START.isoformat(), "minutes": 10, "note": COORDINATOR_NOTE}
        called = client.post(f"/v1/referrals/{rid}/contacts", json=call, headers=coordinator)
        assert called.status_code == 201 and called.json()["match_id"] == match_id

        for response in (
            client.post(f"/v1/sessions/{first['id']}/contact", json=_note(), headers=other),
            client.get(f"/v1/matches/{match_id}/contacts", headers=other),
        ):
            assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
        assert client.get(f"/v1/referrals/{rid}/contacts", headers=volunteer).status_code == 403

        hers = client.get(f"/v1/matches/{match_id}/contacts", headers=volunteer).json()["items"]
        assert [c["note"] for c in hers] == [NOTE]
        everyone = client.get(f"/v1/matches/{match_id}/contacts", headers=coordinator).json()["items"]
        assert sorted(c["note"] for c in everyone) == sorted([NOTE, COORDINATOR_NOTE, COORDINATOR_NOTE])


def test_a_coordinators_call_while_she_waits_is_logged_and_paged(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False):
        rid = client.post("/v1/referrals", json=referral_body(7), headers=coordinator).json()["id"]
        ids = []
        for minutes in (5, 10, 15):
            call = {"kind": "call", "occurred_at": START.isoformat(), "minutes": minutes, "note": COORDINATOR_NOTE}
            created = client.post(f"/v1/referrals/{rid}/contacts", json=call, headers=coordinator)
            assert created.status_code == 201, created.text
            assert created.json()["match_id"] is None and created.json()["recorded_by_role"] == "coordinator"
            ids.append(created.json()["id"])
        first = client.get(f"/v1/referrals/{rid}/contacts", params={"limit": 2}, headers=coordinator).json()
        rest = client.get(
            f"/v1/referrals/{rid}/contacts", params={"limit": 2, "cursor": first["next_cursor"]}, headers=coordinator
        ).json()
        # By id, the order recorded (the clock stands still here, so within one millisecond any order).
        paged = [c["id"] for c in first["items"] + rest["items"]]
        assert sorted(paged) == sorted(ids) and paged == sorted(paged) and rest["next_cursor"] is None
        future = {**call, "occurred_at": (START + timedelta(days=1)).isoformat()}
        assert client.post(f"/v1/referrals/{rid}/contacts", json=future, headers=coordinator).status_code == 422


@pytest.mark.parametrize(
    "change",
    [{"minutes": 0}, {"minutes": 601}, {"note": "x" * 2001}, {"format": "carrier_pigeon"}, {"attended": None}],
)
def test_a_session_note_out_of_bounds_is_422(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, change: dict[str, object]
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        match_id, _rid, volunteer = _matched(client, coordinator, make_key)
        first = _sessions(client, match_id, volunteer)[0]
        traveller.move_to(_after(first))
        refused = client.post(f"/v1/sessions/{first['id']}/contact", json=_note(**change), headers=volunteer)
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
        assert _sessions(client, match_id, coordinator)[0]["status"] == "planned"


def test_notes_are_never_in_events_audit_or_logs_and_go_with_her_erasure(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    make_key: KeyMaker,
    db: Connection,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    with time_machine.travel(START, tick=False) as traveller, structlog.testing.capture_logs() as structured:
        match_id, rid, volunteer = _matched(client, coordinator, make_key)
        first = _sessions(client, match_id, volunteer)[0]
        traveller.move_to(_after(first))
        assert client.post(f"/v1/sessions/{first['id']}/contact", json=_note(), headers=volunteer).status_code == 201
        call = {"kind": "visit", "occurred_at": START.isoformat(), "note": COORDINATOR_NOTE}
        assert client.post(f"/v1/referrals/{rid}/contacts", json=call, headers=coordinator).status_code == 201

        copies = [str(row) for row in db.execute(text("SELECT * FROM outbox_event"))]
        copies += [str(row) for row in db.execute(text("SELECT * FROM audit_event"))]
        copies += [caplog.text, str(structured), *capfd.readouterr()]
        for unique in ("wqzj-unique", "xkcv-unique"):
            assert not any(unique in copy for copy in copies)
        audited = db.execute(text("SELECT action, reason FROM audit_event WHERE record_type = 'contact'")).all()
        assert sorted(audited) == [("contact.recorded", "session"), ("contact.recorded", "visit")]

        ended = client.post(
            f"/v1/matches/{match_id}/end",
            json={"reason": "feeling_better", "initiated_by": "parent", "rematch": False},
            headers=coordinator,
        )
        assert ended.status_code == 200, ended.text
        assert client.delete(f"/v1/referrals/{rid}", headers=admin).status_code == 204
        notes = db.execute(text("SELECT note, minutes FROM contact WHERE referral_id = :rid"), {"rid": rid}).all()
        assert sorted(notes, key=str) == sorted([(None, 60), (None, None)], key=str)
