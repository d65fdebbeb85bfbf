from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class Match(SQLModel, table=True):
    """A parent and a volunteer from acceptance to their ending. It holds a place of the volunteer's
    capacity from `pending` until it ends, is declined or cancelled."""

    __tablename__ = "match"

    id: str = Field(primary_key=True, max_length=36)
    referral_id: str = Field(foreign_key="referral.id", max_length=36, index=True)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    proposal_id: str | None = Field(default=None, foreign_key="proposal.id", max_length=36)
    status: str = Field(max_length=20, index=True)
    format: str = Field(max_length=20)
    venue_id: str | None = Field(default=None, foreign_key="venue.id", max_length=36, index=True)  # in person
    score: int | None = None
    reasons: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    override_reason: str | None = Field(default=None, max_length=500)
    planned_sessions: int
    extension_sessions: int = 0
    outcome: str | None = Field(default=None, max_length=20)
    end_reason: str | None = Field(default=None, max_length=64)
    ended_initiated_by: str | None = Field(default=None, max_length=20)
    unplanned_reason: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_column=utc_column(index=True))
    confirmed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_on: date | None = None
    ending_soon_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))  # sent once
    # Why the match is paused (`risk_review`, `concern`); its sessions are on hold while any reason remains.
    hold_reasons: Any = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hold_until: date | None = None  # a risk review's pause lifts on this day
    updated_at: datetime = Field(sa_column=utc_column())
    version: int = 1


class SupportSession(SQLModel, table=True):
    """One planned weekly meeting. Times are UTC; `sequence` counts changes for calendar feeds."""

    __tablename__ = "session"

    id: str = Field(primary_key=True, max_length=36)
    match_id: str = Field(foreign_key="match.id", max_length=36, index=True)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    number: int
    kind: str = Field(max_length=30)
    starts_at: datetime = Field(sa_column=utc_column(index=True))
    ends_at: datetime = Field(sa_column=utc_column())
    format: str = Field(max_length=20)
    venue_id: str | None = Field(default=None, foreign_key="venue.id", max_length=36, index=True)  # in person
    status: str = Field(max_length=20, index=True)
    sequence: int = 0
    cancelled_by: str | None = Field(default=None, max_length=20)
    cancel_reason: str | None = Field(default=None, max_length=64)
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))  # sent once
    # Lone working on home visits: her check-in and check-out, and the missed check-out alert (raised once).
    checked_in_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    checked_out_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    safety_alerted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    updated_at: datetime = Field(sa_column=utc_column())
