from datetime import datetime

from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    source: str | None = Field(default=None, max_length=100, description="integrators: the source name")
    volunteer_id: str | None = Field(default=None, max_length=36, index=True)
    # A coordinator designated as a safeguarding lead: alerted to concerns, reads and closes them.
    safeguarding_lead: bool = False
    secret_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
