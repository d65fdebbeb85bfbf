"""Calendar facts the model needs: bank holidays of a region, local time <-> UTC, weeks, leave, travel."""

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from scheduling.model import DateRange

EARTH_RADIUS_KM = 6371.0088


@lru_cache(maxsize=64)
def bank_holidays(country: str, subdiv: str | None, first_year: int, last_year: int) -> frozenset[date]:
    """Public holidays of the region (Scotland by default), substitute days included, in the given years."""
    years = list(range(first_year, last_year + 1))
    return frozenset(holidays.country_holidays(country, subdiv=subdiv, years=years).keys())


def bank_holidays_between(country: str, subdiv: str | None, first: date, last: date) -> frozenset[date]:
    """Public holidays of the region between two dates, inclusive."""
    return frozenset(d for d in bank_holidays(country, subdiv, first.year, last.year) if first <= d <= last)


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    """The programme's time zone (cached: ZoneInfo lookups are hot in option generation)."""
    return ZoneInfo(name)


def local_datetime(day: date, minute_of_day: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time, so a 10:00 session stays at 10:00 across the clocks changing."""
    local = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=tz)
    return local.astimezone(UTC)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The local calendar date of an aware instant."""
    return instant.astimezone(tz).date()


def local_minute(instant: datetime, tz: ZoneInfo) -> int:
    """Minutes since local midnight of an aware instant."""
    local = instant.astimezone(tz)
    return local.hour * 60 + local.minute


def monday_of(day: date) -> date:
    """The Monday that starts the calendar week of `day` (weeks run Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


def weeks_between(first_monday: date, day: date) -> int:
    """Whole calendar weeks from the week starting `first_monday` to the week holding `day`."""
    return (monday_of(day) - first_monday).days // 7


def on_leave(day: date, leave: tuple[DateRange, ...]) -> bool:
    """Whether a local date falls in any of her leave periods."""
    return any(r.start <= day <= r.end for r in leave)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance between two (lat, lon) points."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def travel_minutes(
    a: tuple[float, float] | None, b: tuple[float, float] | None, speed_kmh: float, buffer_min: int
) -> int:
    """Time to leave between two meetings in person: the journey at a cautious speed plus a buffer; none when
    either meeting is remote."""
    if a is None or b is None:
        return 0
    return math.ceil(distance_km(a, b) / speed_kmh * 60) + buffer_min
