"""Local time, weeks, bank holidays and leave: the calendar facts the model needs."""

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from scheduling.model import DateRange, MatchToPlan, Settings, WeeklyWindow


@lru_cache(maxsize=32)
def bank_holidays(country: str, subdiv: str | None, first_year: int, last_year: int) -> frozenset[date]:
    """Public holidays of the region (Scotland by default) in the given years."""
    years = list(range(first_year, last_year + 1))
    return frozenset(holidays.country_holidays(country, subdiv=subdiv, years=years).keys())


def local_datetime(day: date, minute_of_day: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time, so a 10:00 session stays at 10:00 across the clocks changing."""
    local = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone)
    return local.astimezone(UTC)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def on_leave(day: date, leave: tuple[DateRange, ...]) -> bool:
    return any(r.start <= day <= r.end for r in leave)


def common_starts(match: MatchToPlan, settings: Settings) -> list[tuple[int, int]]:
    """(weekday, start minute) at which a whole session fits inside both weekly availabilities."""
    length = settings.session_minutes
    out = []
    for day in range(7):
        for start in range(0, 24 * 60 - length + 1, settings.slot_step_min):
            end = start + length
            if _inside(match.parent_availability, day, start, end) and _inside(match.volunteer_availability, day,
                                                                                  start, end):
                out.append((day, start))
    return out


def _inside(windows: tuple[WeeklyWindow, ...], day: int, start: int, end: int) -> bool:
    return any(w.day == day and w.start_min <= start and end <= w.end_min for w in windows)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def travel_minutes(a: tuple[float, float] | None, b: tuple[float, float] | None, settings: Settings) -> int:
    """Time to allow between two meetings in person: the journey at a cautious speed plus a buffer."""
    if a is None or b is None:
        return 0
    return math.ceil(distance_km(a, b) / settings.travel_speed_kmh * 60) + settings.travel_buffer_min
