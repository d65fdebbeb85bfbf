"""Supervision and training records, the readiness they make, and renewals falling due: listed for coordinators
and raised as `volunteer.due_soon` at 60, 30 and 7 days, once each."""

import json
from datetime import UTC, date, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text
from sqlmodel import Session

from service.volunteers import due
from tests.factories import patch_current, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
TODAY = START.date()


def _days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def _volunteer(client: TestClient, headers: dict[str, str], **overrides: object) -> str:
    created = client.post("/v1/volunteers", json=volunteer_body(**overrides), headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _reasons(client: TestClient, headers: dict[str, str], vid: str) -> set[str]:
    return {r["code"] for r in client.get(f"/v1/volunteers/{vid}", headers=headers).json()["not_ready_reasons"]}


def _due_events(db: Connection) -> list[tuple[str, dict[str, object]]]:
    rows = db.execute(
        text("SELECT record_id, payload FROM outbox_event WHERE type = 'volunteer.due_soon' ORDER BY occurred_at, id")
    )
    return [(r, p if isinstance(p, dict) else json.loads(p)) for r, p in rows]


def _scan(db: Connection) -> int:
    with Session(db) as session:
        raised = due.raise_due_soon(session)
        session.commit()
    return raised


def test_a_supervision_record_moves_a_volunteer_from_supervision_overdue_to_ready(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False):
        vid = _volunteer(client, coordinator, last_supervision_on=_days(-80))  # the interval is 56 days
        assert _reasons(client, coordinator, vid) == {"supervision_overdue"}

        recorded = client.post(
            f"/v1/volunteers/{vid}/supervision",
            json={"held_on": _days(-2), "kind": "reflective", "supervisor": "Morag Reid"},
            headers=coordinator,
        )
        assert recorded.status_code == 201, recorded.text

        volunteer = client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()
        assert volunteer["ready"] is True and volunteer["not_ready_reasons"] == []
        assert volunteer["last_supervision_on"] == _days(-2)
        listed = client.get(f"/v1/volunteers/{vid}/supervision", headers=coordinator).json()["items"]
        assert [(s["held_on"], s["kind"], s["supervisor"]) for s in listed] == [(_days(-2), "reflective", "Morag Reid")]


def test_last_supervision_on_is_the_latest_whatever_order_dates_arrive_in(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False):
        vid = _volunteer(client, coordinator, last_supervision_on=_days(-30))
        for held_on in (_days(-3), _days(-20)):
            body = {"held_on": held_on, "kind": "group", "supervisor": "Morag Reid"}
            assert client.post(f"/v1/volunteers/{vid}/supervision", json=body, headers=coordinator).status_code == 201
        assert client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()["last_supervision_on"] == _days(-3)
        # A date given the old way never hides a later record.
        patched = patch_current(
            client, f"/v1/volunteers/{vid}", json={"last_supervision_on": _days(-40)}, headers=coordinator
        )
        assert patched.status_code == 200 and patched.json()["last_supervision_on"] == _days(-3)
        future = {"held_on": _days(1), "kind": "group", "supervisor": "Morag Reid"}
        assert client.post(f"/v1/volunteers/{vid}/supervision", json=future, headers=coordinator).status_code == 422


def test_a_volunteer_with_only_the_old_date_keeps_working_and_it_counts_as_her_last_supervision(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False):
        vid = _volunteer(client, coordinator, last_supervision_on=_days(-10))
        volunteer = client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()
        assert volunteer["ready"] is True
        assert {"what": "supervision", "module": None, "due_on": _days(46)} in volunteer["due"]
        assert client.get(f"/v1/volunteers/{vid}/supervision", headers=coordinator).json()["items"] == []


def test_a_required_module_missing_or_lapsed_makes_her_not_ready_and_none_is_required_by_default(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        vid = _volunteer(client, coordinator)
        assert _reasons(client, coordinator, vid) == set()  # today's behaviour: no module is required

        programme = client.get("/v1/programme", headers=admin).json()
        programme["required_training_modules"] = ["safeguarding"]
        assert client.put("/v1/programme", json=programme, headers=admin).status_code == 200
        assert _reasons(client, coordinator, vid) == {"training_missing"}

        body = {"module": "safeguarding", "completed_on": _days(-300), "expires_on": _days(10)}
        recorded = client.post(f"/v1/volunteers/{vid}/training", json=body, headers=coordinator)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["expires_on"] == _days(10)
        assert _reasons(client, coordinator, vid) == set()
        listed = client.get(f"/v1/volunteers/{vid}/training", headers=coordinator).json()["items"]
        assert [t["module"] for t in listed] == ["safeguarding"]

        traveller.move_to(START + timedelta(days=11))
        assert _reasons(client, coordinator, vid) == {"training_expired"}
        renewed = {"module": "safeguarding", "completed_on": _days(11), "expires_on": _days(376)}
        assert client.post(f"/v1/volunteers/{vid}/training", json=renewed, headers=coordinator).status_code == 201
        assert _reasons(client, coordinator, vid) == set()


def test_training_that_expires_before_it_was_completed_is_refused(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    vid = _volunteer(client, coordinator)
    body = {"module": "safeguarding", "completed_on": "2026-06-01", "expires_on": "2026-05-01"}
    refused = client.post(f"/v1/volunteers/{vid}/training", json=body, headers=coordinator)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"


def test_a_check_expiring_in_25_days_is_listed_as_due_within_30_and_raised_once_then_again_at_7_days(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        check = {"scheme": "PVG", "checked_on": _days(-1800), "expires_on": _days(25)}
        expiring = _volunteer(client, coordinator, check=check, last_supervision_on=_days(0))
        settled = _volunteer(client, coordinator, name="Ewa Nowicka", last_supervision_on=_days(0))

        listed = client.get("/v1/volunteers", params={"due_within": 30}, headers=coordinator).json()["items"]
        assert [v["id"] for v in listed] == [expiring]
        assert {"what": "check", "module": None, "due_on": _days(25)} in listed[0]["due"]
        assert settled not in {
            v["id"] for v in client.get("/v1/volunteers?due_within=30", headers=coordinator).json()["items"]
        }

        # The expiring check raises its 30-day alert; supervision 56 days off raises its 60-day one.
        assert _scan(db) == 3
        raised = {(record_id, payload["what"], payload["days_before"]) for record_id, payload in _due_events(db)}
        assert raised == {(expiring, "check", 30), (expiring, "supervision", 60), (settled, "supervision", 60)}
        [check_event] = [p for r, p in _due_events(db) if r == expiring and p["what"] == "check"]
        assert check_event == {"what": "check", "module": None, "due_on": _days(25), "days_before": 30}
        assert _scan(db) == 0  # nothing new on the second run

        traveller.move_to(START + timedelta(days=18))  # 7 days before the expiry
        assert _scan(db) == 1
        assert [
            (p["what"], p["days_before"]) for r, p in _due_events(db) if r == expiring and p["what"] == "check"
        ] == [
            ("check", 30),
            ("check", 7),
        ]
        assert _scan(db) == 0


def test_a_renewed_check_is_alerted_afresh_and_training_expiry_is_alerted_with_its_module(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    with time_machine.travel(START, tick=False):
        vid = _volunteer(
            client,
            coordinator,
            check={"scheme": "PVG", "checked_on": _days(-1800), "expires_on": _days(5)},
            last_supervision_on=_days(-100),  # already overdue: lapsed things are `volunteer.not_ready`'s
        )
        body = {"module": "first_aid", "completed_on": _days(-700), "expires_on": _days(40)}
        assert client.post(f"/v1/volunteers/{vid}/training", json=body, headers=coordinator).status_code == 201
        assert _scan(db) == 2
        new_check = {"scheme": "PVG", "checked_on": _days(-1), "expires_on": _days(3)}  # say, a short renewal
        assert (
            patch_current(client, f"/v1/volunteers/{vid}", json={"check": new_check}, headers=coordinator).status_code
            == 200
        )
        assert _scan(db) == 1
        raised = [(p["what"], p["module"], p["due_on"], p["days_before"]) for _r, p in _due_events(db)]
        assert sorted(raised) == sorted(
            [
                ("check", None, _days(5), 7),
                ("training", "first_aid", _days(40), 60),
                ("check", None, _days(3), 7),
            ]
        )


def test_due_within_refuses_a_negative_number_of_days(client: TestClient, coordinator: dict[str, str]) -> None:
    refused = client.get("/v1/volunteers", params={"due_within": -1}, headers=coordinator)
    assert refused.status_code == 422


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scan_days=st.lists(st.integers(min_value=0, max_value=90), min_size=1, max_size=8, unique=True))
def test_scanning_on_any_days_raises_each_threshold_at_most_once_and_only_the_nearest_crossed(
    client: TestClient, coordinator: dict[str, str], db: Connection, scan_days: list[int]
) -> None:
    expires = TODAY + timedelta(days=90)
    with time_machine.travel(START, tick=False) as traveller:
        check = {"scheme": "PVG", "checked_on": _days(-1000), "expires_on": expires.isoformat()}
        vid = _volunteer(client, coordinator, check=check, last_supervision_on=_days(-100))
        expected: list[int] = []
        for day in sorted(scan_days):
            traveller.move_to(START + timedelta(days=day))
            left = (expires - (TODAY + timedelta(days=day))).days
            nearest = next((t for t in (7, 30, 60) if left <= t), None)
            if nearest is not None and nearest not in expected:
                expected.append(nearest)
            _scan(db)
        mine = [p for r, p in _due_events(db) if r == vid and p["what"] == "check"]
        assert [p["days_before"] for p in mine] == expected
        assert {date.fromisoformat(str(p["due_on"])) for p in mine} <= {expires}


def test_a_scan_after_a_bulk_import_writes_its_alerts_together_each_with_its_event_audit_row_and_delivery(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str], db: Connection
) -> None:
    """After a programme is imported the first scans raise an alert for nearly every volunteer; they are written
    in a handful of statements, however many, and each still has its event, audit row and webhook delivery."""
    from sqlalchemy import event

    from service.volunteers.alerts import raise_not_ready_alerts

    hook = {"url": "https://hooks.example.org/alerts", "events": ["volunteer.not_ready", "volunteer.due_soon"]}
    assert (
        client.post(
            "/v1/webhooks", json={**hook, "secret": "a-shared-secret-of-some-length"}, headers=admin
        ).status_code
        == 201
    )

    def statements_of(scan: object, count: int) -> int:
        with time_machine.travel(START, tick=False):
            for n in range(count):
                lapsed = {
                    "scheme": "PVG",
                    "checked_on": _days(-1000),
                    "expires_on": _days(20 if scan is due.scan else -1),
                }
                _volunteer(client, coordinator, name=f"Imported {scan.__name__} {n}", check=lapsed)  # type: ignore[attr-defined]
            made: list[str] = []
            engine = db.engine

            def counted(*args: object) -> None:
                made.append(str(args[2]))

            event.listen(engine, "before_cursor_execute", counted)
            try:
                with Session(db) as session:
                    scan(session)  # type: ignore[operator]
                    session.commit()
            finally:
                event.remove(engine, "before_cursor_execute", counted)
            return len(made)

    few = statements_of(raise_not_ready_alerts, 3)
    many = statements_of(raise_not_ready_alerts, 30)
    assert many == few, "statements must not grow with the number of alerts"
    assert statements_of(due.scan, 25) <= few + 2
    for kind, action in (
        ("volunteer.not_ready", "volunteer.not_ready_alert"),
        ("volunteer.due_soon", "volunteer.due_soon_alert"),
    ):
        events = db.execute(text("SELECT id, record_id FROM outbox_event WHERE type = :t"), {"t": kind}).all()
        audits = db.execute(text("SELECT record_id FROM audit_event WHERE action = :a"), {"a": action}).all()
        deliveries = db.execute(
            text("SELECT count(*) FROM delivery JOIN outbox_event e ON e.id = delivery.event_id WHERE e.type = :t"),
            {"t": kind},
        ).scalar()
        assert sorted(r for _, r in events) == sorted(r for (r,) in audits)
        assert deliveries == len(events) > 0
    assert len(db.execute(text("SELECT id FROM outbox_event WHERE type = 'volunteer.not_ready'")).all()) == 33
    alerted = db.execute(text("SELECT count(*) FROM due_alert")).scalar()
    assert alerted == len(db.execute(text("SELECT id FROM outbox_event WHERE type = 'volunteer.due_soon'")).all())
