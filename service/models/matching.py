from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class MatchRun(SQLModel, table=True):
    """One solve of the matching model, kept with its stats and the reasons some were left unmatched."""

    __tablename__ = "match_run"

    id: str = Field(primary_key=True, max_length=36)
    created_at: datetime = Field(sa_column=utc_column(index=True))
    created_by_key_id: str | None = Field(default=None, max_length=36)
    referrals: int
    volunteers: int
    candidate_pairs: int
    matched: int
    total_score: int
    optimal: bool
    candidate_seconds: float
    solve_seconds: float
    unmatched: Any = Field(sa_column=Column(JSON, nullable=False))
    # A run is a job: queued, then its stages, then done or failed (match_runs/lifecycle.py).
    status: str = Field(default="queued", max_length=12, index=True)
    referral_ids: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    progress: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str | None = Field(default=None, max_length=300)
    updated_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Proposal(SQLModel, table=True):
    __tablename__ = "proposal"

    id: str = Field(primary_key=True, max_length=36)
    run_id: str = Field(foreign_key="match_run.id", max_length=36, index=True)
    referral_id: str = Field(foreign_key="referral.id", max_length=36, index=True)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    score: int
    fit: int
    format: str = Field(max_length=20)
    venue_id: str | None = Field(default=None, foreign_key="venue.id", max_length=36)  # in person
    reasons: Any = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20, index=True)
    reject_reason: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ExcludedPair(SQLModel, table=True):
    """A pair never proposed again: rejected by a coordinator or declined by the volunteer."""

    __tablename__ = "excluded_pair"
    __table_args__ = (UniqueConstraint("referral_id", "volunteer_id", name="uq_excluded_pair_referral_volunteer"),)

    id: str = Field(primary_key=True, max_length=36)
    referral_id: str = Field(foreign_key="referral.id", max_length=36, index=True)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36)
    cause: str = Field(max_length=20)
    at: datetime = Field(sa_column=utc_column())
