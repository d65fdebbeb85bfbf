"""Planning weekly sessions with CP-SAT. A volunteer's matches share her time and nobody else's, so each
volunteer is an independent model, solved side by side in worker threads under one overall time limit; the
best plan found is returned, with whether every part is proven optimal."""

import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ortools.sat.python import cp_model

from scheduling import calendar, constraints, greedy, options
from scheduling.kinds import mark_kinds
from scheduling.model import MatchToPlan, PlannedSession, PlanResult, Settings, Unplanned, VolunteerCalendar

MIN_SLICE_S = 0.05  # the least time any one volunteer's model is given


@dataclass(frozen=True, slots=True)
class VolunteerPlan:
    """The outcome for one volunteer's matches."""

    sessions: tuple[PlannedSession, ...]
    unplanned: tuple[Unplanned, ...]
    optimal: bool


class _Budget:
    """Shares the overall time limit: each model gets a fair slice of what is left, so fast ones hand their
    spare time to the rest."""

    def __init__(self, seconds: float, parts: int, parallel: int) -> None:
        self._deadline = time.perf_counter() + seconds
        self._left = parts
        self._parallel = max(1, parallel)
        self._lock = threading.Lock()

    def slice(self) -> float:
        with self._lock:
            rounds = math.ceil(self._left / self._parallel)
            self._left -= 1
            return max(MIN_SLICE_S, (self._deadline - time.perf_counter()) / max(1, rounds))


def plan(matches: Sequence[MatchToPlan], calendars: Mapping[str, VolunteerCalendar], settings: Settings, *,
         now: datetime) -> PlanResult:
    """Sessions for every match that can have all of its sessions; a reason for each that cannot.

    Matches earlier in `matches` are preferred when a volunteer cannot take them all (pass the longest waiting
    first).
    `calendars` holds each volunteer's leave, fixed sessions and weekly limit (a missing one means no leave,
    nothing fixed and one session a week)."""
    started = time.perf_counter()
    by_volunteer: dict[str, list[MatchToPlan]] = defaultdict(list)
    for match in matches:
        by_volunteer[match.volunteer_id].append(match)
    # the biggest models first, so the threads finish together
    order = sorted(by_volunteer, key=lambda v: (-len(by_volunteer[v]), v))
    budget = _Budget(settings.time_limit_s, len(order), settings.workers)

    def solve_one(volunteer_id: str) -> VolunteerPlan:
        diary = calendars.get(volunteer_id) or VolunteerCalendar(volunteer_id)
        return plan_for_volunteer(by_volunteer[volunteer_id], diary, settings, now=now,
                                  time_limit_s=budget.slice(), workers=1)

    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        parts = list(pool.map(solve_one, order))
    sessions = tuple(s for part in parts for s in part.sessions)
    unplanned = tuple(u for part in parts for u in part.unplanned)
    return PlanResult(tuple(sorted(sessions, key=lambda s: (s.match_id, s.number))),
                      tuple(sorted(unplanned, key=lambda u: u.match_id)),
                      all(p.optimal for p in parts), round(time.perf_counter() - started, 4))


def plan_for_volunteer(matches: Sequence[MatchToPlan], diary: VolunteerCalendar, settings: Settings, *,
                       now: datetime, time_limit_s: float | None = None,
                       workers: int | None = None) -> VolunteerPlan:
    """One volunteer's matches planned together around her fixed sessions, leave and weekly limit."""
    notice = now + timedelta(hours=settings.min_notice_hours)
    starts = [max(m.earliest_start, notice) for m in matches]
    busy = options.busy_by_day(diary.existing, settings)
    found = [options.for_match(m, diary, settings, not_before=start, weeks=settings.weeks_for(m.sessions),
                               busy=busy) for m, start in zip(matches, starts, strict=True)]
    tz = calendar.zone(settings.time_zone)
    fixed_per_week = Counter(calendar.monday_of(calendar.local_date(b.starts_at, tz)) for b in diary.existing)
    # a match whose free weeks (her weekly limit allowing) are fewer than its sessions cannot be planned at all
    possible = [i for i, (m, opts) in enumerate(zip(matches, found, strict=True))
                if len(_weeks_with_room(opts, diary.max_sessions_per_week, fixed_per_week)) >= m.sessions]
    chosen: dict[int, list[options.Option]] = {}
    optimal = True
    if possible:
        picked, optimal = _solve([matches[i] for i in possible], [found[i] for i in possible],
                                 [starts[i] for i in possible], diary, fixed_per_week, settings,
                                 time_limit_s=settings.time_limit_s if time_limit_s is None else time_limit_s,
                                 workers=settings.workers if workers is None else workers)
        chosen = {possible[k]: opts for k, opts in picked.items()}
    sessions: list[PlannedSession] = []
    unplanned: list[Unplanned] = []
    for i, match in enumerate(matches):
        if i in chosen:
            sessions += to_sessions(match, chosen[i], settings)
        else:
            unplanned.append(Unplanned(match.match_id, reason(match, found[i], diary, fixed_per_week, settings)))
    return VolunteerPlan(tuple(sessions), tuple(unplanned), optimal)


