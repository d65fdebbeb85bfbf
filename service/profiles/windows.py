"""Weekly windows as stored (`{"day": "tue", "start": "10:00", "end": "12:30"}`) to either engine's windows,
and a session's local weekly slot: one home for the weekday order both engines count from."""

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from api_schemas.common import Day, minutes

W = TypeVar("W")
DAYS: tuple[str, ...] = tuple(day.value for day in Day)


_DAY_INDEX = {day: index for index, day in enumerate(DAYS)}


def day_index(day: str) -> int:
    """Monday is 0, as `date.weekday()` counts."""
    try:
        return _DAY_INDEX[day]
    except KeyError:
        raise ValueError(f"{day!r} is not a day") from None


@lru_cache(maxsize=4096)
def _window(day: str, start: str, end: str) -> tuple[int, int, int]:
    # A national run reads some 100,000 windows and they are nearly all alike (a few days by a few slots): each
    # is parsed once, not per person.
    return day_index(day), minutes(start), minutes(end)


def weekly(availability: list[dict[str, str]], make: Callable[[int, int, int], W]) -> tuple[W, ...]:
    """Stored windows as the engine's own window type (`make(day, start_min, end_min)`)."""
    return tuple(make(*_window(w["day"], w["start"], w["end"])) for w in availability)


def slot_of(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> tuple[int, int, int]:
    """The local (day, start minute, end minute) of a session; one that runs past midnight ends at 24:00."""
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    end = local_end.hour * 60 + local_end.minute if local_end.date() == local_start.date() else 24 * 60
    return local_start.weekday(), local_start.hour * 60 + local_start.minute, end
