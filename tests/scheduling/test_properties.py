"""Property tests on small random batches: whatever is planned keeps every rule."""

import itertools
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import bench, calendar, changes
from scheduling.kinds import numbered
from scheduling.model import DateRange, MatchToPlan, Settings, VolunteerCalendar, WeeklyWindow
from scheduling.options import gap_minutes, place_of
from scheduling.solver import plan

LONDON = ZoneInfo("Europe/London")
RULES = Settings(time_limit_s=2.0)
NOW = datetime(2026, 11, 24, tzinfo=UTC)
PLACES = [(55.9759, -3.1707), (55.9532, -3.1146), (55.94, -3.21), (55.99, -3.40)]


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[MatchToPlan], dict[str, VolunteerCalendar]]:
    rng = random.Random(draw(st.integers(0, 100_000)))
    volunteers = [f"v{i}" for i in range(rng.randint(1, 3))]
    diaries = {}
    for vid in volunteers:
        start = datetime(2026, 12, 1, tzinfo=UTC).date() + timedelta(days=rng.randint(0, 40))
        leave = (DateRange(start, start + timedelta(days=rng.randint(0, 10))),) if rng.random() < 0.5 else ()
        diaries[vid] = VolunteerCalendar(vid, leave=leave, max_sessions_per_week=rng.randint(1, 3))
    matches = []
    for i in range(rng.randint(1, 5)):

        def windows() -> tuple[WeeklyWindow, ...]:
            return tuple(
                WeeklyWindow(d, s, s + rng.choice([60, 120, 180]))
                for d, s in {(rng.randrange(5), rng.choice([540, 600, 780])) for _ in range(2)}
            )

        lat, lon = rng.choice(PLACES)
        matches.append(
            MatchToPlan(
                f"m{i}",
                rng.choice(volunteers),
                windows(),
                windows(),
                rng.choice(["home_visit", "telephone"]),
                lat,
                lon,
                rng.randint(2, 6),
                datetime(2026, 12, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 14)),
            )
        )
    return matches, diaries


