from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class Measure(SQLModel, table=True):
    __tablename__ = "measure"

    id: str = Field(primary_key=True, max_length=36)
    referral_id: str = Field(foreign_key="referral.id", max_length=36, index=True)
    instrument: str = Field(max_length=10)
    answers: Any = Field(sa_column=Column(JSON, nullable=False))
    total: int
    self_harm_item: int
    timepoint: str = Field(max_length=10)
    completed_on: date
    recorded_at: datetime = Field(sa_column=utc_column())
    recorded_by_key_id: str | None = Field(default=None, max_length=36)


class RiskReview(SQLModel, table=True):
    __tablename__ = "risk_review"

    id: str = Field(primary_key=True, max_length=36)
    referral_id: str = Field(foreign_key="referral.id", max_length=36, index=True)
    outcome: str = Field(max_length=40)
    until: date | None = None
    note: str | None = Field(default=None, max_length=2000, description="clinical note; erased with the referral")
    reviewed_at: datetime = Field(sa_column=utc_column())
    reviewer_key_id: str | None = Field(default=None, max_length=36)
