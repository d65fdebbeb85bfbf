"""Quiet hours: the first moment at or after `now` outside a daily local window (pure)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse(clock: str) -> time:
    """`"21:00"` as a time."""
    hours, minutes = clock.split(":")
    return time(int(hours), int(minutes))


def is_quiet(moment: datetime, *, start: time, end: time, zone: ZoneInfo) -> bool:
    """Whether `moment` falls in the quiet window [start, end) of its local day; start after end spans midnight,
    start equal to end means no quiet hours."""
    local = moment.astimezone(zone).time().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(now: datetime, *, start: time, end: time, zone: ZoneInfo) -> datetime:
    """`now` if it is outside quiet hours, else the window's local end (the next morning, for 21:00 to 08:00), UTC."""
    if not is_quiet(now, start=start, end=end, zone=zone):
        return now
    local = now.astimezone(zone)
    day = local.date()
    if start > end and local.time().replace(tzinfo=None) >= start:
        day += timedelta(days=1)
    allowed = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
    # A clock change can put the local end before `now` or back inside the window; an hour on always leaves it.
    while allowed <= now or is_quiet(allowed, start=start, end=end, zone=zone):
        allowed += timedelta(hours=1)
    return allowed
