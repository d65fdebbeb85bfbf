"""One test per scheduling rule, plus the markers, the clocks changing, re-planning and the reasons."""

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling import changes
from scheduling.kinds import mark_kinds
from scheduling.model import BusyInterval, DateRange, WeeklyWindow
from scheduling.solver import plan
from tests.scheduling.builders import NOW, SETTINGS, diary, match

LONDON = ZoneInfo("Europe/London")


def _local(dt: datetime) -> datetime:
    return dt.astimezone(LONDON)


def test_sessions_are_weekly_inside_both_availabilities() -> None:
    result = plan([match()], {"v1": diary()}, SETTINGS, now=NOW)
    assert len(result.sessions) == 8 and not result.unplanned
    for s in result.sessions:
        local = _local(s.starts_at)
        assert local.weekday() == 1 and 10 * 60 <= local.hour * 60 + local.minute <= 11 * 60
    gaps = {(b.starts_at - a.starts_at).days for a, b in zip(result.sessions, result.sessions[1:], strict=False)}
    assert gaps <= {7, 14}


def test_the_session_two_before_the_last_is_the_ending_conversation_and_the_last_is_closing() -> None:
    assert mark_kinds(8, 2) == ["regular"] * 5 + ["ending_conversation", "regular", "closing"]
    kinds = [s.kind for s in plan([match()], {"v1": diary()}, SETTINGS, now=NOW).sessions]
    assert kinds[5] == "ending_conversation" and kinds[7] == "closing"


def test_no_session_falls_on_a_scottish_bank_holiday() -> None:
    friday = (WeeklyWindow(4, 600, 720),)  # 25 Dec 2026 and 1 Jan 2027 are Fridays
    result = plan(
        [match(parent_availability=friday, volunteer_availability=friday)], {"v1": diary()}, SETTINGS, now=NOW
    )
    days = {_local(s.starts_at).date() for s in result.sessions}
    assert date(2026, 12, 25) not in days and date(2027, 1, 1) not in days and len(days) == 8


def test_no_session_falls_on_her_leave() -> None:
    leave = (DateRange(date(2026, 12, 7), date(2026, 12, 20)),)
    result = plan([match()], {"v1": diary(leave=leave)}, SETTINGS, now=NOW)
    assert all(not (leave[0].start <= _local(s.starts_at).date() <= leave[0].end) for s in result.sessions)
    assert len(result.sessions) == 8


def test_minimum_notice_is_kept() -> None:
    result = plan([match(earliest_start=NOW)], {"v1": diary()}, SETTINGS, now=NOW)
    assert result.sessions[0].starts_at >= NOW + timedelta(hours=SETTINGS.min_notice_hours)


def test_two_matches_of_one_volunteer_never_overlap_and_leave_travel_time() -> None:
    long_window = (WeeklyWindow(1, 9 * 60, 13 * 60),)
    a = match(match_id="a", parent_availability=long_window, volunteer_availability=long_window)
    b = match(
        match_id="b", parent_availability=long_window, volunteer_availability=long_window, lat=55.9532, lon=-3.1146
    )  # Portobello, about 4.5 km from Leith: 9 minutes at 30 km/h, plus the buffer
    result = plan([a, b], {"v1": diary()}, SETTINGS, now=NOW)
    assert len(result.sessions) == 16
    by_day: dict[date, list[datetime]] = {}
    for s in result.sessions:
        by_day.setdefault(_local(s.starts_at).date(), []).append(s.starts_at)
    for starts in by_day.values():
        starts.sort()
        for first, second in itertools.pairwise(starts):
            assert second - first >= timedelta(minutes=60 + 9 + 15)


