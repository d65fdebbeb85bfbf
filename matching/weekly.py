"""Weekly time as bit masks of quarter hours, so "a common free hour" is one AND over whole weeks."""

from collections.abc import Iterable
from functools import lru_cache

from matching.model import WeeklyWindow

QUARTERS_PER_DAY = 96
WEEK_BITS = 7 * QUARTERS_PER_DAY


def quarters(windows: Iterable[WeeklyWindow]) -> int:
    """The set of quarter hours covered by the windows, as an int with one bit per quarter of the week."""
    mask = 0
    for window in windows:
        first = window.day * QUARTERS_PER_DAY + window.start_min // 15
        last = window.day * QUARTERS_PER_DAY + -(-window.end_min // 15)
        if last > first:
            mask |= ((1 << (last - first)) - 1) << first
    return mask


def start_mask(free: int, session_minutes: int) -> int:
    """Quarters at which a whole session can start inside `free` without crossing midnight."""
    length = max(1, -(-session_minutes // 15))
    starts = free
    for offset in range(1, length):
        starts &= free >> offset
    day_ok = 0
    for day in range(7):
        # A start in the last (length - 1) quarters of a day would run into the next day.
        day_ok |= ((1 << (QUARTERS_PER_DAY - length + 1)) - 1) << (day * QUARTERS_PER_DAY)
    return starts & day_ok


@lru_cache(maxsize=1 << 16)  # people pick from a handful of usual hours: a match run asks the same often
def starts(availability: tuple[WeeklyWindow, ...], busy: tuple[WeeklyWindow, ...], session_minutes: int) -> int:
    """Session start quarters inside availability and clear of busy windows."""
    return start_mask(quarters(availability) & ~quarters(busy), session_minutes)
