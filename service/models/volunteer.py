from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.models.columns import json_column, utc_column


class Volunteer(SQLModel, table=True):
    __tablename__ = "volunteer"

    id: str = Field(primary_key=True, max_length=36)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    gender: str = Field(default="not_said", max_length=20)
    languages: Any = Field(sa_column=json_column())
    formats: Any = Field(sa_column=json_column())
    postcode: str | None = Field(default=None, max_length=10)
    lat: float | None = None
    lon: float | None = None
    location_precision: str | None = Field(default=None, max_length=20)
    area: str | None = Field(default=None, max_length=10, index=True)
    max_travel_km: float = 10.0
    availability: Any = Field(sa_column=json_column())
    leave: Any = Field(sa_column=json_column())
    background: Any = Field(sa_column=json_column())
    experiences: Any = Field(sa_column=json_column())
    interests: Any = Field(sa_column=json_column())
    specialisms: Any = Field(sa_column=json_column())
    max_parents: int = 1
    max_sessions_per_week: int = 1
    training_completed_on: date | None = None
    check_scheme: str | None = Field(default=None, max_length=10)
    check_checked_on: date | None = None
    check_expires_on: date | None = None
    # The latest supervision record's date (or the date given before records existed): kept with each record.
    last_supervision_on: date | None = None
    status: str = Field(default="active", max_length=10, index=True)
    left_reason: str | None = Field(default=None, max_length=64)  # a leave_reasons code, while she is left
    resting_until: date | None = None
    calendar_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    alerted_not_ready: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    # ContactPreferences as JSON; null means none chosen (no messages).
    contact_preferences: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Her latest completion of each training module, {module: {"completed_on", "expires_on"}}, kept with each
    # training record so readiness needs no query.
    training: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(sa_column=utc_column(index=True))
    updated_at: datetime = Field(sa_column=utc_column())
    erased_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    version: int = 1
