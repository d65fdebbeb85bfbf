from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class Concern(SQLModel, table=True):
    """A safeguarding concern about a parent or her child. The account and the notes are special-category
    data: they are read only by safeguarding leads, erased with the referral, and never copied anywhere else."""

    __tablename__ = "concern"

    id: str = Field(primary_key=True, max_length=36)
    referral_id: str = Field(foreign_key="referral.id", max_length=36, index=True)
    match_id: str | None = Field(default=None, foreign_key="match.id", max_length=36, index=True)
    volunteer_id: str | None = Field(default=None, max_length=36, index=True, description="she raised it")
    raised_by_key_id: str = Field(max_length=36)
    raised_by_role: str = Field(max_length=20)
    category: str = Field(max_length=30)
    blocking: bool = False
    status: str = Field(max_length=20, index=True)
    what_happened: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    occurred_at: datetime = Field(sa_column=utc_column())
    immediate_action: str | None = Field(default=None, max_length=2000)
    outcome: str | None = Field(default=None, max_length=40)
    outcome_note: str | None = Field(default=None, max_length=2000)
    raised_at: datetime = Field(sa_column=utc_column(index=True))
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closed_by_key_id: str | None = Field(default=None, max_length=36)
    updated_at: datetime = Field(sa_column=utc_column())
    version: int = 1


class ConcernActionRecord(SQLModel, table=True):
    """An action a safeguarding lead took on a concern."""

    __tablename__ = "concern_action"

    id: str = Field(primary_key=True, max_length=36)
    concern_id: str = Field(foreign_key="concern.id", max_length=36, index=True)
    action: str = Field(max_length=40)
    note: str | None = Field(default=None, max_length=2000)
    recorded_at: datetime = Field(sa_column=utc_column())
    recorded_by_key_id: str = Field(max_length=36)