def _solve(matches: Sequence[MatchToPlan], found: Sequence[Sequence[options.Option]], starts: Sequence[datetime],
           diary: VolunteerCalendar, fixed_per_week: Counter[date], settings: Settings, *, time_limit_s: float,
           workers: int) -> tuple[dict[int, list[options.Option]], bool]:
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
        terms += constraints.add_start_soon(opts, xs, start)
        terms += constraints.add_preferred_time(match, opts, xs)
    terms += constraints.add_no_overlap(model, matches, found, x, settings)
    terms += constraints.add_weekly_limit(model, found, x, limit, dict(fixed_per_week))
    terms += constraints.add_spread_days(model, found, x)
    model.minimize(sum(terms))
    first_fit = greedy.first_fit(matches, found, settings, limit=limit, fixed_per_week=dict(fixed_per_week))
    for opts, xs, is_planned, fit in zip(found, x, planned, first_fit, strict=True):
        taken = set(fit or [])
        model.add_hint(is_planned, fit is not None)
        for option, var in zip(opts, xs, strict=True):
            model.add_hint(var, option in taken)
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


def to_sessions(match: MatchToPlan, chosen: Sequence[options.Option], settings: Settings) -> list[PlannedSession]:
    """The chosen options as numbered sessions with their kinds, continuing the match's numbering."""
    total = match.total_sessions or (match.first_number - 1 + match.sessions)
    kinds = mark_kinds(total, settings.ending_conversation_offset)
    ordered = sorted(chosen, key=lambda o: o.starts_at)
    return [PlannedSession(match.match_id, match.first_number + i, kinds[match.first_number + i - 1],
                           o.starts_at, o.ends_at, match.format) for i, o in enumerate(ordered)]


def _weeks_with_room(found: Sequence[options.Option], limit: int, fixed_per_week: Counter[date]) -> set[date]:
    return {o.monday for o in found if fixed_per_week[o.monday] < limit}


def reason(match: MatchToPlan, found: Sequence[options.Option], diary: VolunteerCalendar,
           fixed_per_week: Counter[date], settings: Settings) -> str:
    """Why a match could not be planned, in words a coordinator can act on; never a silent gap."""
    weeks = settings.weeks_for(match.sessions)
    if not options.common_starts(match.parent_availability, match.volunteer_availability, settings):
        return "no common weekly hour between her availability and the volunteer's"
    free_weeks = {o.monday for o in found}
    if len(free_weeks) < match.sessions:
        return (f"no common free hour in enough of the next {weeks} weeks ({len(free_weeks)} of {match.sessions} "
                "needed; bank holidays, leave, notice or her other sessions take the rest)")
    roomy = _weeks_with_room(found, diary.max_sessions_per_week, fixed_per_week)
    if len(roomy) < match.sessions:
        return (f"volunteer's weekly limit ({diary.max_sessions_per_week}) is already used in "
                f"{len(free_weeks) - len(roomy)} of the next {weeks} weeks ({len(roomy)} of {match.sessions} "
                "needed)")
    return ("the volunteer's free hours and weekly limit are taken by her other matches planned in the same batch "
            f"(next {weeks} weeks)")
