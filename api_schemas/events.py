"""Webhooks and their deliveries."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from api_schemas.common import ApiModel


class EventType(StrEnum):
    referral_received = "referral.received"
    referral_escalated = "referral.escalated"
    safety_alert = "safety.alert"
    match_proposed = "match.proposed"
    match_confirmed = "match.confirmed"
    match_declined = "match.declined"
    session_scheduled = "session.scheduled"
    session_changed = "session.changed"
    session_cancelled = "session.cancelled"
    session_reminder = "session.reminder"
    session_needs_cover = "session.needs_cover"
    match_birth_pause = "match.birth_pause"  # sessions pause around the birth: offer a telephone check-in
    match_ending_soon = "match.ending_soon"
    match_ended = "match.ended"
    match_attendance_alert = "match.attendance_alert"
    volunteer_not_ready = "volunteer.not_ready"
    referral_erased = "referral.erased"
    volunteer_erased = "volunteer.erased"
    safety_concern = "safety.concern"
    match_paused = "match.paused"
    match_resumed = "match.resumed"
    session_on_hold = "session.on_hold"
    message_failed = "message.failed"
    all = "*"


class WebhookIn(ApiModel):
    url: Annotated[str, StringConstraints(min_length=8, max_length=500)]
    events: Annotated[list[EventType], Field(min_length=1, max_length=20)]
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] = Field(
        description="Shared secret for X-Peer-Match-Signature; never returned"
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    dead = "dead"


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
