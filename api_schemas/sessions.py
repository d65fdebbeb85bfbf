"""Sessions of a match, and the changes people make to them."""

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from api_schemas.common import ApiModel, Code, Day
from api_schemas.referrals import HomeAddress
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
    checked_in_at: datetime | None = Field(None, description="Home visits: when the volunteer checked in")
    checked_out_at: datetime | None = Field(None, description="Home visits: when the volunteer checked out")


class HomeVisit(BaseModel):
    """Where a home visit is: shown to the volunteer only while her match is accepted and not ended."""

    address: HomeAddress | None
    access_notes: str | None


class MySessionOut(SessionOut):
    """A session as its volunteer sees it: for a home visit of an accepted match, the parent's address."""

    home: HomeVisit | None = Field(
        None, description="The parent's address and access notes, for home visits of an accepted, unended match"
    )


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
    """The minimum a volunteer needs about a parent she supports: no surname, no health information. Before
    she accepts the match: first name, area and preferred days only; phone and meeting place once she accepts,
    until the match ends."""

    first_name: str | None
    area: str | None = Field(None, description="Her postcode district (outward code only), e.g. EH6")
    preferred_days: list[Day] = Field([], description="The weekdays she is available, Monday first")
    phone: str | None = Field(description="Only while the match is accepted and not ended")
    meeting_place: str | None = Field(
        description="Her postcode for a home visit or a venue meeting, once the match is accepted; else null"
    )


class MyMatchOut(BaseModel):
    id: str
    status: str
    format: str
    parent: SupportedParent


class CalendarFeedOut(BaseModel):
    url: str = Field(description="Secret iCalendar feed; posting again rotates it and the old URL stops working")
