"""Sessions of a match, and the changes people make to them."""

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from api_schemas.common import ApiModel, Code, Day
from api_schemas.venues import VenueRef


class SessionKind(StrEnum):
    regular = "regular"
    ending_conversation = "ending_conversation"
    closing = "closing"


class SessionStatus(StrEnum):
    planned = "planned"
    attended = "attended"
    missed = "missed"
    cancelled = "cancelled"
    needs_cover = "needs_cover"  # she cannot be there (leave) and no other time was found: a coordinator chooses
    on_hold = "on_hold"  # the match is paused (a risk review, a blocking concern): planned again when it resumes


class SessionOut(BaseModel):
    id: str
    match_id: str
    number: int
    kind: SessionKind
    starts_at: datetime
    ends_at: datetime
    format: str
    status: SessionStatus
    venue: VenueRef | None = Field(None, description="Where an in-person session meets; null for other formats")


class Attendance(StrEnum):
    attended = "attended"
    missed = "missed"


class AttendanceIn(ApiModel):
    status: Attendance


class CancelledBy(StrEnum):
    parent = "parent"
    volunteer = "volunteer"
    coordinator = "coordinator"


class CancelIn(ApiModel):
    """Who asked to cancel: a coordinator may record any of the three; a volunteer records her own or the
    parent's (omitted: the caller's own role). Only a coordinator may cancel without a replacement."""

    by: CancelledBy | None = None
    reason: Code
    replace: bool = True


class RescheduleIn(ApiModel):
    not_before: AwareDatetime | None = None
    preferred_day: Day | None = None


class SupportedParent(BaseModel):
    """The minimum a volunteer needs about a parent she supports: no surname, no health information."""

    first_name: str | None
    phone: str | None
    meeting_place: str | None = Field(description="Her postcode for a home visit or a venue meeting; else null")


class MyMatchOut(BaseModel):
    id: str
    status: str
    format: str
    parent: SupportedParent


class CalendarFeedOut(BaseModel):
    url: str = Field(description="Secret iCalendar feed; posting again rotates it and the old URL stops working")
