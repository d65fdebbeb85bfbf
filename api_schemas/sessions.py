"""Sessions of a match, and the changes people make to them."""

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel

from api_schemas.common import ApiModel, Code, Day


class SessionKind(StrEnum):
    regular = "regular"
    ending_conversation = "ending_conversation"
    closing = "closing"


class SessionStatus(StrEnum):
    planned = "planned"
    attended = "attended"
    missed = "missed"
    cancelled = "cancelled"


class SessionOut(BaseModel):
    id: str
    match_id: str
    number: int
    kind: SessionKind
    starts_at: datetime
    ends_at: datetime
    format: str
    status: SessionStatus


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
    by: CancelledBy
    reason: Code
    replace: bool = True


class RescheduleIn(ApiModel):
    not_before: AwareDatetime | None = None
    preferred_day: Day | None = None
