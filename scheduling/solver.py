"""Planning weekly sessions with CP-SAT. A volunteer's matches share her time and nobody else's, so each
volunteer is an independent model holding all her matches of the call (planned together, not one by one),
solved side by side in worker threads under one overall time limit; the best plan found is returned, with
whether every part is proven optimal. `plannable` says before an accept whether one more match fits."""

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from ortools.sat.python import cp_model

from scheduling import calendar, constraints, greedy, options
from scheduling.kinds import mark_kinds
from scheduling.model import MatchToPlan, PlannedSession, PlanResult, Settings, Unplanned, VolunteerCalendar

MIN_SLICE_S = 0.05  # the least time a volunteer's model is given, once it is built
HARD_WEIGHT = 50  # a model the hint leaves short gets this many shares of the time to one it already satisfies


@dataclass(frozen=True, slots=True)
class VolunteerPlan:
    """The outcome for one volunteer's matches."""

    sessions: tuple[PlannedSession, ...]
    unplanned: tuple[Unplanned, ...]
    optimal: bool


@dataclass(frozen=True, slots=True)
class Plannability:
    """Whether one match can have all its sessions; when not, `code` (from UNPLANNED_CODES) and `reason`, a
    sentence; when so, the `sessions` it would get (the service may store them as they are)."""

    match_id: str
    plannable: bool
    code: str | None = None
    reason: str | None = None
    sessions: tuple[PlannedSession, ...] = ()


class _Budget:
    """Shares the overall time limit by weight: a model whose first-fit hint already plans every match on a
    steady slot has only small costs left to lower and gets a small share; one where the hint leaves a match
    out or off its slot gets HARD_WEIGHT shares. Fast models hand their spare time on to the rest."""

    def __init__(self, deadline: float, weights: Sequence[int], parallel: int) -> None:
        self._deadline = deadline
        self._weights_left = sum(weights)
        self._parallel = max(1, parallel)
        self._lock = threading.Lock()

    def slice(self, weight: int) -> float | None:
        """Seconds for a model of this weight; None when the time is up and it is an easy one (keep its hint)."""
        with self._lock:
            left = self._deadline - time.perf_counter()
            share = left * self._parallel * weight / max(1, self._weights_left)
            self._weights_left -= weight
            if left <= 0 and weight < HARD_WEIGHT:
                return None
            return max(MIN_SLICE_S, min(left, share))


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A volunteer's matches with their options and first-fit hint, before any solving."""

    matches: Sequence[MatchToPlan]
    diary: VolunteerCalendar
    starts: list[datetime]
    found: list[list[options.Option]]
    fixed_per_week: Counter[date]
    possible: list[int]  # matches with enough free weeks to be planned at all
    hint: list[list[options.Option] | None]  # by position in `possible`

    @property
    def hard(self) -> bool:
        """Whether the hint leaves a match out or off a steady slot, so solving can still gain something."""
        return any(fit is None or len({o.slot for o in fit}) > 1 for fit in self.hint)


def plan(
    matches: Sequence[MatchToPlan], calendars: Mapping[str, VolunteerCalendar], settings: Settings, *, now: datetime
) -> PlanResult:
    """Sessions for every match that can have all of its sessions; a reason for each that cannot.

    A volunteer's matches in the call are planned together, in one model. Volunteers whose matches share a
    venue are planned in turn (the order below), each counting the venue's rooms the ones before her took, so a
    venue never holds more sessions at once than its rooms. Matches earlier in `matches` are
    preferred when a volunteer cannot take them all (pass the longest waiting first).
    `calendars` holds each volunteer's leave, fixed sessions and weekly limit (a missing one means no leave,
    nothing fixed and one session a week)."""
    started = time.perf_counter()
    by_volunteer: dict[str, list[MatchToPlan]] = defaultdict(list)
    for match in matches:
        by_volunteer[match.volunteer_id].append(match)
    prepared = {
        v: _prepare(hers, calendars.get(v) or VolunteerCalendar(v), settings, now=now)
        for v, hers in by_volunteer.items()
    }
    # the models that can still gain a match or a steady slot first, then the biggest, so the threads finish together
    order = sorted(by_volunteer, key=lambda v: (not prepared[v].hard, -len(by_volunteer[v]), v))
    weights = {v: HARD_WEIGHT if prepared[v].hard else 1 for v in order}
    budget = _Budget(started + settings.time_limit_s, list(weights.values()), settings.workers)

    def solve_group(group: list[str]) -> list[VolunteerPlan]:
        # volunteers sharing a venue go one after another, each around the rooms the ones before her took
        out: list[VolunteerPlan] = []
        booked: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        for v in group:
            p = prepared[v]
            if any(m.venue is not None and m.venue.venue_id in booked for m in p.matches):
                hers = [_with_bookings(m, booked) for m in by_volunteer[v]]
                p = _prepare(hers, calendars.get(v) or VolunteerCalendar(v), settings, now=now)
            part = _finish(p, settings, time_limit_s=budget.slice(weights[v]), workers=1)
            venues = {m.match_id: m.venue.venue_id for m in p.matches if m.venue is not None}
            for s in part.sessions:
                if s.match_id in venues:
                    booked[venues[s.match_id]].append((s.starts_at, s.ends_at))
            out.append(part)
        return out

    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        parts = [part for group in pool.map(solve_group, venue_groups(order, by_volunteer)) for part in group]
    sessions = tuple(s for part in parts for s in part.sessions)
    unplanned = tuple(u for part in parts for u in part.unplanned)
    return PlanResult(
        tuple(sorted(sessions, key=lambda s: (s.match_id, s.number))),
        tuple(sorted(unplanned, key=lambda u: u.match_id)),
        all(p.optimal for p in parts),
        round(time.perf_counter() - started, 4),
    )


