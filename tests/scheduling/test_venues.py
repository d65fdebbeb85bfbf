"""Issue 26, engine side: in-person sessions at a venue only while it is open, never more at once than its rooms
(its fixed bookings and the other sessions of the same call counted), in plans, first fit, moves and re-plans."""

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from scheduling import changes, greedy, options
from scheduling.model import (
    DateRange,
    MatchToPlan,
    PlannedSession,
    Settings,
    Venue,
    VolunteerCalendar,
    WeeklyWindow,
)
from scheduling.solver import plan, plannable
from tests.scheduling.builders import NOW, SETTINGS, diary, match

LONDON = ZoneInfo("Europe/London")
HUB = (55.9533, -3.1883)
WEEKDAYS_9_TO_5 = tuple(WeeklyWindow(d, 540, 1020) for d in range(5))


def _venue(**overrides: object) -> Venue:
    return replace(Venue("hub", (WeeklyWindow(1, 600, 780),), rooms=1), **overrides)  # type: ignore[arg-type]


def _at_hub(match_id: str, volunteer_id: str, venue: Venue, **overrides: object) -> MatchToPlan:
    base = match(
        match_id=match_id,
        volunteer_id=volunteer_id,
        format="in_person",
        lat=HUB[0],
        lon=HUB[1],
        sessions=4,
        venue=venue,
        parent_availability=WEEKDAYS_9_TO_5,
        volunteer_availability=WEEKDAYS_9_TO_5,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def _local(s: PlannedSession) -> datetime:
    return s.starts_at.astimezone(LONDON)


def test_sessions_at_a_venue_fall_only_inside_its_opening_hours() -> None:
    # Both people are free every weekday 09:00-17:00; the hub opens on Tuesdays 10:00-13:00 only.
    result = plan([_at_hub("m1", "v1", _venue())], {"v1": diary()}, SETTINGS, now=NOW)
    assert len(result.sessions) == 4
    for s in result.sessions:
        local = _local(s)
        assert local.weekday() == 1 and 600 <= local.hour * 60 + local.minute <= 720


def test_a_venue_never_open_when_both_are_free_is_named_as_the_reason() -> None:
    closed = _venue(opening_hours=(WeeklyWindow(5, 600, 780),))  # Saturdays only; both are free on weekdays
    result = plan([_at_hub("m1", "v1", closed)], {"v1": diary()}, SETTINGS, now=NOW)
    assert result.sessions == ()
    assert result.unplanned[0].code == "venue_closed"
    inactive = plan([_at_hub("m1", "v1", _venue(opening_hours=()))], {"v1": diary()}, SETTINGS, now=NOW)
    assert inactive.unplanned[0].code == "venue_closed"


def test_two_volunteers_at_a_one_room_venue_in_one_call_get_different_hours() -> None:
    hub = _venue(opening_hours=(WeeklyWindow(1, 600, 720),))  # room for two sessions on a Tuesday morning
    first, second = _at_hub("m1", "v1", hub), _at_hub("m2", "v2", hub)
    result = plan([first, second], {"v1": diary(), "v2": replace(diary(), volunteer_id="v2")}, SETTINGS, now=NOW)
    assert len(result.sessions) == 8
    by_match = {
        m: {(_local(s).hour, _local(s).minute) for s in result.sessions if s.match_id == m} for m in ("m1", "m2")
    }
    assert by_match["m1"].isdisjoint(by_match["m2"])
    _assert_rooms(result.sessions, {"m1": hub, "m2": hub})
    two_rooms = replace(hub, rooms=2)
    shared = plan(
        [replace(first, venue=two_rooms), replace(second, venue=two_rooms)],
        {"v1": diary(), "v2": replace(diary(), volunteer_id="v2")},
        SETTINGS,
        now=NOW,
    )
    starts = {s.starts_at for s in shared.sessions}
    assert len(starts) == 4  # two rooms: both take the earliest hour, side by side


def test_fixed_bookings_of_other_matches_take_the_room() -> None:
    first = plan([_at_hub("m1", "v1", _venue())], {"v1": diary()}, SETTINGS, now=NOW)
    booked = tuple((s.starts_at, s.ends_at) for s in first.sessions)
    second = plan([_at_hub("m2", "v2", _venue(booked=booked))], {"v2": diary(volunteer_id="v2")}, SETTINGS, now=NOW)
    assert len(second.sessions) == 4
    assert not {s.starts_at for s in second.sessions} & {s.starts_at for s in first.sessions}
    found = plannable(
        _at_hub("m3", "v3", _venue(opening_hours=(WeeklyWindow(1, 600, 660),), booked=booked)),
        diary(volunteer_id="v3"),
        replace(SETTINGS, horizon_weeks=4),
        now=NOW,
    )
    assert not found.plannable and found.code == "not_enough_free_weeks" and "venue" in (found.reason or "")


def test_first_fit_keeps_to_the_venue_as_the_model_does() -> None:
    hub = _venue(booked=((datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 1, 11, tzinfo=UTC)),))
    m = _at_hub("m1", "v1", hub)
    found = options.for_match(m, diary(), SETTINGS, not_before=m.earliest_start, weeks=8)
    fit = greedy.first_fit([m], [found], SETTINGS, limit=3, fixed_per_week={})[0]
    assert fit is not None and len(fit) == 4
    for o in fit:
        assert options.inside_hours(o.starts_at, o.ends_at, hub.opening_hours, SETTINGS)
        assert not options.venue_full(o.starts_at, o.ends_at, m)


