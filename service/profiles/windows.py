"""Weekly windows as stored (`{"day": "tue", "start": "10:00", "end": "12:30"}`) to either engine's windows,
and a session's local weekly slot: one home for the weekday order both engines count from."""

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from api_schemas.common import Day, minutes

W = TypeVar("W")
DAYS: tuple[str, ...] = tuple(day.value for day in Day)


def day_index(day: str) -> int:
    """Monday is 0, as `date.weekday()` counts."""
    return DAYS.index(day)


def weekly(availability: list[dict[str, str]], make: Callable[[int, int, int], W]) -> tuple[W, ...]:
    """Stored windows as the engine's own window type (`make(day, start_min, end_min)`)."""
    return tuple(make(day_index(w["day"]), minutes(w["start"]), minutes(w["end"])) for w in availability)


def slot_of(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> tuple[int, int, int]:
    """The local (day, start minute, end minute) of a session; one that runs past midnight ends at 24:00."""
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    end = local_end.hour * 60 + local_end.minute if local_end.date() == local_start.date() else 24 * 60
    return local_start.weekday(), local_start.hour * 60 + local_start.minute, end
