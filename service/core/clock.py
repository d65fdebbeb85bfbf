"""The one place the service reads the time, so tests can move it."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    return datetime.now(UTC)


def today(time_zone: str = "Europe/London") -> date:
    return now().astimezone(ZoneInfo(time_zone)).date()
