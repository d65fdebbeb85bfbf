"""Messages to parents and volunteers through the real notifications-python-client against a fake Notify on
127.0.0.1, with time moved: reminders once at the lead time, never in quiet hours, never without consent or
after `none`, never for a cancelled session; a worker killed mid-send sends nothing twice and loses nothing;
Notify's receipts, their token, and what leaves the service; `missed_you` and `check_in_prompt` once per
session."""

import email
import email.message
import email.policy
import json
import socket
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, text
from sqlmodel import Session

from api_schemas.messages import MessageKind
from api_schemas.programme import EMAIL_FIELDS, EmailText, MessageSettings, ProgrammeSettings
from service.events.worker import DeliveryWorker
from service.jobs import PERIODIC_JOBS
from service.matches import repository as matches_repository
from service.messages import composing, prompts, sending, texts, words
from service.messages.sending import LogChannel, MessageSender, NotifyChannel, Outgoing, SmtpChannel
from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body
from tests.service.fake_notify import API_KEY, FakeNotify, Server

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday; her window is Tuesdays from 10:00 (London = UTC)
LEAD = timedelta(hours=24)
TOKEN = "notify-callback-token-0123456789"
SMS = {"channel": "sms", "language": "pl"}
TEMPLATES = {
    kind: {"en": f"00000000-0000-4000-8000-00000000000{i}", "pl": f"00000000-0000-4000-8000-0000000000{i}0"}
    for i, kind in enumerate(
        [
            "match_confirmed",
            "session_reminder",
            "session_changed",
            "session_cancelled",
            "ending_soon",
            "plan_changed",
            "missed_you",
            "check_in_prompt",
        ]
    )
}
# What no message may carry: surnames, the postcode, the referrer, her circumstances, the other one's contact.
NEVER = ["Nowak", "Kowalska", "EH6", "EH7", "6QQ", "5QY", "Lothian", "postnatal", "depression", "first_time", "epds"]


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    with Server() as state:
        yield state


@pytest.fixture
def worker(db: Connection, notify: FakeNotify) -> DeliveryWorker:
    sender = MessageSender(NotifyChannel(API_KEY, notify.url))
    return DeliveryWorker(db, allow_private=True, periodic=PERIODIC_JOBS, senders=[sender])


class CapturedLines(structlog.testing.CapturingLogger):
    """Each line logged, as its fields, at every level (the tests' settings would filter info out)."""

    def lines(self) -> list[dict[str, Any]]:
        return [{"level": call.method_name, **call.kwargs} for call in self.calls]


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> CapturedLines:
    """Every line the messages code logs (the app's loggers are cached, so structlog's capture_logs misses them)."""
    capturing = CapturedLines()
    keep = [lambda _logger, _method, fields: fields]
    monkeypatch.setattr(
        sending, "log", structlog.wrap_logger(capturing, processors=keep, wrapper_class=structlog.BoundLogger)
    )
    return capturing


