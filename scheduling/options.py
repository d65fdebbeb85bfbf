"""The concrete times a match's sessions could take: each week of its horizon at each weekly start common to
both people, less bank holidays, leave, short notice and clashes with sessions already fixed in her diary."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from scheduling import calendar
from scheduling.model import (
    TRAVEL_FORMATS,
    BusyInterval,
    DateRange,
    MatchToPlan,
    Settings,
    VolunteerCalendar,
    WeeklyWindow,
)

EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday; absolute minutes keep interval arithmetic integral


@dataclass(frozen=True, slots=True)
class Option:
    """One possible session time of one match. `local_day` and `minute` are stored, not derived: the model
    builder reads them hundreds of thousands of times."""

    monday: date  # the calendar week it falls in (local)
    day: int
    start_min: int  # local minutes from midnight: (day, start_min) is the weekly slot
    starts_at: datetime
    ends_at: datetime
    local_day: date  # the local date of the session
    minute: int  # absolute minutes since a fixed Monday, for interval variables

    @property
    def slot(self) -> tuple[int, int]:
        """The weekly slot, the same local time every week."""
        return (self.day, self.start_min)


def place_of(fmt: str, lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """Where the volunteer must be for a meeting of this format, or None when it is remote."""
    return (lat, lon) if fmt in TRAVEL_FORMATS and lat is not None and lon is not None else None


def gap_minutes(a: tuple[float, float] | None, b: tuple[float, float] | None, settings: Settings) -> int:
    """Minutes that must separate two of her meetings at these places."""
    return calendar.travel_minutes(a, b, settings.travel_speed_kmh, settings.travel_buffer_min)


def clashes(
    starts_at: datetime, ends_at: datetime, here: tuple[float, float] | None, busy: BusyInterval, settings: Settings
) -> bool:
    """Overlaps a fixed session, travel time between two meetings in person included."""
    gap = timedelta(minutes=gap_minutes(here, place_of(busy.format, busy.lat, busy.lon), settings))
    return starts_at < busy.ends_at + gap and busy.starts_at < ends_at + gap


def common_starts(
    first: tuple[WeeklyWindow, ...],
    second: tuple[WeeklyWindow, ...],
    settings: Settings,
    *,
    venue_hours: tuple[WeeklyWindow, ...] | None = None,
) -> list[tuple[int, int]]:
    """(weekday, start minute) at which a whole session fits inside both weekly availabilities (and inside the
    venue's opening hours, when given), stepping from the start of each overlap."""
    length = settings.session_minutes
    overlaps = intersect(first, second)
    if venue_hours is not None:
        overlaps = intersect(overlaps, venue_hours)
    starts: set[tuple[int, int]] = set()
    for w in overlaps:
        starts.update((w.day, s) for s in range(w.start_min, w.end_min - length + 1, settings.slot_step_min))
    return sorted(starts)


def intersect(first: tuple[WeeklyWindow, ...], second: tuple[WeeklyWindow, ...]) -> tuple[WeeklyWindow, ...]:
    """The weekly windows inside one of each set (empty overlaps left out)."""
    return tuple(
        WeeklyWindow(a.day, max(a.start_min, b.start_min), min(a.end_min, b.end_min))
        for a in first
        for b in second
        if a.day == b.day and max(a.start_min, b.start_min) < min(a.end_min, b.end_min)
    )


def match_starts(match: MatchToPlan, settings: Settings) -> list[tuple[int, int]]:
    """The weekly starts open to a match: common to both people and, at a venue, while it is open."""
    hours = match.venue.opening_hours if match.venue is not None else None
    return common_starts(match.parent_availability, match.volunteer_availability, settings, venue_hours=hours)


def inside_hours(starts_at: datetime, ends_at: datetime, hours: tuple[WeeklyWindow, ...], settings: Settings) -> bool:
    """Whether a session lies wholly inside one weekly opening window (local time)."""
    tz = calendar.zone(settings.time_zone)
    day, start = calendar.local_date(starts_at, tz), calendar.local_minute(starts_at, tz)
    end = start + int((ends_at - starts_at).total_seconds()) // 60
    return any(w.day == day.weekday() and w.start_min <= start and end <= w.end_min for w in hours)


def peak_booked(starts_at: datetime, ends_at: datetime, booked: Iterable[tuple[datetime, datetime]]) -> int:
    """The most bookings in progress at any one moment between `starts_at` and `ends_at`."""
    edges: list[tuple[datetime, int]] = []
    for b_start, b_end in booked:
        if b_start < ends_at and starts_at < b_end:
            edges += [(max(b_start, starts_at), 1), (min(b_end, ends_at), -1)]
    peak = running = 0
    for _, step in sorted(edges):  # at equal times the end (-1) sorts first: back-to-back bookings never overlap
        running += step
        peak = max(peak, running)
    return peak


def venue_full(starts_at: datetime, ends_at: datetime, match: MatchToPlan) -> bool:
    """Whether the match's venue has no room left for a session then, its fixed bookings counted."""
    venue = match.venue
    return venue is not None and peak_booked(starts_at, ends_at, venue.booked) >= venue.rooms


def misplaced(starts_at: datetime, ends_at: datetime, match: MatchToPlan, settings: Settings) -> bool:
    """Whether a planned session cannot stay at its match's venue: outside its opening hours, or one session
    too many there at once (after the hours or rooms changed, or it was deactivated)."""
    venue = match.venue
    return venue is not None and (
        not inside_hours(starts_at, ends_at, venue.opening_hours, settings) or venue_full(starts_at, ends_at, match)
    )


def busy_by_day(busy: Iterable[BusyInterval], settings: Settings) -> dict[date, list[BusyInterval]]:
    """Her fixed sessions grouped by local date (and the day either side, for travel across midnight)."""
    tz = calendar.zone(settings.time_zone)
    out: dict[date, list[BusyInterval]] = defaultdict(list)
    for b in busy:
        day = calendar.local_date(b.starts_at, tz)
        for offset in (-1, 0, 1):
            out[day + timedelta(days=offset)].append(b)
    return out


def closed_between(settings: Settings, first: date, last: date) -> frozenset[date]:
    """Days with no session for anyone: the region's bank holidays and the programme's own closed days."""
    holidays = calendar.bank_holidays_between(settings.holiday_country, settings.holiday_subdiv, first, last)
    return holidays | {d for d in settings.closed_days if first <= d <= last}


def blocked(day: date, match: MatchToPlan, diary: VolunteerCalendar, settings: Settings) -> bool:
    """Whether a local date can hold no session of this match: closed, her leave, or the match's pause."""
    return (
        day in closed_between(settings, day, day)
        or calendar.on_leave(day, diary.leave)
        or calendar.on_leave(day, match.pauses)
    )


def _days_in(ranges: tuple[DateRange, ...], first: date, last: date) -> set[date]:
    days: set[date] = set()
    for r in ranges:
        start, end = max(r.start, first), min(r.end, last)
        days.update(start + timedelta(days=k) for k in range((end - start).days + 1))
    return days


def horizon_weeks(match: MatchToPlan, settings: Settings, not_before: datetime) -> int:
    """The weeks a match may use from the week of `not_before`: the programme's horizon for its length, plus
    each week its pauses touch, so a series paused around a birth still has room to finish."""
    tz = calendar.zone(settings.time_zone)
    first_monday = calendar.monday_of(calendar.local_date(not_before, tz))
    paused = {
        calendar.monday_of(r.start + timedelta(days=k)) for r in match.pauses for k in range((r.end - r.start).days + 1)
    }
    return settings.weeks_for(match.sessions) + len({m for m in paused if m >= first_monday})


def for_match(
    match: MatchToPlan,
    diary: VolunteerCalendar,
    settings: Settings,
    *,
    not_before: datetime,
    weeks: int,
    busy: dict[date, list[BusyInterval]] | None = None,
) -> list[Option]:
    """Every time, in time order, at which one session of the match could happen, from the week holding
    `not_before` for `weeks` weeks; never on a closed day, her leave or the match's pauses; at a venue only
    while it is open and has a room free (her own sessions there never overlap: she cannot be in two places)."""
    tz = calendar.zone(settings.time_zone)
    first_monday = calendar.monday_of(calendar.local_date(not_before, tz))
    last_day = first_monday + timedelta(weeks=weeks)
    closed = closed_between(settings, first_monday, last_day) | _days_in(
        diary.leave + match.pauses, first_monday, last_day
    )
    busy = busy if busy is not None else busy_by_day(diary.existing, settings)
    here = match.place
    length = timedelta(minutes=settings.session_minutes)
    starts = match_starts(match, settings)
    booked = match.venue.booked if match.venue is not None else ()
    out: list[Option] = []
    for week in range(weeks):
        monday = first_monday + timedelta(weeks=week)
        for day, start in starts:
            when = monday + timedelta(days=day)
            if when in closed:
                continue
            starts_at = calendar.local_datetime(when, start, tz)
            ends_at = starts_at + length
            if starts_at < not_before:
                continue
            if any(clashes(starts_at, ends_at, here, b, settings) for b in busy.get(when, ())):
                continue
            if booked and venue_full(starts_at, ends_at, match):
                continue
            minute = int((starts_at - EPOCH).total_seconds()) // 60
            out.append(Option(monday, day, start, starts_at, ends_at, when, minute))
    return out
