"""The concrete times a match's sessions could take: each week of the horizon at each common weekly start,
less bank holidays, leave, short notice and clashes with sessions already in her diary."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling import calendar
from scheduling.model import TRAVEL_FORMATS, BusyInterval, MatchToPlan, Settings, VolunteerCalendar


@dataclass(frozen=True, slots=True)
class Option:
    week: int
    day: int
    start_min: int
    starts_at: datetime
    ends_at: datetime


def place(fmt: str, lat: float | None, lon: float | None) -> tuple[float, float] | None:
    return (lat, lon) if fmt in TRAVEL_FORMATS and lat is not None and lon is not None else None


def clashes(starts_at: datetime, ends_at: datetime, here: tuple[float, float] | None, busy: BusyInterval,
            settings: Settings) -> bool:
    """Overlaps a fixed session, travel time between two meetings in person included."""
    there = place(busy.format, busy.lat, busy.lon)
    gap = timedelta(minutes=calendar.travel_minutes(here, there, settings)) if here and there else timedelta()
    return starts_at < busy.ends_at + gap and busy.starts_at < ends_at + gap


def for_match(match: MatchToPlan, diary: VolunteerCalendar, settings: Settings, *, week0: datetime,
              weeks: int, extra_busy: tuple[BusyInterval, ...] = ()) -> list[Option]:
    zone = ZoneInfo(settings.time_zone)
    monday = calendar.monday_of(week0.astimezone(zone).date())
    last_day = monday + timedelta(weeks=weeks)
    holidays = calendar.bank_holidays(settings.holiday_country, settings.holiday_subdiv, monday.year, last_day.year)
    not_before = match.earliest_start
    here = place(match.format, match.lat, match.lon)
    busy = diary.existing + extra_busy
    length = timedelta(minutes=settings.session_minutes)
    out = []
    for week in range(weeks):
        for day, start in calendar.common_starts(match, settings):
            when = monday + timedelta(weeks=week, days=day)
            if when in holidays or calendar.on_leave(when, diary.leave):
                continue
            starts_at = calendar.local_datetime(when, start, zone)
            if starts_at < not_before:
                continue
            ends_at = starts_at + length
            if any(clashes(starts_at, ends_at, here, b, settings) for b in busy):
                continue
            out.append(Option(week, day, start, starts_at, ends_at))
    return out