@pytest.fixture
def programme(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    settings = client.get("/v1/programme", headers=admin).json()
    settings["messages"] = {"templates": TEMPLATES}
    assert client.put("/v1/programme", json=settings, headers=admin).status_code == 200
    return settings


def _set_programme(client: TestClient, admin: dict[str, str], settings: dict[str, Any], **messages: Any) -> None:
    settings["messages"] = {**settings["messages"], **messages}
    response = client.put("/v1/programme", json=settings, headers=admin)
    assert response.status_code == 200, response.text


def _planned_match(
    client: TestClient,
    coordinator: dict[str, str],
    *,
    parent: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[str, str, list[dict[str, str]]]:
    volunteer = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()
    body = referral_body(1, contact_preferences=parent if parent is not None else SMS, **(details or {}))
    referral = client.post("/v1/referrals", json=body, headers=coordinator)
    assert referral.status_code == 201, referral.text
    proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
    match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
    assert client.post(f"/v1/matches/{match_id}/accept", headers=coordinator).status_code == 200
    sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
    return referral.json()["id"], volunteer["id"], sessions


def _at(session: dict[str, str]) -> datetime:
    return datetime.fromisoformat(session["starts_at"])


def _polish_date(moment: datetime) -> str:
    days = ["poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"]
    months = ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września"]
    months += ["października", "listopada", "grudnia"]
    return f"{days[moment.weekday()]}, {moment.day} {months[moment.month - 1]}"


def _reminders(notify: FakeNotify) -> list[dict[str, Any]]:
    return [body for body in notify.received if body["template_id"] == TEMPLATES["session_reminder"]["pl"]]


def _messages(client: TestClient, coordinator: dict[str, str], referral_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/referrals/{referral_id}/messages", headers=coordinator)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_parent_who_chose_sms_gets_one_reminder_per_session_at_the_lead_time(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, sessions = _planned_match(client, coordinator)
        worker.run_once()
        confirmed = [b for b in notify.received if b["template_id"] == TEMPLATES["match_confirmed"]["pl"]]
        assert len(confirmed) == 1 and confirmed[0]["phone_number"] == "07700 900123"
        assert confirmed[0]["personalisation"] == {
            "first_name": "Agnieszka",
            "other_first_name": "Joanna",
            "format": "wizyty domowe",  # her language's words, not the code nor English
        }
        for planned in sessions[:3]:
            traveller.move_to(_at(planned) - LEAD - timedelta(minutes=1))
            worker.run_once()
            traveller.move_to(_at(planned) - LEAD + timedelta(minutes=1))
            worker.run_once()
            worker.run_once()  # a second round, or a second worker
        reminders = _reminders(notify)
        assert [r["personalisation"]["time"] for r in reminders] == ["10:00"] * 3
        assert [r["personalisation"]["date"] for r in reminders] == [_polish_date(_at(s)) for s in sessions[:3]]
        assert len({r["reference"] for r in reminders}) == 3
        assert all(r["personalisation"]["place"] == "home" for r in reminders)
        sent = [m for m in _messages(client, coordinator, referral_id) if m["kind"] == "session_reminder"]
        assert [m["status"] for m in sent] == ["sent"] * 3
        assert {m["channel"] for m in sent} == {"sms"}


def test_a_reminder_due_in_quiet_hours_waits_for_their_end(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
) -> None:
    # The reminder falls due on Monday at 10:00, inside these quiet hours.
    _set_programme(client, admin, programme, quiet_hours={"start": "09:00", "end": "12:30"})
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, sessions = _planned_match(client, coordinator)
        traveller.move_to(_at(sessions[0]) - LEAD + timedelta(minutes=1))
        worker.run_once()
        waiting = [m for m in _messages(client, coordinator, referral_id) if m["kind"] == "session_reminder"]
        assert [m["status"] for m in waiting] == ["pending"]
        assert datetime.fromisoformat(waiting[0]["not_before"]) == _at(sessions[0]) - LEAD + timedelta(hours=2.5)
        traveller.move_to(_at(sessions[0]) - LEAD + timedelta(hours=2, minutes=29))
        worker.run_once()
        assert _reminders(notify) == []
        traveller.move_to(_at(sessions[0]) - LEAD + timedelta(hours=2, minutes=30))
        worker.run_once()
        assert len(_reminders(notify)) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"consent": {"contact": False}},
        {"contact_preferences": {"channel": "none", "language": "pl"}},
    ],
    ids=["consent withdrawn", "channel none"],
)
def test_no_message_after_she_withdrew_consent_or_chose_none(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
    change: dict[str, Any],
) -> None:
    _set_programme(client, admin, programme, quiet_hours={"start": "09:00", "end": "12:30"})
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, sessions = _planned_match(client, coordinator)
        traveller.move_to(_at(sessions[0]) - LEAD + timedelta(minutes=1))
        worker.run_once()  # the first reminder waits for the end of quiet hours
        patched = patch_current(client, f"/v1/referrals/{referral_id}", json=change, headers=coordinator)
        assert patched.status_code == 200, patched.text
        for planned in sessions[:3]:
            traveller.move_to(_at(planned) - LEAD + timedelta(hours=3))
            worker.run_once()
        assert _reminders(notify) == []
        reminders = [m for m in _messages(client, coordinator, referral_id) if m["kind"] == "session_reminder"]
        # the waiting one is withheld; later sessions write none at all
        assert [(m["status"], m["withheld_reason"]) for m in reminders] == [
            ("withheld", "no_consent" if "consent" in change else "channel_none")
        ]


def test_no_reminder_for_a_cancelled_session(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
) -> None:
    _set_programme(client, admin, programme, quiet_hours={"start": "09:00", "end": "12:30"})
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, sessions = _planned_match(client, coordinator)
        first, second = sessions[0], sessions[1]
        # cancelled before its reminder was raised
        cancel = client.post(f"/v1/sessions/{second['id']}/cancel", json={"reason": "unwell"}, headers=coordinator)
        assert cancel.status_code == 200, cancel.text
        worker.run_once()  # she is told at once (08:00 is outside these quiet hours)
        # cancelled while its reminder waited for the end of quiet hours
        traveller.move_to(_at(first) - LEAD + timedelta(minutes=1))
        worker.run_once()
        cancel = client.post(f"/v1/sessions/{first['id']}/cancel", json={"reason": "unwell"}, headers=coordinator)
        assert cancel.status_code == 200, cancel.text
        for planned in (first, second):
            traveller.move_to(_at(planned) - LEAD + timedelta(hours=3))
            worker.run_once()
        assert _reminders(notify) == []
        kinds = [(m["kind"], m["status"]) for m in _messages(client, coordinator, referral_id)]
        assert ("session_reminder", "withheld") in kinds
        assert [k for k in kinds if k[0] == "session_cancelled"] == [("session_cancelled", "sent")] * 2