def venue_groups(order: Sequence[str], by_volunteer: Mapping[str, Sequence[MatchToPlan]]) -> list[list[str]]:
    """Volunteers (in `order`) in groups that share a venue, directly or through one another; a volunteer with
    no venue in common with anyone is a group of her own. Groups are solved side by side, their members in turn."""
    root = {v: v for v in order}

    def find(v: str) -> str:
        while root[v] != v:
            root[v] = root[root[v]]
            v = root[v]
        return v

    first_at: dict[str, str] = {}
    for v in order:
        for m in by_volunteer[v]:
            if m.venue is None:
                continue
            other = first_at.setdefault(m.venue.venue_id, v)
            root[find(v)] = find(other)
    groups: dict[str, list[str]] = defaultdict(list)
    for v in order:
        groups[find(v)].append(v)
    position = {v: i for i, v in enumerate(order)}
    return sorted(groups.values(), key=lambda g: position[g[0]])


def _with_bookings(match: MatchToPlan, booked: Mapping[str, Sequence[tuple[datetime, datetime]]]) -> MatchToPlan:
    """The match with sessions planned at its venue earlier in the call counted as booked there."""
    if match.venue is None or not booked.get(match.venue.venue_id):
        return match
    venue = replace(match.venue, booked=match.venue.booked + tuple(booked[match.venue.venue_id]))
    return replace(match, venue=venue)


def plan_for_volunteer(
    matches: Sequence[MatchToPlan],
    diary: VolunteerCalendar,
    settings: Settings,
    *,
    now: datetime,
    time_limit_s: float | None = None,
    workers: int | None = None,
) -> VolunteerPlan:
    """One volunteer's matches planned together around her fixed sessions, leave and weekly limit."""
    return _finish(
        _prepare(matches, diary, settings, now=now),
        settings,
        time_limit_s=settings.time_limit_s if time_limit_s is None else time_limit_s,
        workers=settings.workers if workers is None else workers,
    )


def _prepare(
    matches: Sequence[MatchToPlan], diary: VolunteerCalendar, settings: Settings, *, now: datetime
) -> _Prepared:
    notice = now + timedelta(hours=settings.min_notice_hours)
    starts = [max(m.earliest_start, notice) for m in matches]
    busy = options.busy_by_day(diary.existing, settings)
    found = [
        options.for_match(
            m, diary, settings, not_before=start, weeks=options.horizon_weeks(m, settings, start), busy=busy
        )
        for m, start in zip(matches, starts, strict=True)
    ]
    tz = calendar.zone(settings.time_zone)
    fixed_per_week = Counter(calendar.monday_of(calendar.local_date(b.starts_at, tz)) for b in diary.existing)
    # a match whose free weeks (her weekly limit allowing) are fewer than its sessions cannot be planned at all
    possible = [
        i
        for i, (m, opts) in enumerate(zip(matches, found, strict=True))
        if len(_weeks_with_room(opts, diary.max_sessions_per_week, fixed_per_week)) >= m.sessions
    ]
    hint = _hint(
        [matches[i] for i in possible],
        [found[i] for i in possible],
        settings,
        limit=diary.max_sessions_per_week,
        fixed_per_week=dict(fixed_per_week),
    )
    return _Prepared(matches, diary, starts, found, fixed_per_week, possible, hint)


