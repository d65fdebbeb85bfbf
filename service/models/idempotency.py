from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("caller_key_id", "route", "key", name="uq_idempotency_caller_route_key"),)

    id: str = Field(primary_key=True, max_length=36)
    caller_key_id: str = Field(max_length=36)
    route: str = Field(max_length=100)
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    response_status: int | None = None
    response_body: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    location: str | None = Field(default=None, max_length=300)
    etag: str | None = Field(default=None, max_length=40)  # replayed with the body, as the first answer had it
    created_at: datetime = Field(sa_column=utc_column(index=True))
