"""Plain, frozen inputs and outputs of the scheduling engine. Datetimes are aware; outputs are UTC."""

from dataclasses import dataclass, field
from datetime import date, datetime

TRAVEL_FORMATS = frozenset({"home_visit", "in_person"})


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A weekly window in the programme's local time: day 0 = Monday, minutes from midnight."""

    day: int
    start_min: int
    end_min: int


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive dates, such as a volunteer's leave."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """A session already fixed in her diary, with the place it happens (for travel time)."""

    starts_at: datetime
    ends_at: datetime
    format: str = "telephone"
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class MatchToPlan:
    match_id: str
    volunteer_id: str
    parent_availability: tuple[WeeklyWindow, ...]
    volunteer_availability: tuple[WeeklyWindow, ...]
    format: str
    lat: float | None
    lon: float | None
    sessions: int
    earliest_start: datetime
    first_number: int = 1
    total_sessions: int | None = None  # the match's whole length when appending an extension
    preferred_start_min: int | None = None


@dataclass(frozen=True, slots=True)
class VolunteerCalendar:
    volunteer_id: str
    leave: tuple[DateRange, ...] = ()
    existing: tuple[BusyInterval, ...] = ()
    max_sessions_per_week: int = 1


@dataclass(frozen=True, slots=True)
class Settings:
    time_zone: str = "Europe/London"
    holiday_country: str = "GB"
    holiday_subdiv: str | None = "SCT"
    session_minutes: int = 60
    ending_conversation_offset: int = 2
    min_notice_hours: int = 48
    slack_weeks: int = 6
    travel_speed_kmh: float = 30.0
    travel_buffer_min: int = 15
    slot_step_min: int = 15
    time_limit_s: float = 5.0


@dataclass(frozen=True, slots=True)
class PlannedSession:
    match_id: str
    number: int
    kind: str
    starts_at: datetime
    ends_at: datetime
    format: str


@dataclass(frozen=True, slots=True)
class Unplanned:
    match_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class PlanResult:
    sessions: tuple[PlannedSession, ...]
    unplanned: tuple[Unplanned, ...] = ()
    optimal: bool = True
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())
