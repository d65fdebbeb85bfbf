"""Safeguarding concerns through the API: raised by the volunteer after a visit or by a coordinator, the leads
alerted at once, a blocking category pausing the match until a lead closes it, and nothing of what was said
anywhere but the concern's own rows."""

import itertools
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import structlog
import time_machine
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text
from sqlmodel import Session
from typer.testing import CliRunner

from service import cli
from service.core import auth
from service.core.config import get_settings
from service.jobs import PERIODIC_JOBS
from tests.conftest import KeyMaker
from tests.factories import referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday, before her 10:00 window
WHAT_HAPPENED = "Mum said zqxv-unique she has thought about ending her life since the baby came home."
IMMEDIATE = "Stayed with her, phoned the crisis line kqpw-unique together."
EXAMPLES = itertools.count()  # each example makes its own parent: external ids stay unique
LEAD_NOTE = "Spoke to the GP jmbt-unique; safety plan agreed with the health visitor."


@pytest.fixture
def lead(db: Connection) -> tuple[str, dict[str, str]]:
    """A coordinator key designated as the programme's safeguarding lead: its id and headers."""
    with Session(db) as session:
        key, secret = auth.create_key(session, name="lead", role=auth.Role.coordinator, safeguarding_lead=True)
        session.commit()
        return key.id, {"Authorization": f"Bearer {secret}"}


def _matched(client: TestClient, coordinator: dict[str, str], make_key: KeyMaker) -> tuple[str, dict[str, str]]:
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    rid = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
    match_id = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator).json()[
        "id"
    ]
    volunteer = make_key("volunteer", volunteer_id=vid)
    assert client.post(f"/v1/matches/{match_id}/accept", headers=volunteer).status_code == 200
    return match_id, volunteer


def _concern(match_id: str, category: str = "self_harm_or_suicide") -> dict[str, object]:
    return {
        "match_id": match_id,
        "category": category,
        "what_happened": WHAT_HAPPENED,
        "occurred_at": (START - timedelta(hours=1)).isoformat(),
        "immediate_action": IMMEDIATE,
    }


def _sessions(client: TestClient, match_id: str, headers: dict[str, str]) -> list[dict[str, str]]:
    return client.get(f"/v1/matches/{match_id}/sessions", headers=headers).json()["items"]


def _outbox(db: Connection, event_type: str | None = None) -> list[tuple[str, str, dict[str, object]]]:
    rows = db.execute(text("SELECT type, record_id, payload FROM outbox_event ORDER BY occurred_at, id"))
    found = [(t, r, p if isinstance(p, dict) else json.loads(p)) for t, r, p in rows]
    return [row for row in found if event_type is None or row[0] == event_type]


def _worker_round(db: Connection) -> None:
    for job in PERIODIC_JOBS:
        with Session(db) as session:
            job(session)
            session.commit()