def test_her_weekly_limit_is_kept_with_existing_sessions_counted() -> None:
    existing = tuple(
        BusyInterval(
            datetime(2026, 12, 3, 14, tzinfo=UTC) + timedelta(weeks=w),
            datetime(2026, 12, 3, 15, tzinfo=UTC) + timedelta(weeks=w),
        )
        for w in range(20)
    )
    result = plan([match()], {"v1": diary(existing=existing, max_sessions_per_week=1)}, SETTINGS, now=NOW)
    assert result.sessions == () and "weekly limit (1)" in result.unplanned[0].reason


def test_a_plan_across_the_end_of_british_summer_time_keeps_the_local_hour() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    result = plan(
        [match(earliest_start=start, sessions=6)], {"v1": diary()}, SETTINGS, now=datetime(2026, 9, 20, tzinfo=UTC)
    )
    local_times = {(_local(s.starts_at).hour, _local(s.starts_at).minute) for s in result.sessions}
    assert len(local_times) == 1
    utc_hours = {s.starts_at.hour for s in result.sessions}
    assert len(utc_hours) == 2  # 10:00 local is 09:00Z before 25 October and 10:00Z after


def test_no_common_hour_is_a_clear_reason_not_a_silent_gap() -> None:
    result = plan([match(parent_availability=(WeeklyWindow(2, 600, 720),))], {"v1": diary()}, SETTINGS, now=NOW)
    assert result.sessions == ()
    assert result.unplanned[0].reason == "no common weekly hour between her availability and the volunteer's"


def test_reschedule_finds_the_next_feasible_slot_on_the_preferred_day() -> None:
    both = (WeeklyWindow(1, 600, 720), WeeklyWindow(3, 600, 720))
    m = match(parent_availability=both, volunteer_availability=both)
    found = changes.next_slot(
        m, diary(), SETTINGS, not_before=datetime(2026, 12, 2, tzinfo=UTC), now=NOW, preferred_day=3
    )
    assert not isinstance(found, str)
    assert _local(found[0]).date() == date(2026, 12, 3) and _local(found[0]).hour == 10


def test_new_leave_moves_only_the_sessions_it_covers() -> None:
    first = plan([match()], {"v1": diary()}, SETTINGS, now=NOW)
    leave = (DateRange(date(2026, 12, 8), date(2026, 12, 8)),)
    moved, missing = changes.moved_off_leave(
        list(first.sessions), {"m1": match()}, diary(leave=leave), SETTINGS, now=NOW
    )
    assert not missing and list(moved) == [("m1", 2)]
    new_start, _ = moved[("m1", 2)]
    assert _local(new_start).date() not in {_local(s.starts_at).date() for s in first.sessions}


def test_an_extension_follows_on_and_moves_the_ending_markers() -> None:
    first = plan([match()], {"v1": diary()}, SETTINGS, now=NOW)
    existing = tuple(BusyInterval(s.starts_at, s.ends_at, s.format) for s in first.sessions)
    more = changes.extend_after(
        match(), diary(existing=existing), SETTINGS, after=first.sessions[-1].starts_at, already=8, extra=2, now=NOW
    )
    assert [s.number for s in more.sessions] == [9, 10]
    assert more.sessions[0].starts_at > first.sessions[-1].starts_at
    assert [s.kind for s in more.sessions] == ["regular", "closing"]
    assert mark_kinds(10, 2)[7] == "ending_conversation"


def test_when_she_cannot_take_both_the_earlier_match_in_the_batch_is_planned_and_the_other_gets_a_reason() -> None:
    one_hour = (WeeklyWindow(1, 10 * 60, 11 * 60),)
    first = match(match_id="waited-longest", parent_availability=one_hour, volunteer_availability=one_hour)
    second = match(match_id="newer", parent_availability=one_hour, volunteer_availability=one_hour)
    for batch in ([first, second], [second, first]):
        result = plan(batch, {"v1": diary(max_sessions_per_week=1)}, SETTINGS, now=NOW)
        assert {s.match_id for s in result.sessions} == {batch[0].match_id}
        assert [u.match_id for u in result.unplanned] == [batch[1].match_id]
        assert "taken by her other matches" in result.unplanned[0].reason