def _inside(windows: tuple[WeeklyWindow, ...], start: datetime, end: datetime) -> bool:
    local_start, local_end = start.astimezone(LONDON), end.astimezone(LONDON)
    minutes = local_start.hour * 60 + local_start.minute
    length = int((local_end - local_start).total_seconds() // 60)
    return any(
        w.day == local_start.weekday() and w.start_min <= minutes and minutes + length <= w.end_min for w in windows
    )


@settings(max_examples=30, deadline=None)
@given(batches())
def test_every_plan_keeps_every_rule(batch: tuple[list[MatchToPlan], dict[str, VolunteerCalendar]]) -> None:
    matches, diaries = batch
    result = plan(matches, diaries, RULES, now=datetime(2026, 11, 24, tzinfo=UTC))
    by_id = {m.match_id: m for m in matches}
    planned = {s.match_id for s in result.sessions}
    assert planned | {u.match_id for u in result.unplanned} == set(by_id)
    assert not planned & {u.match_id for u in result.unplanned}
    holidays = calendar.bank_holidays("GB", "SCT", 2026, 2028)
    for match_id in planned:
        own = sorted((s for s in result.sessions if s.match_id == match_id), key=lambda s: s.starts_at)
        assert [s.number for s in own] == list(range(1, by_id[match_id].sessions + 1))
        assert own[-1].kind == "closing"
        days = [s.starts_at.astimezone(LONDON).date() for s in own]
        assert all((b - a).days >= by_id[match_id].min_days_apart for a, b in itertools.pairwise(days))
    for s in result.sessions:
        m = by_id[s.match_id]
        day = s.starts_at.astimezone(LONDON).date()
        assert _inside(m.parent_availability, s.starts_at, s.ends_at)
        assert _inside(m.volunteer_availability, s.starts_at, s.ends_at)
        assert day not in holidays and not calendar.on_leave(day, diaries[m.volunteer_id].leave)
    for vid, diary in diaries.items():
        hers = sorted((s for s in result.sessions if by_id[s.match_id].volunteer_id == vid), key=lambda s: s.starts_at)
        weeks = Counter(calendar.monday_of(s.starts_at.astimezone(LONDON).date()) for s in hers)
        assert all(n <= diary.max_sessions_per_week for n in weeks.values())
        for a, b in itertools.combinations(hers, 2):  # every pair, not only neighbours: travel can span one
            here = place_of(a.format, by_id[a.match_id].lat, by_id[a.match_id].lon)
            there = place_of(b.format, by_id[b.match_id].lat, by_id[b.match_id].lon)
            assert b.starts_at >= a.ends_at + timedelta(minutes=gap_minutes(here, there, RULES))


@settings(max_examples=30, deadline=None)
@given(batches())
def test_cp_sat_plans_at_least_as_many_matches_as_first_fit(
    batch: tuple[list[MatchToPlan], dict[str, VolunteerCalendar]],
) -> None:
    matches, diaries = batch
    result = plan(matches, diaries, RULES, now=NOW)
    first_fit = {s.match_id for s in bench.first_fit_plan(matches, diaries, RULES, now=NOW)}
    planned = {s.match_id for s in result.sessions}
    assert len(planned) >= len(first_fit)
    assert planned | {u.match_id for u in result.unplanned} == {m.match_id for m in matches}
    assert not planned & {u.match_id for u in result.unplanned}


@st.composite
def disruptions(draw: st.DrawFn) -> tuple[tuple[DateRange, ...], tuple[date, ...], tuple[DateRange, ...]]:
    """New leave for every volunteer (a day to five months), days the programme closes, a pause for m0."""
    first = date(2026, 12, 1)
    leave = tuple(
        DateRange(start, start + timedelta(days=draw(st.integers(0, 150))))
        for start in draw(st.lists(st.dates(first, first + timedelta(days=90)), max_size=2))
    )
    closed = tuple(draw(st.lists(st.dates(first, first + timedelta(days=100)), max_size=4)))
    pause_start = draw(st.none() | st.dates(first, first + timedelta(days=60)))
    pause = () if pause_start is None else (DateRange(pause_start, pause_start + timedelta(weeks=6)),)
    return leave, closed, pause


@settings(max_examples=25, deadline=None)
@given(batches(), disruptions())
def test_after_leave_closed_days_and_pauses_no_session_is_left_on_them_and_numbers_follow_the_dates(
    batch: tuple[list[MatchToPlan], dict[str, VolunteerCalendar]],
    disruption: tuple[tuple[DateRange, ...], tuple[date, ...], tuple[DateRange, ...]],
) -> None:
    matches, diaries = batch
    leave, closed, pause = disruption
    first = plan(matches, diaries, replace(RULES, time_limit_s=0.5), now=NOW)
    rules = replace(RULES, closed_days=closed)
    by_id = {m.match_id: replace(m, pauses=pause) if m.match_id == "m0" else m for m in matches}
    current = {(s.match_id, s.number): s for s in first.sessions}
    for vid, diary in diaries.items():
        hers = [s for s in first.sessions if by_id[s.match_id].volunteer_id == vid]
        diaries[vid] = replace(diary, leave=diary.leave + leave)
        result = changes.replan_for_leave(hers, matches=by_id, calendar=diaries[vid], settings=rules, now=NOW)
        current.update({(s.match_id, s.number): s for s in result.sessions})
        for missing in result.unplanned:
            assert missing.code == "no_time_to_move" and missing.number is not None
            del current[(missing.match_id, missing.number)]
    holidays = calendar.bank_holidays("GB", "SCT", 2026, 2028) | set(closed)
    for s in current.values():
        m = by_id[s.match_id]
        day = s.starts_at.astimezone(LONDON).date()
        assert day not in holidays
        assert not calendar.on_leave(day, diaries[m.volunteer_id].leave)
        assert not calendar.on_leave(day, m.pauses)
    for match_id in {s.match_id for s in current.values()}:
        own = [s for s in current.values() if s.match_id == match_id]
        numbers = numbered([s.starts_at for s in own], RULES.ending_conversation_offset)
        by_date = [n for _, (n, _) in sorted(zip([s.starts_at for s in own], numbers, strict=True))]
        assert by_date == list(range(1, len(own) + 1))
        kinds = [k for _, (_, k) in sorted(zip([s.starts_at for s in own], numbers, strict=True))]
        assert kinds[-1] == "closing" and kinds.count("closing") == 1
