"""`python -m scheduling.bench`: a batch of accepted matches over many volunteers with realistic weeks (weekday
mornings and afternoons, some evenings, home visits across Scotland, leave, sessions already in diaries),
planned by CP-SAT and by a greedy first fit in the same run; then volunteers accepting two or three matches at
once, planned one by one (each accept on its own, around the ones before) and jointly; then the time of one
reschedule; then the same batch with its in-person matches at venues (opening hours, 1-3 rooms) beside the batch
without them. The steady-slot share of both engines comes last."""

import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from scheduling import calendar, changes, greedy, options, solver
from scheduling.model import (
    BusyInterval,
    DateRange,
    MatchToPlan,
    PlannedSession,
    Settings,
    Venue,
    VolunteerCalendar,
    WeeklyWindow,
)

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)  # the horizon crosses St Andrew's Day, Christmas and New Year
TOWNS = [
    (55.953, -3.189),
    (55.864, -4.252),
    (57.149, -2.094),
    (56.462, -2.971),
    (57.478, -4.224),
    (56.117, -3.937),
    (56.396, -3.437),
    (56.002, -3.784),
    (55.886, -3.523),
    (56.111, -3.159),
    (55.458, -4.629),
    (55.070, -3.605),
]  # Edinburgh, Glasgow, Aberdeen, Dundee, Inverness, Stirling, Perth,
# Falkirk, Livingston, Kirkcaldy, Ayr, Dumfries
MORNING, AFTERNOON, EVENING = (570, 750), (780, 960), (1080, 1230)
FORMATS = ["home_visit"] * 10 + ["telephone"] * 6 + ["in_person"] * 3 + ["video"]


def _windows(rng: random.Random) -> tuple[WeeklyWindow, ...]:
    windows = set()
    for _ in range(rng.randint(2, 5)):
        part = rng.choices([MORNING, AFTERNOON, EVENING], weights=[5, 4, 1])[0]
        windows.add(WeeklyWindow(rng.randrange(5), *part))
    if rng.random() < 0.1:
        windows.add(WeeklyWindow(5, *MORNING))
    return tuple(sorted(windows, key=lambda w: (w.day, w.start_min)))


def _parent_windows(rng: random.Random, hers: tuple[WeeklyWindow, ...]) -> tuple[WeeklyWindow, ...]:
    """Mostly overlapping the volunteer's (the matching engine saw to that), shifted a little; a few not."""
    windows = set()
    for w in hers:
        if rng.random() < 0.6:
            shift = rng.choice([-60, -30, 0, 0, 30, 60])
            windows.add(WeeklyWindow(w.day, w.start_min + shift, w.end_min + shift))
    if not windows or rng.random() < 0.3:
        windows.add(WeeklyWindow(rng.randrange(5), *rng.choice([MORNING, AFTERNOON])))
    return tuple(sorted(windows, key=lambda w: (w.day, w.start_min)))


