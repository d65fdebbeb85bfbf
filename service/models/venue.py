from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.models.columns import utc_column


class Venue(SQLModel, table=True):
    """A place where in-person sessions are held: a community centre, a family hub, a library room.
    `opening_hours` is a list of `{"day": "mon", "start": "09:00", "end": "17:00"}` in the programme's time zone;
    `rooms` is how many sessions it can hold at once."""

    __tablename__ = "venue"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    address_lines: Any = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    postcode: str = Field(max_length=10)
    lat: float | None = None
    lon: float | None = None
    area: str | None = Field(default=None, max_length=10, index=True)
    opening_hours: Any = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rooms: int = 1
    notes: str | None = Field(default=None, max_length=1000)
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())
    version: int = 1