def test_a_self_harm_concern_alerts_the_lead_pauses_the_match_until_closed_and_is_never_copied_anywhere(
    client: TestClient,
    coordinator: dict[str, str],
    make_key: KeyMaker,
    lead: tuple[str, dict[str, str]],
    db: Connection,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    lead_key_id, lead_headers = lead
    with time_machine.travel(START, tick=False) as traveller, structlog.testing.capture_logs() as structured:
        match_id, volunteer = _matched(client, coordinator, make_key)
        planned = _sessions(client, match_id, coordinator)
        raised = client.post("/v1/concerns", json=_concern(match_id), headers=volunteer)
        assert raised.status_code == 201, raised.text
        concern = raised.json()
        assert concern["status"] == "open" and "what_happened" not in concern

        # The leads are alerted at once: the event names ids and the category, and each lead.
        [(_type, record_id, payload)] = _outbox(db, "safety.concern")
        assert record_id == concern["id"]
        assert payload["category"] == "self_harm_or_suicide" and payload["lead_key_ids"] == [lead_key_id]
        assert set(payload) == {"referral_id", "match_id", "category", "lead_key_ids"}

        # Self-harm blocks by default: every upcoming session waits on hold, and none is reminded.
        assert {s["status"] for s in _sessions(client, match_id, coordinator)} == {"on_hold"}
        traveller.move_to(datetime.fromisoformat(planned[0]["starts_at"]) - timedelta(hours=2))
        _worker_round(db)
        assert _outbox(db, "session.reminder") == []
        extension = {"sessions": 1, "parent_agrees": True, "volunteer_agrees": True}
        assert client.post(f"/v1/matches/{match_id}/extensions", json=extension, headers=coordinator).status_code == 409

        # The volunteer sees her concern open; the lead sees the account and acts.
        assert [c["status"] for c in client.get("/v1/me/concerns", headers=volunteer).json()["items"]] == ["open"]
        listed = client.get("/v1/concerns", params={"status": "open"}, headers=lead_headers).json()["items"]
        assert [c["what_happened"] for c in listed] == [WHAT_HAPPENED]
        acted = client.post(
            f"/v1/concerns/{concern['id']}/actions",
            json={"action": "contacted_referrer", "note": LEAD_NOTE},
            headers=lead_headers,
        )
        assert acted.status_code == 201 and acted.json()["status"] == "acknowledged"
        mine = client.get(f"/v1/me/concerns/{concern['id']}", headers=volunteer).json()
        assert mine["status"] == "acknowledged" and LEAD_NOTE not in json.dumps(mine)
        assert set(mine) == {"id", "match_id", "category", "status", "occurred_at", "raised_at", "closed_at"}

        closed = client.post(
            f"/v1/concerns/{concern['id']}/close",
            json={"outcome": "support_continues_with_plan", "note": LEAD_NOTE},
            headers=lead_headers,
        )
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        assert client.get("/v1/me/concerns", headers=volunteer).json()["items"][0]["status"] == "closed"
        after = _sessions(client, match_id, coordinator)
        assert {s["status"] for s in after} == {"planned"} and len(after) == len(planned)
        assert all(datetime.fromisoformat(s["starts_at"]) > datetime.now(UTC) for s in after)

        feed_url = client.post("/v1/me/calendar", headers=volunteer).json()["url"]
        feed = client.get(urlsplit(feed_url).path).text
        assert "BEGIN:VEVENT" in feed

    every_word = "\n".join(
        [
            caplog.text,
            *capfd.readouterr(),
            json.dumps(structured, default=str),
            json.dumps(_outbox(db), default=str),
            json.dumps([list(r) for r in db.execute(text("SELECT * FROM audit_event"))], default=str),
            feed,
        ]
    )
    for marker in ("zqxv-unique", "kqpw-unique", "jmbt-unique"):
        assert marker not in every_word
    assert "self_harm" not in feed and "concern" not in feed.lower()


def test_another_volunteer_gets_404_for_her_concern_and_her_match(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, volunteer = _matched(client, coordinator, make_key)
        concern_id = client.post("/v1/concerns", json=_concern(match_id), headers=volunteer).json()["id"]
        other_vid = client.post("/v1/volunteers", json=volunteer_body(name="Ewa Nowicka"), headers=coordinator)
        other = make_key("volunteer", volunteer_id=other_vid.json()["id"])
        for response in (
            client.get(f"/v1/me/concerns/{concern_id}", headers=other),
            client.get("/v1/me/concerns/00000000-0000-0000-0000-000000000000", headers=other),
            client.post("/v1/concerns", json=_concern(match_id), headers=other),
        ):
            assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
        assert client.get("/v1/me/concerns", headers=other).json()["items"] == []
        # A coordinator's own concern is not shown to the volunteer as hers.
        client.post("/v1/concerns", json=_concern(match_id, "other"), headers=coordinator)
        assert len(client.get("/v1/me/concerns", headers=volunteer).json()["items"]) == 1


def test_only_safeguarding_leads_read_and_close_concerns(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    make_key: KeyMaker,
    lead: tuple[str, dict[str, str]],
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _volunteer = _matched(client, coordinator, make_key)
        raised = client.post("/v1/concerns", json=_concern(match_id, "domestic_abuse"), headers=coordinator)
        assert raised.status_code == 201 and raised.json()["what_happened"] == WHAT_HAPPENED
        concern_id = raised.json()["id"]
        close = {"outcome": "no_further_action"}
        for headers in (coordinator, admin):
            assert client.get("/v1/concerns", headers=headers).status_code == 403
            assert client.get(f"/v1/concerns/{concern_id}", headers=headers).status_code == 403
            assert client.post(f"/v1/concerns/{concern_id}/close", json=close, headers=headers).status_code == 403
        _lead_id, lead_headers = lead
        assert client.get(f"/v1/concerns/{concern_id}", headers=lead_headers).json()["status"] == "open"
        assert client.post(f"/v1/concerns/{concern_id}/close", json=close, headers=lead_headers).status_code == 200
        again = client.post(f"/v1/concerns/{concern_id}/close", json=close, headers=lead_headers)
        assert again.status_code == 409
        action = {"action": "other"}
        assert client.post(f"/v1/concerns/{concern_id}/actions", json=action, headers=lead_headers).status_code == 409


def test_a_category_blocks_only_when_the_programme_says_so(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, volunteer = _matched(client, coordinator, make_key)
        raised = client.post("/v1/concerns", json=_concern(match_id, "domestic_abuse"), headers=volunteer)
        assert raised.status_code == 201
        assert {s["status"] for s in _sessions(client, match_id, coordinator)} == {"planned"}
        settings = client.get("/v1/programme", headers=admin).json()
        assert settings["blocking_concern_categories"] == ["child_protection", "self_harm_or_suicide"]
        settings["blocking_concern_categories"] = ["domestic_abuse"]
        assert client.put("/v1/programme", json=settings, headers=admin).status_code == 200
        client.post("/v1/concerns", json=_concern(match_id, "domestic_abuse"), headers=volunteer)
        assert {s["status"] for s in _sessions(client, match_id, coordinator)} == {"on_hold"}


def test_a_match_stays_paused_until_its_last_blocking_concern_is_closed(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, lead: tuple[str, dict[str, str]]
) -> None:
    _lead_id, lead_headers = lead
    with time_machine.travel(START, tick=False):
        match_id, volunteer = _matched(client, coordinator, make_key)
        first, second = (
            client.post("/v1/concerns", json=_concern(match_id, category), headers=volunteer).json()["id"]
            for category in ("self_harm_or_suicide", "child_protection")
        )
        close = {"outcome": "referred_to_health"}
        client.post(f"/v1/concerns/{first}/close", json=close, headers=lead_headers)
        assert {s["status"] for s in _sessions(client, match_id, coordinator)} == {"on_hold"}
        client.post(f"/v1/concerns/{second}/close", json=close, headers=lead_headers)
        assert {s["status"] for s in _sessions(client, match_id, coordinator)} == {"planned"}


def test_a_concern_is_about_one_parent_and_a_volunteer_raises_it_only_for_her_own_match(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, volunteer = _matched(client, coordinator, make_key)
        rid = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()["referral_id"]
        by_referral = {**_concern(match_id), "match_id": None, "referral_id": rid}
        assert client.post("/v1/concerns", json=by_referral, headers=volunteer).status_code == 422
        assert client.post("/v1/concerns", json=by_referral, headers=coordinator).status_code == 201
        both = {**_concern(match_id), "referral_id": rid}
        assert client.post("/v1/concerns", json=both, headers=coordinator).status_code == 422
        too_long = {**_concern(match_id), "what_happened": "x" * 4001}
        assert client.post("/v1/concerns", json=too_long, headers=volunteer).status_code == 422
        future = {**_concern(match_id), "occurred_at": (START + timedelta(days=1)).isoformat()}
        assert client.post("/v1/concerns", json=future, headers=volunteer).status_code == 422


def test_every_step_of_a_concern_is_audited_without_its_words(
    client: TestClient,
    coordinator: dict[str, str],
    make_key: KeyMaker,
    lead: tuple[str, dict[str, str]],
    db: Connection,
) -> None:
    lead_id, lead_headers = lead
    with time_machine.travel(START, tick=False):
        match_id, volunteer = _matched(client, coordinator, make_key)
        concern_id = client.post("/v1/concerns", json=_concern(match_id), headers=volunteer).json()["id"]
        client.post(f"/v1/concerns/{concern_id}/actions", json={"action": "contacted_parent"}, headers=lead_headers)
        client.post(f"/v1/concerns/{concern_id}/actions", json={"action": "other"}, headers=lead_headers)
        client.post(f"/v1/concerns/{concern_id}/close", json={"outcome": "other"}, headers=lead_headers)
    rows = db.execute(
        text("SELECT action, reason FROM audit_event WHERE record_id IN (:c, :m) ORDER BY at, id"),
        {"c": concern_id, "m": match_id},
    ).all()
    steps = [(action, reason) for action, reason in rows if action.startswith(("concern.", "match.p", "match.r"))]
    # The clock stands still, so the rows of one request share a time: compared as a set.
    assert sorted(steps) == sorted(
        [
            ("concern.created", "self_harm_or_suicide"),
            ("concern.lead_alerted", lead_id),
            ("match.paused", "concern"),
            ("concern.acknowledged", "contacted_parent"),
            ("concern.action", "other"),
            ("concern.closed", "other"),
            ("match.resumed", "concern"),
        ]
    )


def test_the_command_line_makes_a_coordinator_key_a_safeguarding_lead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEER_MATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PEER_MATCH_DATABASE_URL", "")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(cli.app, ["migrate"]).exit_code == 0
        made = runner.invoke(
            cli.app, ["keys", "create", "--role", "coordinator", "--name", "Fiona", "--safeguarding-lead"]
        )
        assert made.exit_code == 0 and "safeguarding lead" in made.output
        refused = runner.invoke(cli.app, ["keys", "create", "--role", "admin", "--name", "IT", "--safeguarding-lead"])
        assert refused.exit_code != 0
        listed = runner.invoke(cli.app, ["keys", "list"]).output
        assert "safeguarding lead  Fiona" in listed and "IT" not in listed
    finally:
        get_settings.cache_clear()


def test_erasing_a_parent_waits_for_her_open_concern_and_then_clears_its_words(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    make_key: KeyMaker,
    lead: tuple[str, dict[str, str]],
) -> None:
    _lead_id, lead_headers = lead
    with time_machine.travel(START, tick=False):
        match_id, volunteer = _matched(client, coordinator, make_key)
        rid = client.get(f"/v1/matches/{match_id}", headers=coordinator).json()["referral_id"]
        concern_id = client.post("/v1/concerns", json=_concern(match_id), headers=volunteer).json()["id"]
        client.post(
            f"/v1/concerns/{concern_id}/actions", json={"action": "other", "note": LEAD_NOTE}, headers=lead_headers
        )
        assert client.delete(f"/v1/referrals/{rid}", headers=admin).status_code == 409
        client.post(
            f"/v1/concerns/{concern_id}/close", json={"outcome": "other", "note": LEAD_NOTE}, headers=lead_headers
        )
        assert client.delete(f"/v1/referrals/{rid}", headers=admin).status_code == 204
        erased = client.get(f"/v1/concerns/{concern_id}", headers=lead_headers).json()
        assert erased["what_happened"] is None and erased["immediate_action"] is None
        assert erased["outcome_note"] is None and erased["actions"][0]["note"] is None
        assert erased["category"] == "self_harm_or_suicide" and erased["outcome"] == "other"


STEPS = st.lists(
    st.sampled_from(["blocking", "not_blocking", "close_first", "close_last", "pause", "clear"]), max_size=5
)


@given(steps=STEPS)
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_match_is_on_hold_exactly_while_a_blocking_concern_is_open_or_a_review_paused_it(
    client: TestClient,
    coordinator: dict[str, str],
    make_key: KeyMaker,
    lead: tuple[str, dict[str, str]],
    steps: list[str],
) -> None:
    """Any interleaving of concerns raised and closed and reviews pausing and clearing: the sessions wait on hold
    while any reason to pause remains, and all come back when the last one lifts."""
    _lead_id, lead_headers = lead
    counter = next(EXAMPLES)
    with time_machine.travel(START, tick=False):
        vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
        rid = client.post("/v1/referrals", json=referral_body(1000 + counter), headers=coordinator).json()["id"]
        made = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator)
        match_id = made.json()["id"]
        assert client.post(f"/v1/matches/{match_id}/accept", headers=coordinator).status_code == 200
        open_blocking: list[str] = []
        open_other: list[str] = []
        review_paused = False
        for step in steps:
            if step in ("blocking", "not_blocking"):
                category = "child_protection" if step == "blocking" else "parent_wellbeing"
                concern = client.post("/v1/concerns", json=_concern(match_id, category), headers=coordinator)
                (open_blocking if step == "blocking" else open_other).append(concern.json()["id"])
            elif step.startswith("close") and (open_blocking or open_other):
                pool = open_blocking + open_other
                chosen = pool[0] if step == "close_first" else pool[-1]
                closed = client.post(
                    f"/v1/concerns/{chosen}/close", json={"outcome": "no_further_action"}, headers=lead_headers
                )
                assert closed.status_code == 200
                (open_blocking if chosen in open_blocking else open_other).remove(chosen)
            elif step in ("pause", "clear"):
                outcome = "pause" if step == "pause" else "cleared"
                review = client.post(
                    f"/v1/referrals/{rid}/risk-review", json={"outcome": outcome, "note": "x"}, headers=coordinator
                )
                assert review.status_code == 201, review.text
                review_paused = step == "pause"
            statuses = {s["status"] for s in _sessions(client, match_id, coordinator)}
            assert statuses == ({"on_hold"} if open_blocking or review_paused else {"planned"}), (step, statuses)
