"""The concrete times a match's sessions could take: each week of its horizon at each weekly start common to
both people, less bank holidays, leave, short notice and clashes with sessions already fixed in her diary."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from scheduling import calendar
from scheduling.model import TRAVEL_FORMATS, BusyInterval, MatchToPlan, Settings, VolunteerCalendar, WeeklyWindow

EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday; absolute minutes keep interval arithmetic integral


@dataclass(frozen=True, slots=True)
class Option:
    """One possible session time of one match."""

    monday: date  # the calendar week it falls in (local)
    day: int
    start_min: int  # local minutes from midnight: (day, start_min) is the weekly slot
    starts_at: datetime
    ends_at: datetime

    @property
    def slot(self) -> tuple[int, int]:
        """The weekly slot, the same local time every week."""
        return (self.day, self.start_min)

    @property
    def local_day(self) -> date:
        """The local date of the session."""
        return self.monday + timedelta(days=self.day)

    @property
    def minute(self) -> int:
        """Absolute minutes since a fixed Monday, for interval variables."""
        return int((self.starts_at - EPOCH).total_seconds()) // 60


def place_of(fmt: str, lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """Where the volunteer must be for a meeting of this format, or None when it is remote."""
    return (lat, lon) if fmt in TRAVEL_FORMATS and lat is not None and lon is not None else None


def gap_minutes(a: tuple[float, float] | None, b: tuple[float, float] | None, settings: Settings) -> int:
    """Minutes that must separate two of her meetings at these places."""
    return calendar.travel_minutes(a, b, settings.travel_speed_kmh, settings.travel_buffer_min)


def clashes(starts_at: datetime, ends_at: datetime, here: tuple[float, float] | None, busy: BusyInterval,
            settings: Settings) -> bool:
    """Overlaps a fixed session, travel time between two meetings in person included."""
    gap = timedelta(minutes=gap_minutes(here, place_of(busy.format, busy.lat, busy.lon), settings))
    return starts_at < busy.ends_at + gap and busy.starts_at < ends_at + gap


def common_starts(first: tuple[WeeklyWindow, ...], second: tuple[WeeklyWindow, ...],
                  settings: Settings) -> list[tuple[int, int]]:
    """(weekday, start minute) at which a whole session fits inside both weekly availabilities, stepping from
    the start of each overlap."""
    length = settings.session_minutes
    starts: set[tuple[int, int]] = set()
    for a in first:
        for b in second:
            if a.day != b.day:
                continue
            low, high = max(a.start_min, b.start_min), min(a.end_min, b.end_min)
            starts.update((a.day, s) for s in range(low, high - length + 1, settings.slot_step_min))
    return sorted(starts)


def busy_by_day(busy: Iterable[BusyInterval], settings: Settings) -> dict[date, list[BusyInterval]]:
    """Her fixed sessions grouped by local date (and the day either side, for travel across midnight)."""
    tz = calendar.zone(settings.time_zone)
    out: dict[date, list[BusyInterval]] = defaultdict(list)
    for b in busy:
        day = calendar.local_date(b.starts_at, tz)
        for offset in (-1, 0, 1):
            out[day + timedelta(days=offset)].append(b)
    return out


def for_match(match: MatchToPlan, diary: VolunteerCalendar, settings: Settings, *, not_before: datetime,
              weeks: int, busy: dict[date, list[BusyInterval]] | None = None) -> list[Option]:
    """Every time, in time order, at which one session of the match could happen, from the week holding
    `not_before` for `weeks` weeks."""
    tz = calendar.zone(settings.time_zone)
    first_monday = calendar.monday_of(calendar.local_date(not_before, tz))
    last_day = first_monday + timedelta(weeks=weeks)
    closed = calendar.bank_holidays_between(settings.holiday_country, settings.holiday_subdiv, first_monday,
                                            last_day)
    busy = busy if busy is not None else busy_by_day(diary.existing, settings)
    here = match.place
    length = timedelta(minutes=settings.session_minutes)
    starts = common_starts(match.parent_availability, match.volunteer_availability, settings)
    out: list[Option] = []
    for week in range(weeks):
        monday = first_monday + timedelta(weeks=week)
        for day, start in starts:
            when = monday + timedelta(days=day)
            if when in closed or calendar.on_leave(when, diary.leave):
                continue
            starts_at = calendar.local_datetime(when, start, tz)
            ends_at = starts_at + length
            if starts_at < not_before:
                continue
            if any(clashes(starts_at, ends_at, here, b, settings) for b in busy.get(when, ())):
                continue
            out.append(Option(monday, day, start, starts_at, ends_at))
    return out