class _KilledAfter:
    """A channel whose worker dies after Notify answered, before the answer is recorded."""

    def __init__(self, channel: NotifyChannel, *, before: bool = False) -> None:
        self.channel, self.before = channel, before

    def send(self, outgoing: Outgoing) -> str:
        if self.before:
            raise SystemExit("killed before the call")
        self.channel.send(outgoing)
        raise SystemExit("killed after the call")

    def find(self, reference: str) -> str | None:
        return self.channel.find(reference)


@pytest.mark.parametrize("before", [False, True], ids=["killed after the call", "killed before the call"])
def test_a_worker_killed_mid_send_sends_nothing_twice_and_loses_nothing(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    db: Connection,
    notify: FakeNotify,
    before: bool,
) -> None:
    channel = NotifyChannel(API_KEY, notify.url)
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, _sessions = _planned_match(client, coordinator)
        dying = DeliveryWorker(db, allow_private=True, senders=[MessageSender(_KilledAfter(channel, before=before))])
        with pytest.raises(SystemExit):
            dying.run_once(jobs=False)
        healthy = DeliveryWorker(db, allow_private=True, senders=[MessageSender(channel)])
        healthy.run_once(jobs=False)  # within the dead worker's lease: nobody touches it
        assert len(notify.received) == (0 if before else 1)
        traveller.shift(timedelta(minutes=6))
        healthy.run_once(jobs=False)
        healthy.run_once(jobs=False)
        [message] = _messages(client, coordinator, referral_id)
        assert message["status"] == "sent"
        assert notify.references() == [message["id"]]  # one reference, once


