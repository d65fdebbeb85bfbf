"""Plain, frozen inputs and outputs of the scheduling engine. Datetimes are aware; outputs are UTC."""

from dataclasses import dataclass
from datetime import date, datetime

KINDS = ("regular", "ending_conversation", "closing")
FORMATS = ("home_visit", "telephone", "in_person", "video")
TRAVEL_FORMATS = frozenset({"home_visit", "in_person"})  # the volunteer travels to these; the rest are remote


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A weekly window in the programme's local time: day 0 = Monday .. 6 = Sunday, minutes from midnight."""

    day: int
    start_min: int
    end_min: int


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive local dates, such as a volunteer's leave."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """A session already fixed in her diary, with where it happens (for travel time); UTC aware."""

    starts_at: datetime
    ends_at: datetime
    format: str = "telephone"
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class MatchToPlan:
    """A match whose sessions are to be planned: both people's weekly availability and where they meet.

    `lat`/`lon` are the parent's home for a home visit and the venue for `in_person`; None when remote.
    `first_number`/`total_sessions` let an extension or a re-plan continue a match's numbering and kinds.
    """

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
    total_sessions: int | None = None
    preferred_start_min: int | None = None

    @property
    def place(self) -> tuple[float, float] | None:
        """Where the volunteer has to be, when she has to travel at all."""
        if self.format in TRAVEL_FORMATS and self.lat is not None and self.lon is not None:
            return (self.lat, self.lon)
        return None


@dataclass(frozen=True, slots=True)
class VolunteerCalendar:
    """Her leave, her other fixed sessions and her weekly limit."""

    volunteer_id: str
    leave: tuple[DateRange, ...] = ()
    existing: tuple[BusyInterval, ...] = ()
    max_sessions_per_week: int = 1
    home_lat: float | None = None
    home_lon: float | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """The programme's planning rules. A match may use `sessions + slack_weeks` weeks unless `horizon_weeks` is
    set; `time_limit_s` bounds one whole `plan` call."""

    time_zone: str = "Europe/London"
    holiday_country: str = "GB"
    holiday_subdiv: str | None = "SCT"
    session_minutes: int = 60
    ending_conversation_offset: int = 2
    min_notice_hours: int = 48
    slack_weeks: int = 6
    horizon_weeks: int | None = None
    travel_speed_kmh: float = 30.0
    travel_buffer_min: int = 15
    slot_step_min: int = 15
    time_limit_s: float = 5.0
    workers: int = 2

    def weeks_for(self, sessions: int) -> int:
        """How many weeks, from the week of its earliest start, a match of this length may use."""
        return self.horizon_weeks if self.horizon_weeks is not None else sessions + self.slack_weeks


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """One planned session; `number` is 1-based in time order; times UTC aware."""

    match_id: str
    number: int
    kind: str
    starts_at: datetime
    ends_at: datetime
    format: str


@dataclass(frozen=True, slots=True)
class Unplanned:
    """A match (or one session of it) that could not be planned, with a reason a coordinator can act on."""

    match_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class PlanResult:
    """Every match either has all its sessions here or is in `unplanned`; `optimal` is True when every
    volunteer's plan is proven optimal within the time limit."""

    sessions: tuple[PlannedSession, ...]
    unplanned: tuple[Unplanned, ...] = ()
    optimal: bool = True
    seconds: float = 0.0
