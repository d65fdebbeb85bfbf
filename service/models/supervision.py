from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class SupervisionRecord(SQLModel, table=True):
    """A supervision session a volunteer attended. The latest is her `last_supervision_on`."""

    __tablename__ = "supervision"

    id: str = Field(primary_key=True, max_length=36)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    held_on: date
    kind: str = Field(max_length=20)
    supervisor: str | None = Field(default=None, max_length=200)
    recorded_by_key_id: str = Field(max_length=36)
    recorded_at: datetime = Field(sa_column=utc_column())


class TrainingRecord(SQLModel, table=True):
    """A training module a volunteer completed, and when it lapses if it does."""

    __tablename__ = "training"

    id: str = Field(primary_key=True, max_length=36)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    module: str = Field(max_length=64)
    completed_on: date
    expires_on: date | None = None
    recorded_by_key_id: str = Field(max_length=36)
    recorded_at: datetime = Field(sa_column=utc_column())


class DueAlert(SQLModel, table=True):
    """A `volunteer.due_soon` alert raised, so each item and threshold is raised once. `item` is `check`,
    `supervision` or `training:<module>`; a renewal moves `due_on`, and the new date is alerted afresh."""

    __tablename__ = "due_alert"
    __table_args__ = (UniqueConstraint("volunteer_id", "item", "due_on", "days_before", name="uq_due_alert_once"),)

    id: str = Field(primary_key=True, max_length=36)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    item: str = Field(max_length=80)
    due_on: date
    days_before: int
    raised_at: datetime = Field(sa_column=utc_column())
