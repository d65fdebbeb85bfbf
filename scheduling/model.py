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
class Venue:
    """Where an in-person match meets: its weekly opening hours (local time, as `WeeklyWindow`s), how many
    sessions it holds at once (`rooms`) and the sessions of other matches already booked there (UTC aware
    (start, end) pairs, fixed). No opening hours means it is closed (an inactive venue): nothing fits."""

    venue_id: str
    opening_hours: tuple[WeeklyWindow, ...]
    rooms: int = 1
    booked: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class MatchToPlan:
    """A match whose sessions are to be planned: both people's weekly availability and where they meet.

    `lat`/`lon` are the parent's home for a home visit and the venue for `in_person`; None when remote.
    `first_number`/`total_sessions` let an extension or a re-plan continue a match's numbering and kinds.
    `min_days_apart`: two of its sessions are at least this many local days apart (so a Friday is never followed
    by the Tuesday); 1 when the parent asked to start sooner. `pauses`: local dates with no session at all (weeks
    around an expected date of birth); the series resumes after them and its horizon grows by their weeks.
    `venue`: its sessions happen there, inside its opening hours and never more at once than its rooms (pass
    the venue's coordinates as `lat`/`lon`, for travel).
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
    min_days_apart: int = 5
    pauses: tuple[DateRange, ...] = ()
    venue: Venue | None = None

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
    closed_days: tuple[date, ...] = ()  # the programme's own closures, or a holiday declared after the plan

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


UNPLANNED_CODES = (
    "no_common_hour",  # no weekly hour common to both availabilities
    "not_enough_free_weeks",  # bank holidays, leave, pauses, notice or her fixed sessions take too many weeks
    "weekly_limit_used",  # her weekly limit is already used by her fixed sessions in too many weeks
    "taken_by_other_matches",  # her other matches planned in the same model took the time
    "no_spaced_series",  # free weeks enough, but not with sessions `min_days_apart` apart
    "no_time_to_move",  # one session (`number`) could not be moved to a free hour within the search
    "venue_closed",  # common hours of both people exist, but not while the match's venue is open
)


@dataclass(frozen=True, slots=True)
class Unplanned:
    """A match (or one session of it, `number`) that could not be planned: a code from UNPLANNED_CODES and a
    sentence a coordinator can act on beside it."""

    match_id: str
    reason: str
    code: str
    number: int | None = None


@dataclass(frozen=True, slots=True)
class PlanResult:
    """Every match either has all its sessions here or is in `unplanned`; `optimal` is True when every
    volunteer's plan is proven optimal within the time limit."""

    sessions: tuple[PlannedSession, ...]
    unplanned: tuple[Unplanned, ...] = ()
    optimal: bool = True
    seconds: float = 0.0