def population(
    n_matches: int = 500, n_volunteers: int = 300, seed: int = 7
) -> tuple[list[MatchToPlan], dict[str, VolunteerCalendar]]:
    """Accepted matches and their volunteers' diaries; no volunteer holds more matches than her capacity."""
    rng = random.Random(seed)
    diaries: dict[str, VolunteerCalendar] = {}
    availability: dict[str, tuple[WeeklyWindow, ...]] = {}
    homes: dict[str, tuple[float, float]] = {}
    free_places: list[str] = []
    for i in range(n_volunteers):
        vid = f"v{i:03d}"
        capacity = rng.choices([1, 2, 3], weights=[25, 45, 30])[0]
        limit = capacity if rng.random() < 0.8 else max(1, capacity - 1)
        availability[vid] = _windows(rng)
        town = rng.choice(TOWNS)
        homes[vid] = (town[0] + rng.gauss(0, 0.02), town[1] + rng.gauss(0, 0.03))
        leave: tuple[DateRange, ...] = ()
        if rng.random() < 0.15:
            start = NOW.date() + timedelta(days=rng.randint(7, 60))
            leave = (DateRange(start, start + timedelta(days=rng.randint(3, 14))),)
        existing: tuple[BusyInterval, ...] = ()
        if rng.random() < 0.3:  # a match already under way: its remaining weekly sessions are fixed
            capacity -= 1
            w = rng.choice(availability[vid])
            monday = calendar.monday_of(NOW.date())
            existing = tuple(
                _busy(monday + timedelta(weeks=k, days=w.day), w.start_min) for k in range(1, rng.randint(2, 7))
            )
        diaries[vid] = VolunteerCalendar(
            vid,
            leave=leave,
            existing=existing,
            max_sessions_per_week=limit,
            home_lat=homes[vid][0],
            home_lon=homes[vid][1],
        )
        free_places += [vid] * capacity
    rng.shuffle(free_places)
    matches = []
    for i, vid in enumerate(free_places[:n_matches]):
        fmt = rng.choice(FORMATS)
        lat, lon = (
            (homes[vid][0] + rng.gauss(0, 0.04), homes[vid][1] + rng.gauss(0, 0.06))
            if fmt in ("home_visit", "in_person")
            else (None, None)
        )
        preferred = rng.choice([600, 660, 840]) if rng.random() < 0.2 else None
        matches.append(
            MatchToPlan(
                f"m{i:03d}",
                vid,
                _parent_windows(rng, availability[vid]),
                availability[vid],
                fmt,
                lat,
                lon,
                8,
                NOW + timedelta(days=rng.randint(0, 14)),
                preferred_start_min=preferred,
            )
        )
    return matches, diaries


def _busy(day: date, start_min: int) -> BusyInterval:
    starts = calendar.local_datetime(day, start_min, calendar.zone("Europe/London"))
    return BusyInterval(starts, starts + timedelta(hours=1), "telephone")


def first_fit_plan(
    matches: Sequence[MatchToPlan], diaries: dict[str, VolunteerCalendar], settings: Settings, *, now: datetime
) -> list[PlannedSession]:
    """The baseline: the same options per volunteer, each match in turn taking its first fit."""
    tz = calendar.zone(settings.time_zone)
    by_volunteer: dict[str, list[MatchToPlan]] = defaultdict(list)
    for match in matches:
        by_volunteer[match.volunteer_id].append(match)
    out: list[PlannedSession] = []
    notice = now + timedelta(hours=settings.min_notice_hours)
    for vid, hers in by_volunteer.items():
        diary = diaries.get(vid) or VolunteerCalendar(vid)
        busy = options.busy_by_day(diary.existing, settings)
        found = [
            options.for_match(
                m,
                diary,
                settings,
                not_before=max(m.earliest_start, notice),
                weeks=settings.weeks_for(m.sessions),
                busy=busy,
            )
            for m in hers
        ]
        fixed = Counter(calendar.monday_of(calendar.local_date(b.starts_at, tz)) for b in diary.existing)
        fits = greedy.first_fit(hers, found, settings, limit=diary.max_sessions_per_week, fixed_per_week=dict(fixed))
        for match, fit in zip(hers, fits, strict=True):
            if fit is not None:
                out += solver.to_sessions(match, fit, settings)
    return out


def summary(
    sessions: Sequence[PlannedSession], matches: Sequence[MatchToPlan], settings: Settings
) -> tuple[int, float, float]:
    """Matches fully scheduled, mean days from earliest start to the first session, share on one steady slot."""
    tz = calendar.zone(settings.time_zone)
    by_match: dict[str, list[PlannedSession]] = defaultdict(list)
    for s in sessions:
        by_match[s.match_id].append(s)
    earliest = {m.match_id: m.earliest_start for m in matches}
    days = [(min(s.starts_at for s in own) - earliest[mid]).total_seconds() / 86400 for mid, own in by_match.items()]
    steady = [
        len({(s.starts_at.astimezone(tz).weekday(), calendar.local_minute(s.starts_at, tz)) for s in own}) == 1
        for own in by_match.values()
    ]
    return len(by_match), statistics.mean(days) if days else 0.0, sum(steady) / len(steady) if steady else 0.0