def _finish(p: _Prepared, settings: Settings, *, time_limit_s: float | None, workers: int) -> VolunteerPlan:
    """The plan from CP-SAT within `time_limit_s`, or the hint as it is when there is no time (None)."""
    chosen: dict[int, list[options.Option]] = {}
    optimal = False
    if not p.possible:
        optimal = True
    elif time_limit_s is None:
        chosen = {p.possible[k]: fit for k, fit in enumerate(p.hint) if fit is not None}
    else:
        picked, optimal = _solve(
            [p.matches[i] for i in p.possible],
            [p.found[i] for i in p.possible],
            [p.starts[i] for i in p.possible],
            p.diary,
            p.fixed_per_week,
            p.hint,
            settings,
            time_limit_s=time_limit_s,
            workers=workers,
        )
        chosen = {p.possible[k]: opts for k, opts in picked.items()}
    sessions: list[PlannedSession] = []
    unplanned: list[Unplanned] = []
    for i, match in enumerate(p.matches):
        if i in chosen:
            sessions += to_sessions(match, chosen[i], settings)
        else:
            code, sentence = explain(match, p.found[i], p.diary, p.fixed_per_week, settings, alone=len(p.matches) == 1)
            unplanned.append(Unplanned(match.match_id, sentence, code))
    return VolunteerPlan(tuple(sessions), tuple(unplanned), optimal)


def plannable(
    match: MatchToPlan,
    diary: VolunteerCalendar,
    settings: Settings,
    *,
    now: datetime,
    alongside: Sequence[MatchToPlan] = (),
) -> Plannability:
    """Whether `match` can have all its sessions around her fixed sessions (`diary.existing`, her leave, her
    weekly limit) and her other accepted matches still to be planned (`alongside`, which keep priority: they are
    planned with it in one model, before it). Asked before the volunteer is, so an accept that could never be
    planned is refused with the code and reason."""
    result = plan_for_volunteer([*alongside, match], diary, settings, now=now)
    missing = next((u for u in result.unplanned if u.match_id == match.match_id), None)
    if missing is not None:
        return Plannability(match.match_id, False, missing.code, missing.reason)
    return Plannability(
        match.match_id, True, sessions=tuple(s for s in result.sessions if s.match_id == match.match_id)
    )


def _solve(
    matches: Sequence[MatchToPlan],
    found: Sequence[Sequence[options.Option]],
    starts: Sequence[datetime],
    diary: VolunteerCalendar,
    fixed_per_week: Counter[date],
    first_fit: list[list[options.Option] | None],
    settings: Settings,
    *,
    time_limit_s: float,
    workers: int,
) -> tuple[dict[int, list[options.Option]], bool]:
    """The chosen options of each planned match (by index), and whether the plan is proven optimal."""
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{i}_{j}") for j in range(len(opts))] for i, opts in enumerate(found)]
    planned = [model.new_bool_var(f"planned{i}") for i in range(len(matches))]
    limit = diary.max_sessions_per_week
    terms: constraints.Terms = []
    for i, (match, opts, xs, is_planned, start) in enumerate(zip(matches, found, x, planned, starts, strict=True)):
        terms += constraints.add_session_count(model, match, xs, is_planned, rank_from_last=len(matches) - 1 - i)
        terms += constraints.add_one_per_week(model, opts, xs)
        terms += constraints.add_steady_slot(model, match, opts, xs, is_planned)
        terms += constraints.add_days_apart(model, match, opts, xs)
        terms += constraints.add_start_soon(opts, xs, start)
        terms += constraints.add_preferred_time(match, opts, xs)
        terms += constraints.add_room_at_edges(match, opts, xs, settings)
    terms += constraints.add_no_overlap(model, matches, found, x, settings)
    terms += constraints.add_weekly_limit(model, found, x, limit, dict(fixed_per_week))
    terms += constraints.add_spread_days(model, found, x)
    model.minimize(cp_model.LinearExpr.sum(terms))
    # the hint goes straight into the proto: add_hint per variable costs more than the whole rest of the build
    hint = model.proto.solution_hint
    for opts, xs, is_planned, fit in zip(found, x, planned, first_fit, strict=True):
        taken = set(fit or [])
        hint.vars.append(is_planned.index)
        hint.values.append(int(fit is not None))
        hint.vars.extend(var.index for var in xs)
        hint.values.extend(int(option in taken) for option in opts)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = max(1, workers)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # out of time before any solution: first fit is still a valid plan
        return {i: fit for i, fit in enumerate(first_fit) if fit is not None}, False
    picked = {}
    for i, (opts, xs, is_planned) in enumerate(zip(found, x, planned, strict=True)):
        if solver.boolean_value(is_planned):
            picked[i] = [o for o, var in zip(opts, xs, strict=True) if solver.boolean_value(var)]
    return picked, status == cp_model.OPTIMAL


