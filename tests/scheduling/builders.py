from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from scheduling.model import MatchToPlan, Settings, VolunteerCalendar, WeeklyWindow

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TUESDAY = (WeeklyWindow(1, 10 * 60, 12 * 60),)
SETTINGS = Settings(time_limit_s=5.0)


def match(**overrides: Any) -> MatchToPlan:
    base = MatchToPlan(
        match_id="m1",
        volunteer_id="v1",
        parent_availability=TUESDAY,
        volunteer_availability=TUESDAY,
        format="home_visit",
        lat=55.9759,
        lon=-3.1707,
        sessions=8,
        earliest_start=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return replace(base, **overrides)


def diary(**overrides: Any) -> VolunteerCalendar:
    return replace(VolunteerCalendar("v1", max_sessions_per_week=3), **overrides)