def test_narrowed_hours_move_sessions_back_inside_them_like_leave() -> None:
    before = _venue(opening_hours=(WeeklyWindow(1, 600, 780), WeeklyWindow(3, 600, 780)))
    m = _at_hub("m1", "v1", before, parent_availability=before.opening_hours)
    planned = plan([m], {"v1": diary()}, SETTINGS, now=NOW).sessions
    assert {_local(s).weekday() for s in planned} == {1}
    after = replace(m, venue=replace(before, opening_hours=(WeeklyWindow(3, 600, 780),)))  # Thursdays only now
    result = changes.replan_for_leave(planned, matches={"m1": after}, calendar=diary(), settings=SETTINGS, now=NOW)
    assert len(result.sessions) == 4 and result.unplanned == ()
    assert {_local(s).weekday() for s in result.sessions} == {3}
    gone = replace(m, venue=replace(before, opening_hours=()))  # deactivated: no session can stay or move
    closed = changes.replan_for_leave(planned, matches={"m1": gone}, calendar=diary(), settings=SETTINGS, now=NOW)
    assert {u.code for u in closed.unplanned} == {"no_time_to_move"} and len(closed.unplanned) == 4


def test_fewer_rooms_move_only_the_sessions_one_too_many() -> None:
    m = _at_hub("m1", "v1", _venue(rooms=2))
    planned = plan([m], {"v1": diary()}, SETTINGS, now=NOW).sessions
    # another volunteer's sessions at the very same times; one room only from now on
    other = tuple((s.starts_at, s.ends_at) for s in planned[:2])
    one_room = replace(m, venue=_venue(rooms=1, booked=other))
    result = changes.replan_for_leave(planned, matches={"m1": one_room}, calendar=diary(), settings=SETTINGS, now=NOW)
    moved = {s.number for s in result.sessions if s.starts_at != planned[s.number - 1].starts_at}
    assert moved == {1, 2}
    assert all(not options.misplaced(s.starts_at, s.ends_at, one_room, SETTINGS) for s in result.sessions)


def test_peak_booked_counts_overlap_not_bookings() -> None:
    t = datetime(2026, 12, 1, 10, tzinfo=UTC)
    hour = timedelta(hours=1)
    back_to_back = ((t, t + hour), (t + hour, t + 2 * hour))
    assert options.peak_booked(t, t + 2 * hour, back_to_back) == 1
    assert options.peak_booked(t, t + hour, ((t, t + hour), (t + hour / 2, t + 2 * hour))) == 2