def test_a_failed_send_is_retried_with_back_off_and_a_bad_number_is_a_permanent_failure(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
    db: Connection,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        notify.fail_next = [500, 400]
        referral_id, _vid, _sessions = _planned_match(client, coordinator)
        worker.run_once(jobs=False)
        [message] = _messages(client, coordinator, referral_id)
        assert (message["status"], message["attempts"]) == ("pending", 1)
        assert datetime.fromisoformat(message["not_before"]) > START
        worker.run_once(jobs=False)
        assert len(notify.received) == 1  # not before its back-off
        traveller.shift(timedelta(minutes=2))
        worker.run_once(jobs=False)
        [message] = _messages(client, coordinator, referral_id)
        assert (message["status"], message["attempts"]) == ("permanent-failure", 2)
        assert _failed_events(db) == [referral_id]


def _failed_events(db: Connection) -> list[str]:
    rows = db.execute(text("SELECT record_id FROM outbox_event WHERE type='message.failed'")).scalars()
    return list(rows)


def _callback(client: TestClient, message: dict[str, Any], status: str, token: str = TOKEN) -> int:
    body = {"id": "6f1c0ec1-0000-4000-8000-000000000001", "reference": message["id"], "to": "07700900123"}
    response = client.post(
        "/v1/notify/callbacks",
        json={**body, "status": status, "notification_type": "sms"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code


@pytest.fixture
def callback_token(client: TestClient) -> Iterator[None]:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.notify_callback_token = TOKEN
    yield
    settings.notify_callback_token = ""


@pytest.mark.usefixtures("callback_token")
def test_receipts_record_delivery_and_a_permanent_failure_alerts_the_coordinator(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    db: Connection,
) -> None:
    with time_machine.travel(START, tick=False):
        referral_id, _vid, _sessions = _planned_match(client, coordinator)
        worker.run_once(jobs=False)
        [message] = _messages(client, coordinator, referral_id)
        assert _callback(client, message, "permanent-failure", token="wrong-token") == 401
        assert _callback(client, message, "permanent-failure", token="") == 401
        assert _messages(client, coordinator, referral_id)[0]["status"] == "sent"
        assert _failed_events(db) == []
        assert _callback(client, message, "permanent-failure") == 204
        assert _messages(client, coordinator, referral_id)[0]["status"] == "permanent-failure"
        assert _failed_events(db) == [referral_id]
        payload = db.execute(text("SELECT payload FROM outbox_event WHERE type='message.failed'")).scalar_one()
        payload = payload if isinstance(payload, dict) else json.loads(payload)
        assert set(payload) == {"message_id", "kind", "channel", "match_id"}
        assert _callback(client, message, "permanent-failure") == 204  # Notify repeats itself: one alert
        assert _callback(client, message, "delivered") == 204  # and a final status stays final
        assert _failed_events(db) == [referral_id]
        assert _messages(client, coordinator, referral_id)[0]["status"] == "permanent-failure"


def test_no_message_or_log_line_carries_a_surname_an_address_or_her_health(
    client: TestClient,
    coordinator: dict[str, str],
    make_key: KeyMaker,
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
    logs: CapturedLines,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _referral_id, volunteer_id, sessions = _planned_match(client, coordinator)
        volunteer = make_key("volunteer", volunteer_id=volunteer_id)
        assert (
            patch_current(
                client, "/v1/me", json={"contact_preferences": {"channel": "email"}}, headers=volunteer
            ).status_code
            == 200
        )
        client.post(f"/v1/sessions/{sessions[2]['id']}/reschedule", json={}, headers=coordinator)
        for planned in sessions[:2]:
            traveller.move_to(_at(planned) - LEAD + timedelta(minutes=1))
            worker.run_once()
        mine = client.get("/v1/me/messages", headers=volunteer).json()["items"]
        assert {m["kind"] for m in mine} >= {"session_reminder", "plan_changed"}
        assert {m["recipient"] for m in mine} == {"volunteer"}
    assert {b["type"] for b in notify.received} == {"sms", "email"}
    assert len(notify.received) >= 5
    for body in notify.received:
        to = body.pop("phone_number", None) or body.pop("email_address")
        assert to in ("07700 900123", "joanna@example.org")
        seen = json.dumps(body).lower()
        for word in NEVER:
            assert word.lower() not in seen, word
    lines = json.dumps(logs.lines()).lower()
    assert len(logs.lines()) >= len(notify.received)
    for word in [*NEVER, "07700", "joanna", "agnieszka"]:
        assert word.lower() not in lines, word


def test_the_log_channel_shows_one_match_end_to_end_masked(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    db: Connection,
    logs: CapturedLines,
) -> None:
    worker = DeliveryWorker(db, allow_private=True, periodic=PERIODIC_JOBS, senders=[MessageSender(LogChannel())])
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, sessions = _planned_match(client, coordinator)
        worker.run_once()
        traveller.move_to(_at(sessions[0]) - LEAD + timedelta(minutes=1))
        worker.run_once()
    would_send = [line for line in logs.lines() if line["event"] == "message_would_send"]
    assert [line["kind"] for line in would_send] == ["match_confirmed", "session_reminder"]
    assert would_send[1]["to"] == "0**********3"
    assert would_send[1]["personalisation"]["first_name"] == "A*******a"
    lines = json.dumps(logs.lines()).lower()
    for word in [*NEVER, "07700", "joanna", "agnieszka"]:
        assert word.lower() not in lines, word
    assert [m["status"] for m in _messages(client, coordinator, referral_id)] == ["sent", "sent"]


def test_the_log_channel_writes_what_would_be_sent_masked(logs: CapturedLines) -> None:
    LogChannel().send(
        Outgoing(
            reference="m1",
            channel="sms",
            to="07700 900123",
            template_id=None,
            personalisation={"first_name": "Agnieszka", "time": "10:00"},
            kind="session_reminder",
        )
    )
    [line] = logs.lines()
    assert line["to"] == "0**********3"
    assert line["personalisation"] == {"first_name": "A*******a", "time": "10:00"}
    assert "Agnieszka" not in json.dumps(line)


def test_contact_preferences_need_the_number_or_address_they_use(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    body = referral_body(1, contact_preferences={"channel": "email"})
    response = client.post("/v1/referrals", json=body, headers=coordinator)
    assert response.status_code == 422, response.text
    created = client.post("/v1/referrals", json=referral_body(1, contact_preferences=SMS), headers=coordinator)
    assert created.json()["contact_preferences"] == {**SMS, "quiet_hours": None}
    assert created.json()["consent"]["contact"] is True
    withdrawn = patch_current(
        client, f"/v1/referrals/{created.json()['id']}", json={"consent": {"contact": False}}, headers=coordinator
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["consent"]["contact"] is False


def test_without_a_callback_the_status_is_asked_for_until_final(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
    db: Connection,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, _sessions = _planned_match(client, coordinator)
        worker.run_once(jobs=False)
        [notification] = notify.notifications.values()
        traveller.shift(timedelta(minutes=16))
        worker.run_once(jobs=False)  # Notify has no final status yet: asked again in an hour
        assert _messages(client, coordinator, referral_id)[0]["status"] == "sent"
        notification["status"] = "permanent-failure"
        traveller.shift(timedelta(minutes=30))
        worker.run_once(jobs=False)
        assert _messages(client, coordinator, referral_id)[0]["status"] == "sent"
        traveller.shift(timedelta(minutes=31))
        worker.run_once(jobs=False)
        assert _messages(client, coordinator, referral_id)[0]["status"] == "permanent-failure"
        assert _failed_events(db) == [referral_id]
    assert len(notify.received) == 1


def test_erasing_a_parent_withholds_what_waits_and_clears_the_names_her_messages_held(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
    db: Connection,
) -> None:
    with time_machine.travel(START, tick=False):
        referral_id, _vid, _sessions = _planned_match(client, coordinator)
        worker.run_once(jobs=False)
        assert client.delete(f"/v1/referrals/{referral_id}", headers=admin).status_code == 204
        worker.run_once(jobs=False)
        statuses = [(m["kind"], m["status"]) for m in _messages(client, coordinator, referral_id)]
        assert ("match_confirmed", "sent") in statuses
        assert ("session_cancelled", "withheld") in statuses
    assert len(notify.received) == 1
    kept = db.execute(text("SELECT personalisation FROM message")).scalars().all()
    assert all((p if isinstance(p, dict) else json.loads(p)) == {} for p in kept)


# Messages no event causes: `missed_you` after a missed session, `check_in_prompt` as a home visit begins.
SEEN_TOO = ["07700", "900123", "900456"]


def _of(notify: FakeNotify, kind: str, language: str = "pl") -> list[dict[str, Any]]:
    return [body for body in notify.received if body["template_id"] == TEMPLATES[kind][language]]


def _mark(client: TestClient, coordinator: dict[str, str], session: dict[str, str], status: str) -> None:
    response = client.post(f"/v1/sessions/{session['id']}/attendance", json={"status": status}, headers=coordinator)
    assert response.status_code == 200, response.text


def test_a_missed_session_brings_one_gentle_message_in_her_language(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, sessions = _planned_match(client, coordinator)
        first, second, third = sessions[:3]
        traveller.move_to(datetime.fromisoformat(first["ends_at"]))
        _mark(client, coordinator, first, "attended")
        worker.run_once()
        assert _of(notify, "missed_you") == []  # attended: nothing
        traveller.move_to(datetime.fromisoformat(second["ends_at"]) + timedelta(minutes=5))
        _mark(client, coordinator, second, "missed")
        worker.run_once()
        worker.run_once()  # a second round, or a second worker
        traveller.shift(timedelta(hours=3))
        worker.run_once()
        [missed] = _of(notify, "missed_you")
        assert missed["phone_number"] == "07700 900123"
        assert missed["personalisation"] == {
            "first_name": "Agnieszka",
            "other_first_name": "Joanna",
            "format": "wizyty domowe",
            "date": _polish_date(_at(second)),
            "time": "10:00",
        }
        traveller.move_to(datetime.fromisoformat(third["ends_at"]))
        _mark(client, coordinator, third, "missed")
        worker.run_once()
        assert len(_of(notify, "missed_you")) == 2  # once per missed session
        assert len({body["reference"] for body in _of(notify, "missed_you")}) == 2
        told = [m for m in _messages(client, coordinator, referral_id) if m["kind"] == "missed_you"]
        assert [(m["recipient"], m["status"]) for m in told] == [("referral", "sent")] * 2
    for body in notify.received:
        seen = str(body.get("personalisation", {})).lower()
        for word in [*NEVER, *SEEN_TOO]:
            assert word.lower() not in seen, word


def test_no_missed_you_while_the_match_is_paused(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _rid, _vid, sessions = _planned_match(client, coordinator)
        traveller.move_to(datetime.fromisoformat(sessions[0]["ends_at"]))
        _mark(client, coordinator, sessions[0], "missed")
        # a safeguarding concern of a blocking category holds the match before the worker's round
        concern = {
            "match_id": sessions[0]["match_id"],
            "category": "child_protection",
            "what_happened": "A worry the volunteer raised after the visit.",
            "occurred_at": (_at(sessions[0]) - timedelta(hours=1)).isoformat(),
            "immediate_action": "Spoke to the safeguarding lead.",
        }
        assert client.post("/v1/concerns", json=concern, headers=coordinator).status_code == 201
        worker.run_once()
        traveller.shift(timedelta(hours=3))
        worker.run_once()
    assert _of(notify, "missed_you") == []


def test_a_missed_you_waiting_out_quiet_hours_is_withheld_when_the_match_ends(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
) -> None:
    _set_programme(client, admin, programme, quiet_hours={"start": "09:00", "end": "18:00"})
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, sessions = _planned_match(client, coordinator)
        traveller.move_to(datetime.fromisoformat(sessions[0]["ends_at"]))
        _mark(client, coordinator, sessions[0], "missed")
        worker.run_once()
        [waiting] = [m for m in _messages(client, coordinator, referral_id) if m["kind"] == "missed_you"]
        assert waiting["status"] == "pending"
        end = {"reason": "not_a_good_fit", "initiated_by": "parent", "rematch": False}
        ended = client.post(f"/v1/matches/{sessions[0]['match_id']}/end", json=end, headers=coordinator)
        assert ended.status_code == 200, ended.text
        traveller.shift(timedelta(hours=8))
        worker.run_once()
        [withheld] = [m for m in _messages(client, coordinator, referral_id) if m["kind"] == "missed_you"]
        assert (withheld["status"], withheld["withheld_reason"]) == ("withheld", "match_not_running")
    assert _of(notify, "missed_you") == []


def test_no_missed_you_after_she_withdrew_consent(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        referral_id, _vid, sessions = _planned_match(client, coordinator)
        patched = patch_current(
            client, f"/v1/referrals/{referral_id}", json={"consent": {"contact": False}}, headers=coordinator
        )
        assert patched.status_code == 200, patched.text
        traveller.move_to(datetime.fromisoformat(sessions[0]["ends_at"]))
        _mark(client, coordinator, sessions[0], "missed")
        worker.run_once()
        assert [m for m in _messages(client, coordinator, referral_id) if m["kind"] == "missed_you"] == []
    assert _of(notify, "missed_you") == []


def test_a_missed_session_marked_days_later_brings_no_message(
    client: TestClient,
    coordinator: dict[str, str],
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _rid, _vid, sessions = _planned_match(client, coordinator)
        traveller.move_to(datetime.fromisoformat(sessions[0]["ends_at"]))
        _mark(client, coordinator, sessions[0], "missed")
        traveller.shift(prompts.MISSED_WITHIN + timedelta(minutes=1))  # the worker was down meanwhile
        worker.run_once()
    assert _of(notify, "missed_you") == []


def test_a_volunteer_is_prompted_to_check_in_once_as_each_home_visit_begins(
    client: TestClient,
    coordinator: dict[str, str],
    make_key: KeyMaker,
    programme: dict[str, Any],
    worker: DeliveryWorker,
    notify: FakeNotify,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _rid, volunteer_id, sessions = _planned_match(client, coordinator)
        volunteer = make_key("volunteer", volunteer_id=volunteer_id)
        prefs = {"contact_preferences": {"channel": "email", "language": "pl"}}
        assert patch_current(client, "/v1/me", json=prefs, headers=volunteer).status_code == 200
        first, second, third, fourth = sessions[:4]
        cancel = client.post(f"/v1/sessions/{second['id']}/cancel", json={"reason": "unwell"}, headers=coordinator)
        assert cancel.status_code == 200, cancel.text
        traveller.move_to(_at(first) - timedelta(minutes=1))
        worker.run_once()
        assert _of(notify, "check_in_prompt") == []  # not before it begins
        traveller.move_to(_at(first) + timedelta(minutes=1))
        worker.run_once()
        worker.run_once()
        traveller.shift(timedelta(minutes=10))
        worker.run_once()
        [prompt] = _of(notify, "check_in_prompt")
        assert prompt["email_address"] == "joanna@example.org"
        # her name, the day and the time: nothing of the parent, her address or the visit's place
        assert prompt["personalisation"] == {"first_name": "Joanna", "date": _polish_date(_at(first)), "time": "10:00"}
        traveller.move_to(_at(second) + timedelta(minutes=1))  # cancelled: no prompt
        worker.run_once()
        traveller.move_to(_at(third) + timedelta(minutes=1))
        worker.run_once()
        traveller.move_to(_at(fourth) + prompts.CHECK_IN_WITHIN + timedelta(minutes=1))  # the worker was down
        worker.run_once()
        assert len(_of(notify, "check_in_prompt")) == 2
        mine = client.get("/v1/me/messages", headers=volunteer).json()["items"]
        assert [m["kind"] for m in mine].count("check_in_prompt") == 2


def test_a_second_worker_writing_the_same_prompt_writes_nothing(
    client: TestClient, coordinator: dict[str, str], programme: dict[str, Any], db: Connection
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        _rid, _vid, sessions = _planned_match(client, coordinator)
        traveller.move_to(datetime.fromisoformat(sessions[0]["ends_at"]))
        _mark(client, coordinator, sessions[0], "missed")
        with Session(db) as session:
            row = matches_repository.get_session(session, sessions[0]["id"])
            assert row is not None
            match = matches_repository.get(session, row.match_id)
            assert match is not None
            parent = matches_repository.referral_of(session, match)
            volunteer = matches_repository.volunteer_of(session, match)
            args = (MessageKind.missed_you, composing.PARENT, parent, volunteer)
            # Both found the session before either wrote: the second write meets the first's cause id.
            assert prompts._write_once(session, *args, match=match, session=row) == 1
            assert prompts._write_once(session, *args, match=match, session=row) == 0
            assert prompts.write_missed_you(session) == 0
            session.commit()
    count = db.execute(text("SELECT count(*) FROM message WHERE kind = 'missed_you'")).scalar_one()
    assert count == 1


# The smtp channel: smtplib against aiosmtpd on 127.0.0.1, started by the test.
class Mailbox:
    """What the local SMTP server received, and who logged in."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.mails: list[email.message.EmailMessage] = []
        self.logins: list[str] = []
        self.over_tls: list[bool] = []
        self.refuse = refuse

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.mails.append(parsed)
        self.over_tls.append(session.ssl is not None)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> AuthResult:
        good = isinstance(auth, LoginPassword) and (auth.login, auth.password) == (b"peer-match", b"s3cret")
        if good:
            self.logins.append(auth.login.decode())
        return AuthResult(success=good)


ALT_NAME = "subjectAltName=IP:127.0.0.1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _smtp_server(mailbox: Mailbox, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_require_tls=tls is not None,
        tls_context=tls,
        require_starttls=tls is not None,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _smtp(port: int, **options: Any) -> SmtpChannel:
    options = {"starttls": False, "user": "peer-match", "password": "s3cret", **options}
    return SmtpChannel("127.0.0.1", port, sender="support@peer-match.example", timeout=5, **options)


def test_the_smtp_channel_sends_each_email_in_her_language_with_nothing_she_must_not_see(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    make_key: KeyMaker,
    programme: dict[str, Any],
    db: Connection,
) -> None:
    # The programme's own English reminder text; none in Polish, so the parent's is the built-in Polish one.
    own = {"subject": "See you ((date))", "body": "Hi ((first_name)), ((other_first_name)) at ((time)) ((surname))"}
    texts = {"email_texts": {"session_reminder": {"en": own}}}
    refused = client.put("/v1/programme", json={**programme, "messages": texts}, headers=admin)
    assert refused.status_code == 422  # a field no message carries is refused
    own["body"] = "Hi ((first_name)), ((other_first_name)) at ((time))."
    _set_programme(client, admin, programme, **texts)
    mailbox = Mailbox()
    with _smtp_server(mailbox) as port, time_machine.travel(START, tick=False) as traveller:
        worker = DeliveryWorker(db, allow_private=True, periodic=PERIODIC_JOBS, senders=[MessageSender(_smtp(port))])
        referral_id, volunteer_id, sessions = _planned_match(
            client,
            coordinator,
            parent={"channel": "email", "language": "pl"},
            details={"parent": {"email": "agnieszka@example.org"}},
        )
        volunteer = make_key("volunteer", volunteer_id=volunteer_id)
        prefs = {"contact_preferences": {"channel": "email", "language": "en"}}
        assert patch_current(client, "/v1/me", json=prefs, headers=volunteer).status_code == 200
        worker.run_once()
        traveller.move_to(_at(sessions[0]) - LEAD + timedelta(minutes=1))
        worker.run_once()
        worker.run_once()
    by_kind = {(mail["To"], mail["Subject"]): mail for mail in mailbox.mails}
    assert sorted(by_kind) == [
        ("agnieszka@example.org", f"Przypomnienie: {_polish_date(_at(sessions[0]))}, godz. 10:00"),
        ("agnieszka@example.org", "Twoja osoba wspierająca"),
        ("joanna@example.org", f"See you {_at(sessions[0]):%A} {_at(sessions[0]).day} {_at(sessions[0]):%B}"),
    ]
    confirmed = by_kind[("agnieszka@example.org", "Twoja osoba wspierająca")]
    assert "Twoją osobą wspierającą będzie Joanna. Forma spotkań: wizyty domowe." in confirmed.get_content()
    [reminder] = [mail for (to, _subject), mail in by_kind.items() if to == "joanna@example.org"]
    assert reminder.get_content().strip() == "Hi Joanna, Agnieszka at 10:00."
    assert mailbox.logins == ["peer-match"] * 3 and mailbox.over_tls == [False] * 3
    assert all(mail["From"] == "support@peer-match.example" for mail in mailbox.mails)
    statuses = [(m["kind"], m["channel"], m["status"]) for m in _messages(client, coordinator, referral_id)]
    assert sorted(statuses) == [("match_confirmed", "email", "sent"), ("session_reminder", "email", "sent")]
    message_ids = {m["id"] for m in _messages(client, coordinator, referral_id)}
    assert {mail["Message-ID"].strip("<>").split("@")[0] for mail in mailbox.mails} >= message_ids
    for mail in mailbox.mails:
        seen = mail.as_string().lower()
        for word in [*NEVER, "07700"]:
            assert word.lower() not in seen, word


def test_the_smtp_channel_uses_starttls_and_tells_a_refused_address_from_a_server_that_is_down() -> None:
    mail = Outgoing(
        reference="01a2e4dc-b800-7258-b2ea-667012c6a995",
        channel="email",
        to="agnieszka@example.org",
        template_id=None,
        personalisation={"first_name": "Agnieszka"},
        kind="missed_you",
        subject="We missed you",
        body="Hello Agnieszka",
    )
    with tempfile.TemporaryDirectory() as folder:
        cert, key = f"{folder}/cert.pem", f"{folder}/key.pem"
        subprocess.run(
            [
                *["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"],
                "-addext",
                ALT_NAME,
                "-keyout",
                key,
                "-out",
                cert,
            ],
            check=True,
            capture_output=True,
        )
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert, key)
        trusting = ssl.create_default_context(cafile=cert)
        mailbox = Mailbox(refuse=frozenset({"gone@example.org"}))
        with _smtp_server(mailbox, tls=server) as port:
            _smtp(port, starttls=True, tls_context=trusting).send(mail)
            with pytest.raises(sending.PermanentError):
                _smtp(port, starttls=True, tls_context=trusting).send(replace(mail, to="gone@example.org"))
            with pytest.raises(sending.TransientError):  # her server's certificate is not trusted: try later
                _smtp(port, starttls=True).send(mail)
            with pytest.raises(sending.PermanentError):  # an SMS cannot go by email
                _smtp(port, starttls=True, tls_context=trusting).send(replace(mail, channel="sms", to="07700 900123"))
    with pytest.raises(sending.TransientError):
        _smtp(port).send(mail)  # the server is gone
    assert mailbox.over_tls == [True] and mailbox.logins == ["peer-match"] * 2  # the refused one logged in too
    assert [m["To"] for m in mailbox.mails] == ["agnieszka@example.org"]


def test_email_texts_take_her_language_first_and_a_sensitive_referral_only_the_built_in_ones() -> None:
    own = EmailText(subject="Baby group news", body="Hi ((first_name))")
    settings = ProgrammeSettings(messages=MessageSettings(email_texts={MessageKind.missed_you: {"en": own}}))
    assert texts.text_for(settings, MessageKind.missed_you, "en-GB", sensitive=False) == own
    assert texts.text_for(settings, MessageKind.missed_you, "pl", sensitive=False).subject == "Brakowało nam Ciebie"
    assert texts.text_for(settings, MessageKind.missed_you, "cy", sensitive=False) == own  # no Welsh text: hers
    assert texts.text_for(settings, MessageKind.missed_you, "en", sensitive=True).subject == "We missed you"


@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    tag=st.sampled_from(["en", "en-GB", "pl", "pl-PL", "cy", "gd", "zh-Hant", "xx"]),
)
def test_a_local_date_names_the_day_in_her_language_or_english(moment: datetime, tag: str) -> None:
    written = words.local_date(moment, tag)
    assert str(moment.day) in written.split(" ")
    language = words.language_of(tag)
    assert written.startswith(words.DAYS[language][moment.weekday()])
    assert words.MONTHS[language][moment.month - 1] in written
    if tag.split("-")[0] not in words.LANGUAGES:
        assert written == words.local_date(moment, "en") == f"{moment:%A} {moment.day} {moment:%B}"


@given(
    fields=st.dictionaries(
        st.sampled_from(sorted(EMAIL_FIELDS)), st.text(alphabet=st.characters(exclude_characters="()"), max_size=20)
    )
)
def test_every_built_in_email_text_is_filled_whole_and_holds_only_the_fields_it_is_given(
    fields: dict[str, str],
) -> None:
    for language, table in texts.BUILT_IN.items():
        assert set(table) == set(MessageKind), language
        for wording in table.values():
            filled = texts.fill(wording.subject + "\n" + wording.body, fields)
            assert "((" not in filled and "))" not in filled
            blank = texts.fill(wording.subject + "\n" + wording.body, {})
            assert len(filled) == len(blank) + sum(
                len(fields.get(name, "")) * (wording.subject + wording.body).count(f"(({name}))")
                for name in EMAIL_FIELDS
            )
