"""Quiet hours as a property: the moment a message may go is never earlier than asked, never inside the window,
and is the moment asked whenever that is outside it."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from service.messages.quiet import is_quiet, next_allowed

ZONES = st.sampled_from(["Europe/London", "UTC", "America/New_York", "Australia/Lord_Howe"])
CLOCK = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
MOMENTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2029, 1, 1), timezones=st.just(UTC))


@given(now=MOMENTS, start=CLOCK, end=CLOCK, zone=ZONES)
def test_the_allowed_moment_is_outside_quiet_hours_and_no_later_than_needed(
    now: datetime, start: time, end: time, zone: str
) -> None:
    tz = ZoneInfo(zone)
    allowed = next_allowed(now, start=start, end=end, zone=tz)
    assert allowed >= now
    assert not is_quiet(allowed, start=start, end=end, zone=tz)
    if not is_quiet(now, start=start, end=end, zone=tz):
        assert allowed == now
    else:
        assert allowed - now <= timedelta(hours=26)  # at most a day's window and a clock change


def test_the_default_window_spans_midnight_in_the_programme_zone() -> None:
    london = ZoneInfo("Europe/London")
    start, end = time(21), time(8)
    evening = datetime(2027, 7, 1, 20, 30, tzinfo=UTC)  # 21:30 in London (summer time)
    assert next_allowed(evening, start=start, end=end, zone=london) == datetime(2027, 7, 2, 7, 0, tzinfo=UTC)
    early = datetime(2027, 1, 5, 7, 59, tzinfo=UTC)  # 07:59 in London (winter)
    assert next_allowed(early, start=start, end=end, zone=london) == datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    day = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    assert next_allowed(day, start=start, end=end, zone=london) == day
