from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class Message(SQLModel, table=True):
    """One SMS or email to a parent or a volunteer, written in the transaction of the change it tells of.

    It holds personalisation fields only (first names, format, local time); the number or address is read from
    her record when it is sent, so a change of mind (a new number, `none`, consent withdrawn) applies at once.
    Its id is Notify's `reference`: a send retried after a crash is first looked up by it, never repeated."""

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("event_id", "recipient_type", name="uq_message_event_recipient"),)

    id: str = Field(primary_key=True, max_length=36)
    event_id: str = Field(max_length=36)
    recipient_type: str = Field(max_length=20)
    recipient_id: str = Field(max_length=36, index=True)
    match_id: str | None = Field(default=None, max_length=36)
    session_id: str | None = Field(default=None, max_length=36)
    kind: str = Field(max_length=30)
    channel: str = Field(max_length=10)
    language: str = Field(max_length=35)
    template_id: str | None = Field(default=None, max_length=64)
    personalisation: Any = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=utc_column(index=True))
    notify_id: str | None = Field(default=None, max_length=64, index=True)
    last_error: str | None = Field(default=None, max_length=300)
    withheld_reason: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_column=utc_column(index=True))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
