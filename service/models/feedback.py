from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.columns import json_column, utc_column


class Feedback(SQLModel, table=True):
    """One respondent's answers to the end-of-support questionnaire for a match: once per parent and volunteer."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("match_id", "respondent", name="uq_feedback_match_id_respondent"),)

    id: str = Field(primary_key=True, max_length=36)
    match_id: str = Field(foreign_key="match.id", max_length=36, index=True)
    respondent: str = Field(max_length=20)
    answers: Any = Field(sa_column=json_column())  # by item code, as validated against the questionnaire then
    recorded_by_key_id: str | None = Field(default=None, max_length=36)
    recorded_at: datetime = Field(sa_column=utc_column())
