"""Issue 19, engine side: steady slots, sessions spaced apart, a volunteer's matches planned together, room kept
at the edges of her window, plannability before an accept, pauses, leave that is never overrun, numbering."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling import changes
from scheduling.kinds import numbered
from scheduling.model import BusyInterval, DateRange, PlannedSession, WeeklyWindow
from scheduling.solver import plan, plan_for_volunteer, plannable
from tests.scheduling.builders import NOW, SETTINGS, diary, match

LONDON = ZoneInfo("Europe/London")
TUESDAY_AND_THURSDAY = (WeeklyWindow(1, 600, 720), WeeklyWindow(3, 600, 720))


def _local(dt: datetime) -> datetime:
    return dt.astimezone(LONDON)


def _slots(sessions: tuple[PlannedSession, ...]) -> set[tuple[int, int, int]]:
    return {(_local(s.starts_at).weekday(), _local(s.starts_at).hour, _local(s.starts_at).minute) for s in sessions}


def test_leave_on_one_week_of_a_slot_never_moves_that_week_to_another_day() -> None:
    # Tuesdays and Thursdays are both free; her leave takes one Tuesday mid-series. Moving that week alone to
    # the Thursday would be cheapest in delay, but the series keeps one weekday and time throughout.
    leave = (DateRange(date(2026, 12, 15), date(2026, 12, 15)),)
    m = match(parent_availability=TUESDAY_AND_THURSDAY, volunteer_availability=TUESDAY_AND_THURSDAY, format="telephone")
    result = plan([m], {"v1": diary(leave=leave)}, SETTINGS, now=NOW)
    assert len(result.sessions) == 8
    assert len(_slots(result.sessions)) == 1
    assert date(2026, 12, 15) not in {_local(s.starts_at).date() for s in result.sessions}


def test_sessions_are_at_least_five_days_apart_unless_the_match_allows_sooner() -> None:
    # Only Friday 4 and Tuesday 8 December are free in a two-week horizon: four days apart.
    both = (WeeklyWindow(1, 600, 660), WeeklyWindow(4, 600, 660))
    m = match(
        parent_availability=both,
        volunteer_availability=both,
        sessions=2,
        format="telephone",
        earliest_start=datetime(2026, 12, 2, tzinfo=UTC),
    )
    her = diary(leave=(DateRange(date(2026, 12, 11), date(2026, 12, 11)),))
    two_weeks = replace(SETTINGS, horizon_weeks=2)
    spaced = plan([m], {"v1": her}, two_weeks, now=NOW)
    assert spaced.sessions == ()
    assert spaced.unplanned[0].code == "no_spaced_series"
    sooner = plan([replace(m, min_days_apart=1)], {"v1": her}, two_weeks, now=NOW)
    assert [_local(s.starts_at).date() for s in sooner.sessions] == [date(2026, 12, 4), date(2026, 12, 8)]


def test_a_session_is_packed_against_the_end_of_her_window_when_its_start_is_not_common() -> None:
    # She is free 09:00-13:00, the parent from 10:00: 10:00 would split her morning, 12:00 keeps 09:00-12:00 whole.
    m = match(
        parent_availability=(WeeklyWindow(1, 600, 780),),
        volunteer_availability=(WeeklyWindow(1, 540, 780),),
        format="telephone",
    )
    result = plan([m], {"v1": diary()}, SETTINGS, now=NOW)
    assert _slots(result.sessions) == {(1, 12, 0)}


def test_a_volunteers_matches_planned_together_fit_where_one_by_one_they_do_not() -> None:
    # She is free 09:00-11:00; one parent can do any of it, the other only 09:00-10:00.
    hers = (WeeklyWindow(1, 540, 660),)
    flexible = match(match_id="flexible", volunteer_availability=hers, parent_availability=hers, format="telephone")
    early = match(
        match_id="early",
        volunteer_availability=hers,
        parent_availability=(WeeklyWindow(1, 540, 600),),
        format="telephone",
    )
    alone = plan_for_volunteer([flexible], diary(), SETTINGS, now=NOW)
    fixed = tuple(BusyInterval(s.starts_at, s.ends_at, s.format) for s in alone.sessions)
    # the earliest start first: planned alone, the flexible match takes 09:00 and leaves nothing for the other
    assert _slots(alone.sessions) == {(1, 9, 0)}
    assert plan_for_volunteer([early], diary(existing=fixed), SETTINGS, now=NOW).unplanned
    together = plan_for_volunteer([flexible, early], diary(), SETTINGS, now=NOW)
    assert not together.unplanned and len(together.sessions) == 16


def test_plannable_says_yes_with_the_sessions_or_no_with_a_code_and_a_reason() -> None:
    yes = plannable(match(), diary(), SETTINGS, now=NOW)
    assert yes.plannable and len(yes.sessions) == 8 and yes.code is None
    no_hour = plannable(match(parent_availability=(WeeklyWindow(2, 600, 720),)), diary(), SETTINGS, now=NOW)
    assert not no_hour.plannable and no_hour.code == "no_common_hour" and no_hour.reason
    one_hour = (WeeklyWindow(1, 600, 660),)
    waiting = match(match_id="waiting", parent_availability=one_hour, volunteer_availability=one_hour)
    new = match(match_id="new", parent_availability=one_hour, volunteer_availability=one_hour)
    taken = plannable(new, diary(max_sessions_per_week=1), SETTINGS, now=NOW, alongside=[waiting])
    assert not taken.plannable and taken.code == "taken_by_other_matches"


def test_a_pause_around_a_birth_holds_no_session_and_the_series_resumes_after_it() -> None:
    pause = DateRange(date(2026, 12, 14), date(2027, 2, 7))  # eight weeks around a birth due at Christmas
    result = plan([match(pauses=(pause,))], {"v1": diary()}, SETTINGS, now=NOW)
    days = sorted(_local(s.starts_at).date() for s in result.sessions)
    assert len(days) == 8 and not result.unplanned
    before, after = [d for d in days if d < pause.start], [d for d in days if d > pause.end]
    assert before and after and len(before) + len(after) == 8
    assert (after[0] - pause.end).days <= 7  # resumes the week after the pause
    assert [s.number for s in sorted(result.sessions, key=lambda s: s.starts_at)] == list(range(1, 9))


def test_sessions_that_cannot_move_off_long_leave_are_unplanned_with_a_code_never_left_inside_it() -> None:
    first = plan([match()], {"v1": diary()}, SETTINGS, now=NOW)
    leave = (DateRange(date(2026, 12, 10), date(2027, 6, 30)),)  # five months: nowhere to go within 12 weeks
    result = changes.replan_for_leave(
        first.sessions, matches={"m1": match()}, calendar=diary(leave=leave), settings=SETTINGS, now=NOW
    )
    on_leave = [s.number for s in first.sessions if _local(s.starts_at).date() >= leave[0].start]
    assert sorted(u.number for u in result.unplanned if u.number is not None) == on_leave
    assert {u.code for u in result.unplanned} == {"no_time_to_move"}
    assert all(_local(s.starts_at).date() < leave[0].start for s in result.sessions)
    # the sessions still planned carry the ending markers: the last of them closes
    kept = [s for s in first.sessions if s.number not in on_leave]
    changed = {s.number: s for s in result.sessions}
    assert [changed.get(s.number, s).kind for s in kept][-1] == "closing"


def test_a_session_on_a_newly_closed_day_moves_off_it() -> None:
    first = plan([match()], {"v1": diary()}, SETTINGS, now=NOW)
    closed = _local(first.sessions[2].starts_at).date()
    result = changes.replan_for_leave(
        first.sessions,
        matches={"m1": match()},
        calendar=diary(),
        settings=replace(SETTINGS, closed_days=(closed,)),
        now=NOW,
    )
    assert not result.unplanned and [s.number for s in result.sessions if s.number == 3]
    assert all(_local(s.starts_at).date() != closed for s in result.sessions)


def test_numbered_gives_numbers_in_date_order_and_the_markers_on_the_last_sessions() -> None:
    monday = datetime(2027, 1, 4, 10, tzinfo=UTC)
    starts = [monday + timedelta(weeks=w) for w in (0, 1, 6, 7, 2, 3, 4, 5)]  # 1, 2, 7, 8, 3, 4, 5, 6 by date
    assert numbered(starts, 2) == [
        (1, "regular"),
        (2, "regular"),
        (7, "regular"),
        (8, "closing"),
        (3, "regular"),
        (4, "regular"),
        (5, "regular"),
        (6, "ending_conversation"),
    ]
