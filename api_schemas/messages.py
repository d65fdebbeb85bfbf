"""Messages to parents and volunteers (SMS, email) and how each person wants to be told."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from api_schemas.common import ApiModel, LanguageTag

ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class ContactChannel(StrEnum):
    sms = "sms"
    email = "email"
    none = "none"


class QuietHours(ApiModel):
    """Local times (the programme's zone) between which nothing is sent; start after end spans midnight."""

    start: ClockTime = "21:00"
    end: ClockTime = "08:00"


class ContactPreferences(ApiModel):
    """How a person wants to be told. The number and address are the record's own `phone` and `email`."""

    channel: ContactChannel = ContactChannel.none
    language: LanguageTag = "en"
    quiet_hours: QuietHours | None = Field(None, description="Her own quiet hours; the programme's when absent")


class MessageKind(StrEnum):
    match_confirmed = "match_confirmed"
    session_reminder = "session_reminder"
    session_changed = "session_changed"
    session_cancelled = "session_cancelled"
    ending_soon = "ending_soon"
    missed_you = "missed_you"
    match_offered = "match_offered"
    plan_changed = "plan_changed"
    check_in_prompt = "check_in_prompt"


class MessageStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    permanent_failure = "permanent-failure"
    temporary_failure = "temporary-failure"
    technical_failure = "technical-failure"
    withheld = "withheld"


class MessageOut(BaseModel):
    """What was sent, when, and what became of it; never the body (it lives in the template)."""

    id: str
    recipient: str = Field(description="referral or volunteer")
    kind: MessageKind
    channel: str
    language: str
    status: MessageStatus
    attempts: int
    created_at: datetime
    not_before: datetime = Field(description="When it may next be sent (after quiet hours, or the next retry)")
    sent_at: datetime | None
    completed_at: datetime | None
    withheld_reason: str | None


class NotifyCallbackIn(BaseModel):
    """GOV.UK Notify's delivery receipt; only the fields the service reads (the rest, `to` included, ignored)."""

    id: Annotated[str, StringConstraints(max_length=64)]
    reference: Annotated[str, StringConstraints(max_length=64)] | None = None
    status: Annotated[str, StringConstraints(max_length=40)]


def missing_address(preferences: ContactPreferences, *, phone: str | None, email: str | None) -> str | None:
    """What the chosen channel lacks ("a phone number for sms"), or None when it can be used."""
    if preferences.channel is ContactChannel.sms and phone is None:
        return "a phone number is needed for sms"
    if preferences.channel is ContactChannel.email and email is None:
        return "an email address is needed for email"
    return None
