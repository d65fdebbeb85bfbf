"""Webhooks and their deliveries."""

import base64
import binascii
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

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
    volunteer_safety_check_missed = "volunteer.safety_check_missed"
    volunteer_due_soon = "volunteer.due_soon"
    all = "*"


SECRET_PREFIX = "whsec_"


def _checked_secret(secret: str | None) -> str | None:
    # A `whsec_` secret is base64 of 24 to 64 random bytes (Standard Webhooks); a plain one (v1.0) stays allowed.
    if secret is None or not secret.startswith(SECRET_PREFIX):
        return secret
    try:
        encoded = secret.removeprefix(SECRET_PREFIX)
        size = len(base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True))  # padding optional
    except binascii.Error:
        raise ValueError("a whsec_ secret must be whsec_ followed by base64") from None
    if not 24 <= size <= 64:
        raise ValueError("a whsec_ secret must hold 24 to 64 bytes")
    return secret


Secret = Annotated[
    str,
    StringConstraints(min_length=16, max_length=200),
    AfterValidator(_checked_secret),
    Field(
        description="`whsec_` + base64 of 24 to 64 random bytes (Standard Webhooks), or a plain string of 16 or "
        "more characters (v1.0; a receiver's Standard Webhooks library takes it as `whsec_` + base64 of its UTF-8 "
        "bytes). Omit it and the service generates one, returned once. Never returned otherwise.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ),
]


class WebhookIn(ApiModel):
    url: Annotated[str, StringConstraints(min_length=8, max_length=500)]
    events: Annotated[list[EventType], Field(min_length=1, max_length=20)]
    secret: Secret | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="While set, deliveries are signed with the previous secret too, until then"
    )


class WebhookCreated(WebhookOut):
    secret: str | None = Field(
        description="The secret the service generated, shown this once; null when the request gave its own"
    )


class SecretRotationIn(ApiModel):
    secret: Secret | None = None
    grace_period_hours: Annotated[int, Field(ge=0, le=168)] = Field(
        default=24, description="How long the previous secret keeps signing deliveries beside the new one"
    )


class SecretRotated(BaseModel):
    secret: str | None = Field(
        description="The new secret if the service generated it, shown this once; null when the request gave it"
    )
    previous_secret_expires_at: datetime = Field(description="Until then every delivery carries both signatures")


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