def main() -> None:
    """Print the comparison table, the joint planning row, the reschedule time and the steady-slot shares."""
    settings = Settings(time_limit_s=5.0, workers=2)
    matches, diaries = population()
    rows = []
    started = time.perf_counter()
    result = solver.plan(matches, diaries, settings, now=NOW)
    rows.append(("cp-sat", *summary(result.sessions, matches, settings), time.perf_counter() - started))
    started = time.perf_counter()
    baseline = first_fit_plan(matches, diaries, settings, now=NOW)
    rows.append(("greedy", *summary(baseline, matches, settings), time.perf_counter() - started))
    print(f"{len(matches)} matches over {len(diaries)} volunteers, 8 weekly sessions each, 2 workers")
    print("| engine | fully scheduled | mean days to 1st session | steady weekly slot | seconds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, done, days, steady, seconds in rows:
        print(f"| {name} | {done} | {days:.1f} | {steady:.0%} | {seconds:.2f} |")
    print(f"cp-sat / greedy fully scheduled: {rows[0][1] / rows[1][1]:.3f}")
    greedy_ids = {s.match_id for s in baseline}
    cp_ids = {s.match_id for s in result.sessions}
    print(
        f"greedy-scheduled matches CP-SAT also schedules: {len(greedy_ids & cp_ids)} of {len(greedy_ids)}; "
        f"CP-SAT proven optimal for every volunteer: {result.optimal}"
    )
    reasons = Counter(u.code for u in result.unplanned)
    for code, count in reasons.most_common():
        print(f"  unplanned x{count}: {code}")
    print()
    print("| planning (volunteers accepting 2-3 matches at once) | volunteers | matches | planned | seconds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, volunteers, accepted, planned, seconds in joint_planning(matches, diaries):
        print(f"| {name} | {volunteers} | {accepted} | {planned} | {seconds:.2f} |")
    print(f"one reschedule: {_time_reschedule(matches, diaries, result.sessions, settings) * 1000:.0f} ms")
    print()
    venue_rows(matches, diaries, result.sessions, rows[0][4], settings)
    print(f"steady weekly slot, cp-sat: {rows[0][3]:.1%}")
    print(f"steady weekly slot, greedy first fit: {rows[1][3]:.1%}")


def at_venues(matches: Sequence[MatchToPlan], seed: int = 11) -> list[MatchToPlan]:
    """The batch with each in-person match at its town's venue: weekdays 09:30-16:00 (some closed one day, some
    open Tuesday and Thursday evenings), 1-3 rooms, at the venue's coordinates."""
    rng = random.Random(seed)
    venues = []
    for k, town in enumerate(TOWNS):
        hours = [WeeklyWindow(d, 570, 960) for d in range(5)]
        if rng.random() < 0.3:
            hours.pop(rng.randrange(5))
        if rng.random() < 0.4:
            hours += [WeeklyWindow(1, 1080, 1230), WeeklyWindow(3, 1080, 1230)]
        venues.append((Venue(f"venue{k}", tuple(hours), rooms=rng.choice([1, 1, 2, 3])), town))
    out = []
    for m in matches:
        if m.format != "in_person" or m.lat is None or m.lon is None:
            out.append(m)
            continue
        here = (m.lat, m.lon)
        venue, town = min(venues, key=lambda vt: calendar.distance_km(here, vt[1]))
        out.append(replace(m, venue=venue, lat=town[0], lon=town[1]))
    return out


def venue_rows(
    matches: Sequence[MatchToPlan],
    diaries: dict[str, VolunteerCalendar],
    without: Sequence[PlannedSession],
    without_s: float,
    settings: Settings,
) -> None:
    """The batch planned with venues beside the same batch without them (the plan above), in-person matches
    counted apart; every session checked against its venue's hours and rooms."""
    placed = at_venues(matches)
    started = time.perf_counter()
    result = solver.plan(placed, diaries, settings, now=NOW)
    seconds = time.perf_counter() - started
    venue_of = {m.match_id: m.venue for m in placed if m.venue is not None}
    outside = sum(
        not options.inside_hours(s.starts_at, s.ends_at, venue_of[s.match_id].opening_hours, settings)
        for s in result.sessions
        if s.match_id in venue_of
    )
    held: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for s in result.sessions:
        if s.match_id in venue_of:
            held[venue_of[s.match_id].venue_id].append((s.starts_at, s.ends_at))
    rooms = {v.venue_id: v.rooms for v in venue_of.values()}
    over = sum(options.peak_booked(a, b, taken) > rooms[vid] for vid, taken in held.items() for a, b in taken)
    in_person = set(venue_of)
    done_with = len({s.match_id for s in result.sessions})
    done_without = len({s.match_id for s in without})
    print(f"{len(in_person)} in-person matches at {len({v.venue_id for v in venue_of.values()})} venues")
    print("| plan | fully scheduled | in person fully scheduled | seconds |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| without venues | {done_without} | {len({s.match_id for s in without} & in_person)} | {without_s:.2f} |")
    print(f"| with venues | {done_with} | {len({s.match_id for s in result.sessions} & in_person)} | {seconds:.2f} |")
    print(
        f"with / without venues fully scheduled: {done_with / max(1, done_without):.3f}; "
        f"seconds {seconds / without_s:.2f}x"
    )
    print(f"sessions outside a venue's hours: {outside}; sessions in a venue over its rooms: {over}")


def joint_planning(
    matches: Sequence[MatchToPlan], diaries: dict[str, VolunteerCalendar], *, volunteers: int = 60
) -> list[tuple[str, int, int, int, float]]:
    """Volunteers with two or three of the batch's matches, each accepted at once: planned one by one (each
    match alone around the sessions planned before it, as accepts are planned today) and all together in one
    model per volunteer. Rows: (way, volunteers, matches, fully planned, seconds)."""
    settings = Settings(time_limit_s=0.2, workers=1)
    by_volunteer: dict[str, list[MatchToPlan]] = defaultdict(list)
    for match in matches:
        by_volunteer[match.volunteer_id].append(match)
    chosen = sorted(v for v, hers in by_volunteer.items() if len(hers) >= 2)[:volunteers]
    accepted = sum(len(by_volunteer[v]) for v in chosen)
    started = time.perf_counter()
    one_by_one = 0
    for vid in chosen:
        diary = diaries[vid]
        for match in by_volunteer[vid]:
            done = solver.plan_for_volunteer([match], diary, settings, now=NOW)
            one_by_one += not done.unplanned
            fixed = tuple(BusyInterval(s.starts_at, s.ends_at, s.format, match.lat, match.lon) for s in done.sessions)
            diary = replace(diary, existing=diary.existing + fixed)
    alone_s = time.perf_counter() - started
    started = time.perf_counter()
    jointly = sum(
        len(by_volunteer[v]) - len(solver.plan_for_volunteer(by_volunteer[v], diaries[v], settings, now=NOW).unplanned)
        for v in chosen
    )
    return [
        ("one by one", len(chosen), accepted, one_by_one, alone_s),
        ("jointly", len(chosen), accepted, jointly, time.perf_counter() - started),
    ]


def _time_reschedule(
    matches: Sequence[MatchToPlan],
    diaries: dict[str, VolunteerCalendar],
    sessions: Sequence[PlannedSession],
    settings: Settings,
) -> float:
    by_id = {m.match_id: m for m in matches}
    moving = sessions[3]
    match = by_id[moving.match_id]
    own = [s for s in sessions if s.match_id == match.match_id and s != moving]
    hers = tuple(
        BusyInterval(s.starts_at, s.ends_at, s.format, by_id[s.match_id].lat, by_id[s.match_id].lon)
        for s in sessions
        if by_id[s.match_id].volunteer_id == match.volunteer_id and s.match_id != match.match_id
    )
    diary = diaries[match.volunteer_id]
    diary = VolunteerCalendar(diary.volunteer_id, diary.leave, diary.existing + hers, diary.max_sessions_per_week)
    started = time.perf_counter()
    changes.reschedule(
        moving,
        not_before=None,
        preferred_day=None,
        calendar=diary,
        match=match,
        settings=settings,
        fixed_other_sessions=own,
        now=NOW,
    )
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
