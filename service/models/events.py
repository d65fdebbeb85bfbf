from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class OutboxEvent(SQLModel, table=True):
    """An event written in the same transaction as the change that caused it. Ids, codes and times only."""

    __tablename__ = "outbox_event"

    id: str = Field(primary_key=True, max_length=36)
    type: str = Field(max_length=40, index=True)
    record_type: str = Field(max_length=20)
    record_id: str = Field(max_length=36, index=True)
    payload: Any = Field(sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(sa_column=utc_column(index=True))


class Webhook(SQLModel, table=True):
    __tablename__ = "webhook"

    id: str = Field(primary_key=True, max_length=36)
    url: str = Field(max_length=500)
    events: Any = Field(sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=200, description="Needed in clear to sign; never returned")
    # The secret before the last rotation signs too until it expires, so receivers can switch over.
    previous_secret: str | None = Field(default=None, max_length=200)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Delivery(SQLModel, table=True):
    """One event to one webhook: attempted until delivered or dead."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id", name="uq_delivery_webhook_event"),)

    id: str = Field(primary_key=True, max_length=36)
    webhook_id: str = Field(foreign_key="webhook.id", max_length=36, index=True)
    event_id: str = Field(foreign_key="outbox_event.id", max_length=36, index=True)
    record_id: str = Field(max_length=36, index=True)
    status: str = Field(max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=utc_column(index=True))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