# --- the property: random venues and plans -------------------------------------------------------------------

RULES = Settings(time_limit_s=1.0)


@st.composite
def venue_plans(draw: st.DrawFn) -> tuple[list[MatchToPlan], dict[str, VolunteerCalendar], dict[str, Venue]]:
    rng = random.Random(draw(st.integers(0, 100_000)))
    venues = {}
    for k in range(rng.randint(1, 2)):
        hours = tuple(
            WeeklyWindow(d, s, s + rng.choice([90, 120, 180, 240]))
            for d, s in {(rng.randrange(5), rng.choice([540, 600, 615, 780])) for _ in range(rng.randint(1, 3))}
        )
        start = datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(days=rng.randrange(14), minutes=15 * rng.randrange(32))
        booked = tuple(
            (start + timedelta(weeks=w), start + timedelta(weeks=w, minutes=60)) for w in range(rng.randint(0, 4))
        )
        venues[f"venue{k}"] = Venue(f"venue{k}", hours, rooms=rng.randint(1, 3), booked=booked)
    volunteers = [f"v{i}" for i in range(rng.randint(1, 4))]
    diaries = {}
    for vid in volunteers:
        leave_start = date(2026, 12, 1) + timedelta(days=rng.randint(0, 40))
        leave = (DateRange(leave_start, leave_start + timedelta(days=rng.randint(0, 7))),) if rng.random() < 0.3 else ()
        diaries[vid] = VolunteerCalendar(vid, leave=leave, max_sessions_per_week=rng.randint(1, 3))
    matches = []
    for i in range(rng.randint(1, 6)):
        wide = tuple(WeeklyWindow(d, 540, 1020) for d in range(5) if rng.random() < 0.7) or WEEKDAYS_9_TO_5
        matches.append(
            _at_hub(
                f"m{i}",
                rng.choice(volunteers),
                venues[rng.choice(sorted(venues))],
                parent_availability=wide,
                sessions=rng.randint(2, 5),
                earliest_start=datetime(2026, 12, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 10)),
            )
        )
    return matches, diaries, venues


def _assert_rooms(sessions: tuple[PlannedSession, ...], venue_of: dict[str, Venue]) -> None:
    by_venue: dict[str, list[tuple[datetime, datetime]]] = {}
    for s in sessions:
        venue = venue_of[s.match_id]
        assert options.inside_hours(s.starts_at, s.ends_at, venue.opening_hours, RULES), s
        by_venue.setdefault(venue.venue_id, list(venue.booked)).append((s.starts_at, s.ends_at))
    for venue_id, held in by_venue.items():
        rooms = next(v.rooms for v in venue_of.values() if v.venue_id == venue_id)
        for start, end in held:
            assert options.peak_booked(start, end, held) <= rooms, (venue_id, start)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(venue_plans())
def test_no_session_outside_opening_hours_and_never_more_than_rooms_at_once(
    case: tuple[list[MatchToPlan], dict[str, VolunteerCalendar], dict[str, Venue]],
) -> None:
    matches, diaries, _ = case
    venue_of = {m.match_id: m.venue for m in matches if m.venue is not None}
    result = plan(matches, diaries, RULES, now=NOW)
    _assert_rooms(result.sessions, venue_of)
    for m in matches:  # first fit, the fallback and hint, keeps the same rules on its own
        found = options.for_match(m, diaries[m.volunteer_id], RULES, not_before=m.earliest_start, weeks=10)
        fit = greedy.first_fit([m], [found], RULES, limit=3, fixed_per_week={})[0] or []
        _assert_rooms(
            tuple(PlannedSession(m.match_id, 1, "regular", o.starts_at, o.ends_at, m.format) for o in fit), venue_of
        )
