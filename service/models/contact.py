from datetime import datetime

from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class Contact(SQLModel, table=True):
    """A contact with a parent: the volunteer's note after a session, or a coordinator's call, message or visit.
    The note is read by the programme's coordinators and by the volunteer who wrote it; it is erased with the
    referral and never copied into events, logs or feeds."""

    __tablename__ = "contact"

    id: str = Field(primary_key=True, max_length=36)
    referral_id: str = Field(foreign_key="referral.id", max_length=36, index=True)
    match_id: str | None = Field(default=None, foreign_key="match.id", max_length=36, index=True)
    session_id: str | None = Field(default=None, foreign_key="session.id", max_length=36, index=True)
    volunteer_id: str | None = Field(default=None, max_length=36, index=True, description="she wrote it")
    kind: str = Field(max_length=20)
    attended: bool | None = None
    format: str | None = Field(default=None, max_length=20)
    minutes: int | None = None
    note: str | None = Field(default=None, max_length=2000)
    concern: bool = False
    occurred_at: datetime = Field(sa_column=utc_column())
    recorded_by_key_id: str = Field(max_length=36)
    recorded_by_role: str = Field(max_length=20)
    recorded_at: datetime = Field(sa_column=utc_column())
