"""What a webhook receives: the envelope every delivery shares, and each event type's `data`.

Ids, codes and times only, never personal or health data. The OpenAPI document's `webhooks` section is built
from `EVENT_DATA`, and a test checks it against the fields the service raises.
"""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api_schemas.events import EventType
from api_schemas.matching import CoverChoice, InitiatedBy
from api_schemas.referrals import ReferralStatus
from api_schemas.sessions import SessionKind

SESSION_ID = "The support session's id"
STARTS_AT = "When the session starts (UTC)"


def _example(**example: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class RecordRef(BaseModel):
    type: Literal["referral", "match", "volunteer", "concern"] = Field(
        description="The kind of record the event is about"
    )
    id: str


class WebhookEnvelope(BaseModel):
    """The JSON body of every delivery. `id` is also the `webhook-id` header, the same on every retry."""

    model_config = _example(
        id="01JH2N6Q8W3ZP4T7B9C1D5E6F0",
        type="match.confirmed",
        occurred_at="2027-01-05T09:00:00+00:00",
        record={"type": "match", "id": "01JH2N5X0R4S7V8W9Y1Z2A3B4C"},
        data={"first_session_at": "2027-01-12T10:00:00+00:00", "last_session_at": "2027-03-30T10:00:00+00:00"},
        sent_at="2027-01-05T09:00:01.204512+00:00",
    )

    id: str = Field(description="The event's id; deduplicate on it (delivery is at least once)")
    type: EventType
    occurred_at: datetime
    record: RecordRef
    data: dict[str, Any] = Field(description="The event type's own fields; see each webhook")
    sent_at: datetime = Field(description="When this attempt was sent; `webhook-timestamp` in whole seconds")


class ReferralReceived(BaseModel):
    model_config = _example(source="nhs-lothian", received_at="2027-01-05T09:00:00+00:00")
    source: str = Field(description="The referring system's source name (`coordinator` for self-referrals)")
    received_at: datetime


class ReferralEscalated(BaseModel):
    model_config = _example(status="escalated")
    status: ReferralStatus = Field(description="The referral's status after the escalation")


class SafetyAlert(BaseModel):
    model_config = _example(measure_id="01JH2P0A", reason="epds_item_10_positive", completed_on="2027-01-05")
    measure_id: str = Field(description="The EPDS measure that raised the alert")
    reason: Literal["epds_item_10_positive"]
    completed_on: date


class MatchProposed(BaseModel):
    model_config = _example(referral_id="01JH2N4K", volunteer_id="01JH2M9T")
    referral_id: str
    volunteer_id: str


class MatchConfirmed(BaseModel):
    model_config = _example(first_session_at="2027-01-12T10:00:00+00:00", last_session_at="2027-03-30T10:00:00+00:00")
    first_session_at: datetime
    last_session_at: datetime


class MatchDeclined(BaseModel):
    model_config = _example(referral_id="01JH2N4K")
    referral_id: str = Field(description="The referral, back to waiting")


class SessionScheduled(BaseModel):
    model_config = _example(session_id="01JH2Q1B", number=1, kind="regular", starts_at="2027-01-12T10:00:00+00:00")
    session_id: str = Field(description=SESSION_ID)
    number: int = Field(description="Its place in the match's plan, from 1")
    kind: SessionKind
    starts_at: datetime = Field(description=STARTS_AT)


class SessionChanged(BaseModel):
    model_config = _example(session_id="01JH2Q1B", starts_at="2027-01-19T10:00:00+00:00", cause="leave")
    session_id: str = Field(description=SESSION_ID)
    starts_at: datetime = Field(description="When the session starts now (UTC)")
    cause: Literal["leave", "cover", "resumed"] | None = Field(
        default=None,
        description="Absent when rescheduled by hand; `leave`, `cover` or `resumed` (a pause lifted) when moved by "
        "the service",
    )
    covered_by: str | None = Field(default=None, description="The covering volunteer's id, for a cover")


class SessionCancelled(BaseModel):
    model_config = _example(session_id="01JH2Q1B", starts_at="2027-01-12T10:00:00+00:00")
    session_id: str = Field(description=SESSION_ID)
    starts_at: datetime = Field(description=STARTS_AT)


class SessionReminder(BaseModel):
    model_config = _example(session_id="01JH2Q1B", starts_at="2027-01-12T10:00:00+00:00")
    session_id: str = Field(description=SESSION_ID)
    starts_at: datetime = Field(description=STARTS_AT)


class SessionNeedsCover(BaseModel):
    model_config = _example(
        session_id="01JH2Q1B",
        starts_at="2027-01-12T10:00:00+00:00",
        cause="leave",
        choices=["wait_for_return", "rematch"],
    )
    session_id: str = Field(description=SESSION_ID)
    starts_at: datetime = Field(description=STARTS_AT)
    cause: Literal["leave", "check_lapsed"]
    choices: list[CoverChoice] = Field(description="What a coordinator may choose (`POST /v1/matches/{id}/cover`)")


class MatchEndingSoon(BaseModel):
    model_config = _example(session_id="01JH2Q9Z", ending_conversation_at="2027-03-23T10:00:00+00:00")
    session_id: str = Field(description="The ending conversation session")
    ending_conversation_at: datetime


class MatchEnded(BaseModel):
    model_config = _example(outcome="ended_early", reason="moved_away", initiated_by="parent", rematch=True)
    outcome: Literal["completed", "ended_early"]
    reason: str = Field(description="An end_reasons code (`GET /v1/vocabulary`)")
    initiated_by: InitiatedBy
    rematch: bool = Field(description="The referral goes back to waiting, ahead of newer ones")


class MatchAttendanceAlert(BaseModel):
    model_config = _example(reason="two_missed_in_a_row", session_id="01JH2Q1B")
    reason: Literal["two_missed_in_a_row"]
    session_id: str = Field(description="The second missed session")


class VolunteerNotReady(BaseModel):
    model_config = _example(reason="check_expired")
    reason: Literal["check_expired", "supervision_overdue", "training_expired"]


class MatchBirthPause(BaseModel):
    model_config = _example(pause_starts_on="2027-01-26", pause_ends_on="2027-03-02", offer="telephone_check_in")
    pause_starts_on: date = Field(description="The first day with no session")
    pause_ends_on: date = Field(description="The last day with no session")
    offer: Literal["telephone_check_in"] = Field(description="What the coordinator offers the parent in the pause")


class MatchPaused(BaseModel):
    model_config = _example(until="2027-02-01")
    until: date | None = Field(description="When a dated pause lifts; null until a further review or a close")


class MatchResumed(BaseModel):
    model_config = _example()


class SessionOnHold(BaseModel):
    model_config = _example(session_id="01JH2Q1B", starts_at="2027-01-19T10:00:00+00:00")
    session_id: str = Field(description=SESSION_ID)
    starts_at: datetime = Field(description=STARTS_AT)


class SafetyConcern(BaseModel):
    model_config = _example(
        referral_id="01JH2N5X", match_id="01JH2P0A", category="parent_wellbeing", lead_key_ids=["01JH2K7C"]
    )
    referral_id: str
    match_id: str | None
    category: str = Field(description="The concern's category code; never what was seen or said")
    lead_key_ids: list[str] = Field(description="The safeguarding leads' keys alerted")


class MessageFailed(BaseModel):
    model_config = _example(message_id="01JH2R3D", kind="session_reminder", channel="sms", match_id="01JH2P0A")
    message_id: str
    kind: str = Field(description="The message kind (`session_reminder`, …)")
    channel: Literal["sms", "email"]
    match_id: str | None


class VolunteerSafetyCheckMissed(BaseModel):
    model_config = _example(
        session_id="01JH2Q1B",
        match_id="01JH2P0A",
        planned_end_at="2027-01-12T11:00:00+00:00",
        checked_in_at="2027-01-12T10:02:00+00:00",
        coordinator_key_ids=["01JH2K7C"],
    )
    session_id: str = Field(description="The home visit with no check-out")
    match_id: str
    planned_end_at: datetime = Field(description="When the visit was planned to end (UTC)")
    checked_in_at: datetime | None = Field(description="When she checked in; null if she never did")
    coordinator_key_ids: list[str] = Field(description="The coordinators' keys alerted")


class Erased(BaseModel):
    model_config = _example(erased_at="2027-01-05T09:00:00+00:00")
    erased_at: datetime


class VolunteerDueSoon(BaseModel):
    model_config = _example(what="check", module=None, due_on="2027-02-01", days_before=30)
    what: Literal["check", "training", "supervision"] = Field(
        description="The PVG/DBS check's expiry, a training module's expiry, or supervision falling due"
    )
    module: str | None = Field(description="The training module's code, for `training`")
    due_on: date = Field(description="The last day it holds")
    days_before: Literal[60, 30, 7] = Field(description="The alert threshold crossed; each is raised once")


EVENT_DATA: dict[EventType, type[BaseModel]] = {
    EventType.referral_received: ReferralReceived,
    EventType.referral_escalated: ReferralEscalated,
    EventType.safety_alert: SafetyAlert,
    EventType.match_proposed: MatchProposed,
    EventType.match_confirmed: MatchConfirmed,
    EventType.match_declined: MatchDeclined,
    EventType.session_scheduled: SessionScheduled,
    EventType.session_changed: SessionChanged,
    EventType.session_cancelled: SessionCancelled,
    EventType.session_reminder: SessionReminder,
    EventType.session_needs_cover: SessionNeedsCover,
    EventType.match_ending_soon: MatchEndingSoon,
    EventType.match_ended: MatchEnded,
    EventType.match_attendance_alert: MatchAttendanceAlert,
    EventType.volunteer_not_ready: VolunteerNotReady,
    EventType.referral_erased: Erased,
    EventType.volunteer_erased: Erased,
    EventType.match_birth_pause: MatchBirthPause,
    EventType.match_paused: MatchPaused,
    EventType.match_resumed: MatchResumed,
    EventType.session_on_hold: SessionOnHold,
    EventType.safety_concern: SafetyConcern,
    EventType.message_failed: MessageFailed,
    EventType.volunteer_safety_check_missed: VolunteerSafetyCheckMissed,
    EventType.volunteer_due_soon: VolunteerDueSoon,
}
