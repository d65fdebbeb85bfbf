"""Volunteer peer supporters: the coordinator's record and the volunteer's own view."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from api_schemas.common import (
    ApiModel,
    Availability,
    AvailabilityWindow,
    Code,
    Codes,
    DateRange,
    Email,
    Formats,
    Languages,
    Location,
    Name,
    Phone,
    Postcode,
)
from api_schemas.messages import ContactPreferences

Leave = Annotated[list[DateRange], Field(max_length=50)]


class Gender(StrEnum):
    female = "female"
    male = "male"
    non_binary = "non_binary"
    not_said = "not_said"


class CheckScheme(StrEnum):
    PVG = "PVG"
    DBS = "DBS"
    other = "other"


class VolunteerStatus(StrEnum):
    active = "active"
    paused = "paused"
    left = "left"


class Capacity(ApiModel):
    max_parents: int = Field(1, ge=1, le=10)
    max_sessions_per_week: int = Field(1, ge=1, le=20)


class BackgroundCheck(ApiModel):
    scheme: CheckScheme
    checked_on: date
    expires_on: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "BackgroundCheck":
        if self.expires_on is not None and self.expires_on < self.checked_on:
            raise ValueError("expires_on must not be before checked_on")
        return self


class VolunteerIn(ApiModel):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    gender: Gender = Gender.not_said
    languages: Languages
    formats: Formats
    postcode: Postcode | None = None
    location: Location | None = None
    max_travel_km: float = Field(10.0, ge=0, le=200)
    availability: Availability = []
    leave: Leave = []
    background: Codes = []
    experiences: Codes = []
    interests: Codes = []
    specialisms: Codes = []
    capacity: Capacity = Capacity()
    training_completed_on: date | None = None
    check: BackgroundCheck | None = None
    last_supervision_on: date | None = Field(
        None, description="Deprecated: record supervision at `/v1/volunteers/{id}/supervision` instead"
    )
    status: VolunteerStatus = VolunteerStatus.active
    contact_preferences: ContactPreferences = ContactPreferences()

    @model_validator(mode="after")
    def _one_place(self) -> "VolunteerIn":
        if self.postcode is not None and self.location is not None:
            raise ValueError("give postcode or location, not both")
        return self


class VolunteerPatch(ApiModel):
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    gender: Gender | None = None
    languages: Languages | None = None
    formats: Formats | None = None
    postcode: Postcode | None = None
    location: Location | None = None
    max_travel_km: float | None = Field(None, ge=0, le=200)
    availability: Availability | None = None
    leave: Leave | None = None
    background: Codes | None = None
    experiences: Codes | None = None
    interests: Codes | None = None
    specialisms: Codes | None = None
    capacity: Capacity | None = None
    training_completed_on: date | None = None
    check: BackgroundCheck | None = None
    last_supervision_on: date | None = Field(
        None, description="Deprecated: record supervision at `/v1/volunteers/{id}/supervision` instead"
    )
    status: VolunteerStatus | None = None
    left_reason: Code | None = Field(
        None, description="Why she leaves, a leave_reasons code; only with the move to status `left`"
    )
    contact_preferences: ContactPreferences | None = None

    @field_validator(
        "gender",
        "languages",
        "formats",
        "max_travel_km",
        "availability",
        "leave",
        "background",
        "experiences",
        "interests",
        "specialisms",
        "capacity",
        "status",
        mode="before",
    )
    @classmethod
    def _refuse_null(cls, value: Any) -> Any:
        return _not_null(value)


class MePatch(ApiModel):
    """What a volunteer may change on her own record."""

    availability: Availability | None = None
    leave: Leave | None = None
    email: Email | None = None
    phone: Phone | None = None
    contact_preferences: ContactPreferences | None = None

    @field_validator("availability", "leave", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any) -> Any:
        return _not_null(value)


def _not_null(value: Any) -> Any:
    """A field her record cannot be without: an explicit null is invalid (leave the field out to keep it)."""
    if value is None:
        raise ValueError("may not be null; leave the field out to keep its value")
    return value


class DueWhat(StrEnum):
    check = "check"  # the PVG/DBS check expires
    training = "training"  # a training module expires
    supervision = "supervision"  # the last supervision plus the programme's interval


class DueItem(BaseModel):
    what: DueWhat
    module: str | None = Field(None, description="The training module, for `training`")
    due_on: date = Field(description="The last day it holds (the check's or module's expiry, supervision's due date)")


class NotReadyReason(BaseModel):
    code: str = Field(
        description="untrained, check_missing, check_expired, check_expiring (it lapses before a new match's "
        "planned sessions would end), supervision_overdue, training_missing, training_expired, paused, left, "
        "on_leave, resting, full"
    )
    detail: str
    until: date | None = None


class VolunteerOut(BaseModel):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    contact_preferences: ContactPreferences
    gender: Gender
    languages: list[str]
    formats: list[str]
    postcode: str | None
    location: Location | None
    area: str | None
    max_travel_km: float
    availability: list[AvailabilityWindow]
    leave: list[DateRange]
    background: list[str]
    experiences: list[str]
    interests: list[str]
    specialisms: list[str]
    capacity: Capacity
    training_completed_on: date | None
    check: BackgroundCheck | None
    last_supervision_on: date | None = Field(
        description="Her latest supervision: the latest supervision record, or the date given before records"
    )
    status: VolunteerStatus
    left_reason: str | None = Field(None, description="Why she left (a leave_reasons code), while she is `left`")
    resting_until: date | None
    current_parents: int
    ready: bool
    not_ready_reasons: list[NotReadyReason]
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None = Field(
        None,
        description="Set when an admin erased her personal data; those "
        "fields are then null or empty and her status is `left`",
    )
    due: list[DueItem] = Field(
        [], description="Every dated renewal (check, training modules, supervision), soonest first"
    )


class SupervisionKind(StrEnum):
    one_to_one = "one_to_one"
    group = "group"
    reflective = "reflective"


class SupervisionIn(ApiModel):
    held_on: date
    kind: SupervisionKind
    supervisor: Name = Field(description="Who supervised")


class SupervisionOut(BaseModel):
    id: str
    volunteer_id: str
    held_on: date
    kind: SupervisionKind
    supervisor: str | None
    recorded_at: datetime


TrainingModule = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class TrainingIn(ApiModel):
    module: TrainingModule = Field(description="The module's code, as the programme names it (`safeguarding`)")
    completed_on: date
    expires_on: date | None = Field(None, description="When it lapses, if it does")

    @model_validator(mode="after")
    def _ordered(self) -> "TrainingIn":
        if self.expires_on is not None and self.expires_on < self.completed_on:
            raise ValueError("expires_on must not be before completed_on")
        return self


class TrainingOut(BaseModel):
    id: str
    volunteer_id: str
    module: str
    completed_on: date
    expires_on: date | None
    recorded_at: datetime
