"""Venues for in-person sessions: where they are, when they are open, how many sessions they hold at once."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator, model_validator

from api_schemas.common import ApiModel, ClockTime, Day, Name, Postcode, minutes, no_overlaps

AddressLine = Annotated[str, StringConstraints(min_length=1, max_length=100)]
AddressLines = Annotated[list[AddressLine], Field(min_length=1, max_length=4)]
VenueNotes = Annotated[str, StringConstraints(max_length=1000)]


class Address(ApiModel):
    """A postal address: up to four lines and a UK postcode."""

    lines: AddressLines
    postcode: Postcode


class OpeningHours(ApiModel):
    """One weekly opening in the programme's time zone, on quarter hours (as the planner plans)."""

    day: Day
    start: ClockTime = Field(description="HH:MM on a quarter hour")
    end: ClockTime = Field(description="HH:MM on a quarter hour, after start")

    @model_validator(mode="after")
    def _start_before_end(self) -> "OpeningHours":
        if minutes(self.start) >= minutes(self.end):
            raise ValueError("start must be before end")
        return self


def _no_overlapping_hours(hours: list[OpeningHours]) -> list[OpeningHours]:
    try:
        no_overlaps(hours)  # type: ignore[arg-type]  # the same shape as availability windows
    except ValueError:
        raise ValueError("opening hours on the same day overlap") from None
    return hours


Hours = Annotated[list[OpeningHours], Field(max_length=50), AfterValidator(_no_overlapping_hours)]
Rooms = Annotated[int, Field(ge=1, le=50, description="How many sessions it can hold at once")]


class VenueIn(ApiModel):
    name: Name
    address: Address
    opening_hours: Hours = Field(description="A venue with none is never chosen for a session")
    rooms: Rooms = 1
    notes: VenueNotes | None = Field(None, description="Step-free access, baby changing, crèche")
    active: bool = True


class VenuePatch(ApiModel):
    """Only the fields given change; `null` is refused where a venue must have a value."""

    name: Name | None = None
    address: Address | None = None
    opening_hours: Hours | None = None
    rooms: Rooms | None = None
    notes: VenueNotes | None = None
    active: bool | None = None

    @field_validator("name", "address", "opening_hours", "rooms", "active", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value


class VenueOut(BaseModel):
    id: str
    name: str
    address: Address
    area: str | None = Field(description="The postcode district")
    opening_hours: list[OpeningHours]
    rooms: int
    notes: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class VenueRef(BaseModel):
    """Where an in-person proposal, match or session meets."""

    id: str
    name: str
    address: Address
