"""Shared wire types: a strict base model, problem details, pages and bounded field types."""

import re
from datetime import date, datetime
from enum import StrEnum
from itertools import pairwise
from types import UnionType
from typing import Annotated, Any, ClassVar, Generic, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

T = TypeVar("T")


def _json_kind(annotation: Any) -> str | None:
    """ "number", "boolean" or "date" when every non-null type the field takes is one; else None."""
    args = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    types = {get_args(a)[0] if get_origin(a) is Annotated else a for a in args} - {type(None)}
    if types == {bool}:
        return "boolean"
    if types and types <= {int, float}:
        return "number"
    if types and types <= {date, datetime}:
        return "date"
    return None


class ApiModel(BaseModel):
    """Every wire model rejects unknown fields, so a typo never silently drops data, NUL characters, which
    no database text column can hold, and anything but a JSON number or boolean where the schema says one."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Which fields must arrive as a JSON number or boolean, per class, worked out once rather than per request.
    _json_kinds: ClassVar[dict[str, str]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._json_kinds = {
            name: kind for name, field in cls.model_fields.items() if (kind := _json_kind(field.annotation)) is not None
        }

    # One validator for both checks: each is called for every field of every model of every request.
    @field_validator("*", mode="before")
    @classmethod
    def _json_types_and_no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        # Pydantic's lax mode would read true as 1, "5" as 5, and 1 or "yes" as true (consent, agreement).
        kind = cls._json_kinds.get(info.field_name or "")
        if kind == "number" and isinstance(value, bool | str):
            raise ValueError("must be a number")
        if kind == "boolean" and not isinstance(value, bool):
            raise ValueError("must be true or false")
        # Lax mode would also read a number as seconds since 1970.
        if kind == "date" and value is not None and not isinstance(value, str | date):
            raise ValueError("must be a date as a string (YYYY-MM-DD, or an ISO 8601 date-time)")
        # A nested model checks its own fields; here, the strings of this one (stripping never removes a NUL).
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("must not contain NUL characters")
        elif isinstance(value, list) and any(isinstance(item, str) and "\x00" in item for item in value):
            raise ValueError("must not contain NUL characters")
        return value


class ValidationItem(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ValidationItem] | None = None


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Note = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")]
LanguageTag = Annotated[str, StringConstraints(min_length=2, max_length=35, pattern=r"^[A-Za-z0-9-]+$")]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]

_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")


def normalise_postcode(value: str) -> str:
    """Upper-case a UK postcode with one space before the inward code; reject other shapes."""
    compact = re.sub(r"\s+", "", value.upper())
    match = _UK_POSTCODE.match(compact)
    if not match:
        raise ValueError("not a UK postcode (for example EH1 1YZ)")
    return f"{match.group(1)} {match.group(2)}"


def _phone(value: str) -> str:
    if not _PHONE.match(value):
        raise ValueError("not a phone number (digits, spaces, +, -, brackets; 7 to 20 characters)")
    return value


Postcode = Annotated[str, StringConstraints(max_length=10), AfterValidator(normalise_postcode)]
Phone = Annotated[str, StringConstraints(max_length=20), AfterValidator(_phone)]


class Day(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


class Format(StrEnum):
    home_visit = "home_visit"
    telephone = "telephone"
    in_person = "in_person"
    video = "video"


_CLOCK = r"^([01][0-9]|2[0-3]):(00|15|30|45)$|^24:00$"
ClockTime = Annotated[str, StringConstraints(pattern=_CLOCK)]


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


class AvailabilityWindow(ApiModel):
    """A weekly window in the programme's time zone, on quarter hours."""

    day: Day
    start: ClockTime = Field(description="HH:MM on a quarter hour")
    end: ClockTime = Field(description="HH:MM on a quarter hour, after start")

    @model_validator(mode="after")
    def _start_before_end(self) -> "AvailabilityWindow":
        if minutes(self.start) >= minutes(self.end):
            raise ValueError("start must be before end")
        return self


class Location(ApiModel):
    """Coordinates within the UK and its islands."""

    lat: float = Field(ge=49.0, le=61.0)
    lon: float = Field(ge=-9.0, le=2.5)


class DateRange(ApiModel):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "DateRange":
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


Languages = Annotated[list[LanguageTag], Field(min_length=1, max_length=10)]
Formats = Annotated[list[Format], Field(min_length=1, max_length=4)]
Codes = Annotated[list[Code], Field(max_length=30)]


def no_overlaps(windows: list[AvailabilityWindow]) -> list[AvailabilityWindow]:
    """Reject overlapping windows on the same day, which would double-count time."""
    by_day: dict[str, list[tuple[int, int]]] = {}
    for window in windows:
        by_day.setdefault(window.day, []).append((minutes(window.start), minutes(window.end)))
    for spans in by_day.values():
        spans.sort()
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise ValueError("availability windows on the same day overlap")
    return windows


Availability = Annotated[list[AvailabilityWindow], Field(max_length=50), AfterValidator(no_overlaps)]


class RecordMeta(BaseModel):
    id: str
    created_at: datetime
    updated_at: datetime


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
