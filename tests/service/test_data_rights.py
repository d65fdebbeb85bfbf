"""Data rights: a subject access export holds every row the database holds about her and nothing of anyone
else's, found from the tables themselves; the retention schedule erases exactly what is past it, through
erasure; reading a concern is audited."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog
import time_machine
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Connection, ForeignKey, MetaData, String, Table, Text, inspect, text
from sqlmodel import Session, SQLModel

from api_schemas.rights import SubjectType
from service.core import auth
from service.erasure import repository as erasure_repository
from service.erasure import service as erasure_service
from service.erasure import subject_access
from service.jobs import PERIODIC_JOBS
from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday, before the volunteer's window
TODAY = START.date().isoformat()
SMS = {"channel": "sms", "language": "pl"}
OTHER_PARENT = {"name": "Beata Zielinska", "phone": "07700 900555", "postcode": "EH7 5QY"}
OTHER_VOLUNTEER = {"name": "Ewa Nowicka", "email": "ewa@example.org", "phone": "07700 900777"}


# --- The oracle: the whole database, read table by table as a dump would -------------------------------------


def dump(connection: Connection) -> dict[str, dict[str, dict[str, Any]]]:
    """Every row of every table with an `id`, by table and id, as the database returns it."""
    quote = connection.dialect.identifier_preparer.quote
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for table in inspect(connection).get_table_names():
        rows = [dict(row) for row in connection.execute(text(f"SELECT * FROM {quote(table)}")).mappings()]
        tables[table] = {str(row["id"]): row for row in rows if "id" in row}
    return tables


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def rows_about(tables: dict[str, dict[str, dict[str, Any]]], person_id: str) -> set[tuple[str, str]]:
    """Every row that holds one of her ids in any column (whatever it is named, foreign key or not), those rows'
    own ids becoming hers in turn, plus every row whose text or JSON mentions her id."""
    ids, found = {person_id}, set()
    grew = True
    while grew:
        grew = False
        for table, rows in tables.items():
            for row_id, row in rows.items():
                if (table, row_id) not in found and any(isinstance(v, str) and v in ids for v in row.values()):
                    found.add((table, row_id))
                    ids.add(row_id)
                    grew = True
    for table, rows in tables.items():
        for row_id, row in rows.items():
            if any(v is not None and person_id in _as_text(v) for v in row.values()):
                found.add((table, row_id))
    return found


def exported_rows(export: dict[str, Any]) -> set[tuple[str, str]]:
    return {(table, str(row["id"])) for table, rows in export["tables"].items() for row in rows}


# --- A realistic life ----------------------------------------------------------------------------------------


@pytest.fixture
def lead(db: Connection) -> dict[str, str]:
    with Session(db) as session:
        _key, secret = auth.create_key(session, name="lead", role=auth.Role.coordinator, safeguarding_lead=True)
        session.commit()
        return {"Authorization": f"Bearer {secret}"}


def _life(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str], lead: dict[str, str], make_key: KeyMaker
) -> dict[str, str]:
    """Her referral (with EPDS, a risk review and a retried POST), a match with sessions and messages, a concern
    raised and closed, an end measure; and beside her another parent matched with another volunteer."""
    client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": "s" * 32}, headers=admin
    )
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    body = referral_body(1, contact_preferences=SMS, epds={"answers": [1] * 10, "completed_on": TODAY})
    created = client.post("/v1/referrals", json=body, headers={**coordinator, "Idempotency-Key": "rights-1"})
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    reviewed = client.post(
        f"/v1/referrals/{rid}/risk-review", headers=coordinator, json={"outcome": "cleared", "note": "Safe; GP aware"}
    )
    assert reviewed.status_code == 201, reviewed.text
    run = client.post("/v1/match-runs?wait=true", json={"referral_ids": [rid]}, headers=coordinator).json()
    match_id = client.post(f"/v1/proposals/{run['proposals'][0]['id']}/accept", headers=coordinator).json()["id"]
    me = make_key("volunteer", volunteer_id=vid)
    assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200
    assert client.post("/v1/me/calendar", headers=me).status_code in (200, 201)
    first = client.get(f"/v1/matches/{match_id}/sessions", headers=me).json()["items"][0]
    with time_machine.travel(datetime.fromisoformat(first["ends_at"]), tick=False):
        client.post(f"/v1/sessions/{first['id']}/attendance", json={"status": "attended"}, headers=me)
        concern = client.post(
            "/v1/concerns",
            headers=me,
            json={
                "match_id": match_id,
                "category": "parent_wellbeing",
                "what_happened": "Tired and low this week",
                "occurred_at": first["starts_at"],
                "immediate_action": "Talked it through",
            },
        )
        assert concern.status_code == 201, concern.text
        concern_id = concern.json()["id"]
        assert client.get(f"/v1/concerns/{concern_id}", headers=lead).status_code == 200
        acted = client.post(
            f"/v1/concerns/{concern_id}/actions",
            json={"action": "contacted_parent", "note": "Spoke with her"},
            headers=lead,
        )
        assert acted.status_code == 201, acted.text
        epds = {"answers": [0] * 10, "completed_on": first["starts_at"][:10], "timepoint": "end"}
        assert client.post(f"/v1/referrals/{rid}/measures", json=epds, headers=coordinator).status_code == 201
    other_vid = client.post("/v1/volunteers", json=volunteer_body(**OTHER_VOLUNTEER), headers=coordinator).json()["id"]
    other = referral_body(2, parent=OTHER_PARENT, contact_preferences=SMS)
    other_rid = client.post("/v1/referrals", json=other, headers=coordinator).json()["id"]
    other_match = client.post(
        "/v1/matches", json={"referral_id": other_rid, "volunteer_id": other_vid}, headers=coordinator
    )
    assert other_match.status_code == 201, other_match.text
    other_me = make_key("volunteer", volunteer_id=other_vid)
    assert client.post(f"/v1/matches/{other_match.json()['id']}/accept", headers=other_me).status_code == 200
    return {"rid": rid, "vid": vid, "other_rid": other_rid, "other_vid": other_vid, "match_id": match_id}


def test_a_parents_export_holds_every_row_a_dump_holds_about_her_and_nothing_of_anyone_else(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    lead: dict[str, str],
    make_key: KeyMaker,
    db: Connection,
) -> None:
    with time_machine.travel(START, tick=False):
        life = _life(client, coordinator, admin, lead, make_key)
        expected = rows_about(dump(db), life["rid"])
        response = client.get(f"/v1/referrals/{life['rid']}/export", headers=admin)
        assert response.status_code == 200, response.text
        export = response.json()

    assert export["subject_type"] == "referral" and export["subject_id"] == life["rid"]
    tables = set(export["tables"])
    assert {"referral", "measure", "risk_review", "proposal", "match", "session", "concern", "concern_action"} <= tables
    assert {"message", "outbox_event", "delivery", "audit_event", "idempotency_record"} <= tables
    assert exported_rows(export) == expected
    everything = json.dumps(export)
    for someone_else in (life["other_rid"], life["other_vid"], "Beata", "Zielinska", "Ewa", "Nowicka"):
        assert someone_else not in everything
    assert "volunteer" not in tables, "her volunteer's own record is not hers"
    columns = {column for rows in export["tables"].values() for row in rows for column in row}
    assert not {c for c in columns if "hash" in c or "secret" in c or "token" in c}
    assert export["withheld_columns"] == ["idempotency_record.request_hash"]
    # Who saw and changed her records: the lead's read of the concern is there with the changes.
    actions = {row["action"] for row in export["tables"]["audit_event"]}
    assert {"referral.received", "referral.risk_reviewed", "match.confirmed", "session.attended"} <= actions
    assert {"concern.created", "concern.read", "concern.acknowledged", "measure.recorded"} <= actions
    # The export itself is audited, after it was read.
    audited = db.execute(
        text("SELECT actor_role FROM audit_event WHERE action = 'referral.exported' AND record_id = :id"),
        {"id": life["rid"]},
    ).all()
    assert [row[0] for row in audited] == ["admin"]


def test_a_volunteers_export_holds_every_row_about_her_without_her_secrets(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    lead: dict[str, str],
    make_key: KeyMaker,
    db: Connection,
) -> None:
    with time_machine.travel(START, tick=False):
        life = _life(client, coordinator, admin, lead, make_key)
        expected = rows_about(dump(db), life["vid"])
        secrets = [
            *db.execute(text("SELECT secret_hash FROM api_key WHERE volunteer_id = :v"), {"v": life["vid"]}).scalars(),
            *db.execute(text("SELECT calendar_token_hash FROM volunteer WHERE id = :v"), {"v": life["vid"]}).scalars(),
        ]
        response = client.get(f"/v1/volunteers/{life['vid']}/export", headers=admin)
        assert response.status_code == 200, response.text
        export = response.json()

    assert exported_rows(export) == expected
    assert {"volunteer", "api_key", "match", "session", "concern"} <= set(export["tables"])
    assert {"api_key.secret_hash", "volunteer.calendar_token_hash"} <= set(export["withheld_columns"])
    everything = json.dumps(export)
    assert len(secrets) == 2 and all(secret and secret not in everything for secret in secrets)
    for someone_else in (life["other_rid"], life["other_vid"], "Beata", "Zielinska", "Ewa", "Nowicka"):
        assert someone_else not in everything


def test_a_table_added_later_is_exported_without_being_named(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    lead: dict[str, str],
    make_key: KeyMaker,
    db: Connection,
) -> None:
    with time_machine.travel(START, tick=False):
        life = _life(client, coordinator, admin, lead, make_key)
    metadata = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(metadata)
    # A contact note on a session (a foreign key), and a note about a match named by convention only.
    notes = Table(
        "rights_test_note",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("session_id", String(36), ForeignKey("session.id")),
        Column("note", Text),
    )
    checks = Table(
        "rights_test_check",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("about_match_id", String(36)),
        Column("token_hash", String(64)),
    )
    notes.create(db)
    checks.create(db)
    session_id = db.execute(text("SELECT id FROM session WHERE match_id = :m"), {"m": life["match_id"]}).scalar()
    db.execute(notes.insert().values(id="note-1", session_id=session_id, note="Went well"))
    db.execute(checks.insert().values(id="check-1", about_match_id=life["match_id"], token_hash="f" * 64))
    other_session = db.execute(
        text("SELECT s.id FROM session s JOIN match m ON m.id = s.match_id WHERE m.referral_id = :r"),
        {"r": life["other_rid"]},
    ).scalar()
    db.execute(notes.insert().values(id="note-2", session_id=other_session, note="Someone else's"))

    with Session(db) as session:
        export = subject_access.collect(
            session, subject_type=SubjectType.referral, subject_id=life["rid"], metadata=metadata
        ).model_dump(mode="json")
    assert [row["id"] for row in export["tables"]["rights_test_note"]] == ["note-1"]
    assert export["tables"]["rights_test_check"] == [{"id": "check-1", "about_match_id": life["match_id"]}]
    assert "rights_test_check.token_hash" in export["withheld_columns"]


def test_every_foreign_key_of_every_table_is_followed() -> None:
    for table in SQLModel.metadata.sorted_tables:
        followed = {column.name for column in erasure_repository.reference_columns(table)}
        for key in table.foreign_keys:
            assert key.parent.name in followed, f"{table.name}.{key.parent.name}"


@given(st.from_regex(r"[a-z_]{1,30}", fullmatch=True))
def test_secrets_are_recognised_by_name_whatever_the_table(name: str) -> None:
    assert subject_access.is_secret(f"{name}_hash") and subject_access.is_secret(f"webhook_secret_{name}")
    assert subject_access.is_secret(f"{name}token")


def test_the_export_is_for_admins_and_a_record_nobody_has_is_404(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    rid = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
    assert client.get(f"/v1/referrals/{rid}/export", headers=coordinator).status_code == 403
    missing = client.get("/v1/volunteers/01a24e3d-0000-7000-8000-000000000000/export", headers=admin)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


# --- The retention schedule ----------------------------------------------------------------------------------


def _erased(db: Connection, table: str) -> set[str]:
    return set(db.execute(text(f"SELECT id FROM {table} WHERE erased_at IS NOT NULL")).scalars())


def _worker_round(db: Connection) -> None:
    for job in PERIODIC_JOBS:
        with Session(db) as session:
            job(session)
            session.commit()


@pytest.fixture
def past_and_recent(client: TestClient, coordinator: dict[str, str], make_key: KeyMaker) -> Iterator[dict[str, str]]:
    """At START: a match ends (her referral ends), a referral is withdrawn, one with a risk review pending is
    withdrawn, a volunteer leaves. Two months later another referral is withdrawn and another volunteer leaves.
    Some stay open throughout."""
    with time_machine.travel(START, tick=False) as traveller:
        ids: dict[str, str] = {}
        ids["ended_volunteer_stays"] = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()[
            "id"
        ]
        ids["ended"] = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
        match = client.post(
            "/v1/matches",
            json={"referral_id": ids["ended"], "volunteer_id": ids["ended_volunteer_stays"]},
            headers=coordinator,
        ).json()["id"]
        volunteer = make_key("volunteer", volunteer_id=ids["ended_volunteer_stays"])
        assert client.post(f"/v1/matches/{match}/accept", headers=volunteer).status_code == 200
        end = {"reason": "no_longer_wanted", "initiated_by": "parent", "rematch": False}
        ended = client.post(f"/v1/matches/{match}/end", json=end, headers=coordinator)
        assert ended.status_code == 200, ended.text
        for name, n, extra in (("withdrawn", 2, {}), ("reviewing", 3, {"epds": {"answers": [1] * 10}})):
            if extra:
                extra["epds"]["completed_on"] = TODAY
            ids[name] = client.post("/v1/referrals", json=referral_body(n, **extra), headers=coordinator).json()["id"]
            withdrawn = client.post(
                f"/v1/referrals/{ids[name]}/withdraw", json={"reason": "moved"}, headers=coordinator
            )
            assert withdrawn.status_code == 200, withdrawn.text
        ids["waiting"] = client.post("/v1/referrals", json=referral_body(4), headers=coordinator).json()["id"]
        ids["left"] = client.post("/v1/volunteers", json=volunteer_body(name="Left Early"), headers=coordinator).json()[
            "id"
        ]
        assert patch_current(
            client, f"/v1/volunteers/{ids['left']}", json={"status": "left"}, headers=coordinator
        ).is_success
        traveller.shift(timedelta(days=61))
        ids["withdrawn_later"] = client.post("/v1/referrals", json=referral_body(5), headers=coordinator).json()["id"]
        client.post(f"/v1/referrals/{ids['withdrawn_later']}/withdraw", json={"reason": "moved"}, headers=coordinator)
        ids["left_later"] = client.post(
            "/v1/volunteers", json=volunteer_body(name="Left Later"), headers=coordinator
        ).json()["id"]
        patch_current(client, f"/v1/volunteers/{ids['left_later']}", json={"status": "left"}, headers=coordinator)
        yield ids


def test_the_retention_run_erases_exactly_what_is_past_the_schedule_and_its_dry_run_changes_nothing(
    client: TestClient, admin: dict[str, str], db: Connection, past_and_recent: dict[str, str]
) -> None:
    ids = past_and_recent
    with time_machine.travel(START + timedelta(days=2 * 365 + 30), tick=False):
        before = dump(db)
        dry = client.post("/v1/retention/run", params={"dry_run": "true"}, headers=admin)
        assert dry.status_code == 200, dry.text
        assert dump(db) == before, "a dry run changes nothing"
        would = dry.json()
        assert would["dry_run"] is True and would["retention_months_after_end"] == 24
        assert sorted(would["referrals"]) == sorted([ids["ended"], ids["withdrawn"]])
        assert would["volunteers"] == [ids["left"]]
        assert would["skipped"] == [{"id": ids["reviewing"], "reason": "risk_review_pending"}]

        done = client.post("/v1/retention/run", params={"dry_run": "false"}, headers=admin)
        assert done.status_code == 200, done.text
        assert {k: v for k, v in done.json().items() if k != "dry_run"} == {
            k: v for k, v in would.items() if k != "dry_run"
        }
        assert _erased(db, "referral") == {ids["ended"], ids["withdrawn"]}
        assert _erased(db, "volunteer") == {ids["left"]}
        erased = client.get(f"/v1/referrals/{ids['withdrawn']}", headers=admin).json()
        assert erased["parent"]["name"] is None and erased["status"] == "withdrawn"

        after = dump(db)
        again = client.post("/v1/retention/run", params={"dry_run": "false"}, headers=admin).json()
        assert again["referrals"] == again["volunteers"] == []
        latest = dump(db)
        changed = {table for table in after if latest[table] != after[table]}
        assert changed <= {"audit_event"}, "a second run erases nothing more"


def test_the_daily_job_runs_once_a_day_logs_counts_only_and_honours_null(
    client: TestClient,
    admin: dict[str, str],
    db: Connection,
    past_and_recent: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = past_and_recent
    # The app's loggers are cached and the tests' level filters info out, so the module's logger is replaced.
    capturing = structlog.testing.CapturingLogger()
    keep = [lambda _logger, _method, fields: fields]
    monkeypatch.setattr(
        erasure_service, "log", structlog.wrap_logger(capturing, processors=keep, wrapper_class=structlog.BoundLogger)
    )
    with time_machine.travel(START + timedelta(days=365), tick=False):
        _worker_round(db)
        assert _erased(db, "referral") == set(), "nothing is two years old yet"
    with time_machine.travel(START + timedelta(days=2 * 365 + 30), tick=False):
        capturing.calls.clear()
        _worker_round(db)
        assert _erased(db, "referral") == {ids["ended"], ids["withdrawn"]}
        assert _erased(db, "volunteer") == {ids["left"]}
        assert [(call.method_name, call.args, call.kwargs) for call in capturing.calls] == [
            ("info", (), {"event": "retention.ran", "referrals": 2, "volunteers": 1, "skipped": 1})
        ], "counts only"
        _worker_round(db)
        ran = db.execute(text("SELECT count(*) FROM audit_event WHERE action = 'retention.ran'")).scalar()
        assert ran == 2, "once a day: a year ago and today"
    with time_machine.travel(START + timedelta(days=5 * 365), tick=False):
        settings = client.get("/v1/programme", headers=admin).json()
        settings.pop("version", None)
        updated = client.put("/v1/programme", json={**settings, "retention_months_after_end": None}, headers=admin)
        assert updated.status_code == 200, updated.text
        _worker_round(db)
        assert _erased(db, "referral") == {ids["ended"], ids["withdrawn"]}, "null keeps everything"


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    moment = datetime(2027, 3, 31, 2, 0, tzinfo=UTC)
    assert erasure_service.months_before(moment, 24) == datetime(2025, 3, 31, 2, 0, tzinfo=UTC)
    assert erasure_service.months_before(moment, 1) == datetime(2027, 2, 28, 2, 0, tzinfo=UTC)
    assert erasure_service.months_before(moment, 13) == datetime(2026, 2, 28, 2, 0, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 12, 31)), st.integers(0, 240))
def test_months_before_is_never_later_than_the_exact_count_of_short_months(moment: datetime, months: int) -> None:
    earlier = erasure_service.months_before(moment.replace(tzinfo=UTC), months)
    assert (moment.year - earlier.year) * 12 + moment.month - earlier.month == months
    assert earlier <= moment.replace(tzinfo=UTC)


# --- Reading a concern is audited ----------------------------------------------------------------------------


def test_reading_a_concern_one_or_listed_is_audited_with_who_and_which(
    client: TestClient, coordinator: dict[str, str], lead: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False):
        vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
        rid = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
        match_id = client.post(
            "/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator
        ).json()["id"]
        me = make_key("volunteer", volunteer_id=vid)
        concern = {
            "match_id": match_id,
            "category": "other",
            "what_happened": "x",
            "occurred_at": START.isoformat(),
            "immediate_action": "y",
        }
        concern_id = client.post("/v1/concerns", json=concern, headers=me).json()["id"]

        def reads() -> list[tuple[str, str | None]]:
            rows = db.execute(
                text("SELECT actor_role, reason FROM audit_event WHERE action = 'concern.read' AND record_id = :c"),
                {"c": concern_id},
            )
            return [(row[0], row[1]) for row in rows]

        assert reads() == []
        assert client.get(f"/v1/concerns/{concern_id}", headers=lead).status_code == 200
        assert client.get("/v1/concerns", headers=lead).status_code == 200
        assert client.get(f"/v1/me/concerns/{concern_id}", headers=me).status_code == 200
        assert client.get("/v1/me/concerns", headers=me).status_code == 200
        assert sorted(reads(), key=str) == sorted(
            [("coordinator", None), ("coordinator", "listed"), ("volunteer", None), ("volunteer", "listed")], key=str
        )
