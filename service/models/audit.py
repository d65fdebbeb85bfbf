from datetime import datetime

from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class AuditEvent(SQLModel, table=True):
    """Who did what to which record, and when; never personal data."""

    __tablename__ = "audit_event"

    id: str = Field(primary_key=True, max_length=36)
    at: datetime = Field(sa_column=utc_column(index=True))
    actor_key_id: str | None = Field(default=None, max_length=36)
    actor_role: str = Field(max_length=20)
    action: str = Field(max_length=60)
    record_type: str = Field(max_length=40)
    record_id: str = Field(max_length=36, index=True)
    request_id: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=500, description="codes or override reasons, no names")
