from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.columns import json_column, utc_column


class Referral(SQLModel, table=True):
    """A referred parent. Personal fields are nullable so that erasure can clear them and keep the counts."""

    __tablename__ = "referral"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_referral_source_external_id"),)

    id: str = Field(primary_key=True, max_length=36)
    source: str = Field(max_length=100, index=True)
    external_id: str | None = Field(default=None, max_length=100)
    created_by_key_id: str | None = Field(default=None, max_length=36)
    status: str = Field(max_length=20, index=True)
    referrer_organisation: str | None = Field(default=None, max_length=200)
    referrer_role: str = Field(max_length=30)
    parent_name: str | None = Field(default=None, max_length=200)
    parent_role: str = Field(max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    postcode: str | None = Field(default=None, max_length=10)
    lat: float | None = None
    lon: float | None = None
    location_precision: str | None = Field(default=None, max_length=20)
    # The parent's home address, for home visits only: shown to her volunteer while their match is accepted.
    address_lines: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    access_notes: str | None = Field(default=None, max_length=500)
    max_travel_km: float | None = None  # her own reach to a venue; the programme's default when None
    area: str | None = Field(default=None, max_length=10, index=True)
    simd_quintile: int | None = None  # 1 most deprived to 5, as the referrer gave it; for reports
    due_date: date | None = None
    baby_birth_date: date | None = None
    languages: Any = Field(sa_column=json_column())
    formats: Any = Field(sa_column=json_column())
    availability: Any = Field(sa_column=json_column())
    background: Any = Field(sa_column=json_column())
    experiences: Any = Field(sa_column=json_column())
    interests: Any = Field(sa_column=json_column())
    volunteer_gender: str = Field(default="any", max_length=20)
    must_match: Any = Field(sa_column=json_column())
    # The Needs wire model as JSON ({"specialisms": [...], "interpreter": {...} | null}); null: none.
    needs: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    consent_share: bool
    consent_contact: bool
    consent_given_on: date
    # ContactPreferences as JSON; null means none chosen (no messages).
    contact_preferences: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    priority: bool = False
    risk_review_pending: bool = False
    paused_until: date | None = None  # a risk review paused her (escalated) until this day
    withdrawn_reason: str | None = Field(default=None, max_length=500)
    received_at: datetime = Field(sa_column=utc_column(index=True))
    updated_at: datetime = Field(sa_column=utc_column())
    erased_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    version: int = 1