def _hint(
    matches: Sequence[MatchToPlan],
    found: Sequence[Sequence[options.Option]],
    settings: Settings,
    *,
    limit: int,
    fixed_per_week: dict[date, int],
) -> list[list[options.Option] | None]:
    """The best of first fit, its steady variant and the week-by-week steady plan: the one that leaves out the
    least (by the model's own costs, the batch's order included), then the steadiest. A hint that already keeps
    slots steady saves the solver most of its search, and one at least as good as first fit keeps it the floor."""
    plans = [
        greedy.first_fit(matches, found, settings, limit=limit, fixed_per_week=fixed_per_week),
        greedy.first_fit(matches, found, settings, limit=limit, fixed_per_week=fixed_per_week, steady=True),
        greedy.week_by_week(matches, found, settings, limit=limit, fixed_per_week=fixed_per_week),
    ]

    def cost(fits: list[list[options.Option] | None]) -> tuple[int, int]:
        left_out = sum(
            constraints.UNPLANNED_COST + constraints.PRIORITY_STEP * (len(fits) - 1 - i)
            for i, fit in enumerate(fits)
            if fit is None
        )
        return left_out, sum(len({o.slot for o in fit}) > 1 for fit in fits if fit is not None)

    return min(reversed(plans), key=cost)  # ties go to the steadier ways of building it


def to_sessions(match: MatchToPlan, chosen: Sequence[options.Option], settings: Settings) -> list[PlannedSession]:
    """The chosen options as numbered sessions with their kinds, continuing the match's numbering."""
    total = match.total_sessions or (match.first_number - 1 + match.sessions)
    kinds = mark_kinds(total, settings.ending_conversation_offset)
    ordered = sorted(chosen, key=lambda o: o.starts_at)
    return [
        PlannedSession(
            match.match_id,
            match.first_number + i,
            kinds[match.first_number + i - 1],
            o.starts_at,
            o.ends_at,
            match.format,
        )
        for i, o in enumerate(ordered)
    ]


def _weeks_with_room(found: Sequence[options.Option], limit: int, fixed_per_week: Counter[date]) -> set[date]:
    return {o.monday for o in found if fixed_per_week[o.monday] < limit}


def reason(
    match: MatchToPlan,
    found: Sequence[options.Option],
    diary: VolunteerCalendar,
    fixed_per_week: Counter[date],
    settings: Settings,
) -> str:
    """Why a match could not be planned, in words a coordinator can act on; never a silent gap."""
    return explain(match, found, diary, fixed_per_week, settings)[1]


def explain(
    match: MatchToPlan,
    found: Sequence[options.Option],
    diary: VolunteerCalendar,
    fixed_per_week: Counter[date],
    settings: Settings,
    *,
    alone: bool = False,
) -> tuple[str, str]:
    """Why a match could not be planned: a code from UNPLANNED_CODES and the sentence beside it. `alone`: it
    was the only match of her model, so no other match took its time."""
    weeks = settings.weeks_for(match.sessions)
    if not options.common_starts(match.parent_availability, match.volunteer_availability, settings):
        return "no_common_hour", "no common weekly hour between her availability and the volunteer's"
    if not options.match_starts(match, settings):
        return "venue_closed", "no common weekly hour of hers and the volunteer's falls while the venue is open"
    free_weeks = {o.monday for o in found}
    if len(free_weeks) < match.sessions:
        others = "her other sessions or the venue's booked rooms" if match.venue is not None else "her other sessions"
        return "not_enough_free_weeks", (
            f"no common free hour in enough of the next {weeks} weeks ({len(free_weeks)} of {match.sessions} "
            f"needed; bank holidays, leave, a pause, notice or {others} take the rest)"
        )
    roomy = _weeks_with_room(found, diary.max_sessions_per_week, fixed_per_week)
    if len(roomy) < match.sessions:
        return "weekly_limit_used", (
            f"volunteer's weekly limit ({diary.max_sessions_per_week}) is already used in "
            f"{len(free_weeks) - len(roomy)} of the next {weeks} weeks ({len(roomy)} of {match.sessions} needed)"
        )
    if alone:
        return "no_spaced_series", (
            f"no {match.sessions} sessions at least {match.min_days_apart} days apart fit in the next {weeks} weeks"
        )
    return "taken_by_other_matches", (
        "the volunteer's free hours and weekly limit are taken by her other matches planned in the same batch "
        f"(next {weeks} weeks)"
    )
