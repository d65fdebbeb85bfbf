"""Planning weekly sessions with CP-SAT, one independent model per volunteer (her matches share her time,
nobody else's), with a time limit; the best plan found is returned with whether it is proven optimal."""

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from ortools.sat.python import cp_model

from scheduling import calendar, constraints, options
from scheduling.kinds import mark_kinds
from scheduling.model import (
    MatchToPlan,
    PlannedSession,
    PlanResult,
    Settings,
    Unplanned,
    VolunteerCalendar,
)


def plan(matches: Sequence[MatchToPlan], calendars: Mapping[str, VolunteerCalendar], settings: Settings, *,
         now: datetime) -> PlanResult:
    """Sessions for every match that can have all of its sessions; a reason for each that cannot."""
    started = time.perf_counter()
    by_volunteer: dict[str, list[MatchToPlan]] = defaultdict(list)
    for match in sorted(matches, key=lambda m: m.match_id):
        by_volunteer[match.volunteer_id].append(match)
    sessions: list[PlannedSession] = []
    unplanned: list[Unplanned] = []
    optimal = True
    for volunteer_id in sorted(by_volunteer):
        diary = calendars.get(volunteer_id) or VolunteerCalendar(volunteer_id)
        found, missing, proven = plan_for_volunteer(by_volunteer[volunteer_id], diary, settings, now=now)
        sessions += found
        unplanned += missing
        optimal &= proven
    return PlanResult(tuple(sessions), tuple(unplanned), optimal, round(time.perf_counter() - started, 4))


def horizon_weeks(matches: Sequence[MatchToPlan], settings: Settings) -> int:
    return max(m.sessions for m in matches) + settings.slack_weeks


def plan_for_volunteer(matches: Sequence[MatchToPlan], diary: VolunteerCalendar, settings: Settings, *,
                       now: datetime) -> tuple[list[PlannedSession], list[Unplanned], bool]:
    notice = now + timedelta(hours=settings.min_notice_hours)
    matches = [m if m.earliest_start >= notice else _replace_start(m, notice) for m in matches]
    week0 = min(m.earliest_start for m in matches)
    weeks = horizon_weeks(matches, settings)
    found = [options.for_match(m, diary, settings, week0=week0, weeks=weeks) for m in matches]
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{i}_{j}") for j in range(len(opts))] for i, opts in enumerate(found)]
    planned = [model.new_bool_var(f"planned{i}") for i in range(len(matches))]
    terms: list[cp_model.LinearExprT] = []
    for match, opts, xs, is_planned in zip(matches, found, x, planned, strict=True):
        terms += constraints.add_session_count(model, match, xs, is_planned)
        terms += constraints.add_one_per_week(model, opts, xs)
        terms += constraints.add_steady_slot(model, opts, xs, is_planned)
        terms += constraints.add_earliest(opts, xs, match)
    terms += constraints.add_no_overlap(model, matches, found, x, week0, settings)
    terms += constraints.add_weekly_limit(model, found, x, diary, settings)
    model.minimize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = settings.time_limit_s
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], [Unplanned(m.match_id, "no plan was found within the time limit") for m in matches], False
    sessions: list[PlannedSession] = []
    missing: list[Unplanned] = []
    for match, opts, xs, is_planned in zip(matches, found, x, planned, strict=True):
        if not solver.value(is_planned):
            missing.append(Unplanned(match.match_id, _why(match, opts, diary, settings, weeks)))
            continue
        chosen = sorted((o for o, var in zip(opts, xs, strict=True) if solver.value(var)), key=lambda o: o.starts_at)
        sessions += _sessions(match, chosen, settings)
    return sessions, missing, status == cp_model.OPTIMAL


def _replace_start(match: MatchToPlan, start: datetime) -> MatchToPlan:
    from dataclasses import replace

    return replace(match, earliest_start=start)


def _sessions(match: MatchToPlan, chosen: Sequence[options.Option], settings: Settings) -> list[PlannedSession]:
    total = match.total_sessions or (match.first_number - 1 + match.sessions)
    kinds = mark_kinds(total, settings.ending_conversation_offset)
    return [PlannedSession(match.match_id, match.first_number + i, kinds[match.first_number + i - 1],
                           o.starts_at, o.ends_at, match.format) for i, o in enumerate(chosen)]


def _why(match: MatchToPlan, opts: Sequence[options.Option], diary: VolunteerCalendar, settings: Settings,
         weeks: int) -> str:
    """The reason a coordinator can act on, never a silent gap."""
    if not calendar.common_starts(match, settings):
        return "no common weekly hour between her availability and the volunteer's"
    usable_weeks = len({o.week for o in opts})
    if usable_weeks < match.sessions:
        return (f"no common free hour in enough of the next {weeks} weeks ({usable_weeks} of {match.sessions} "
                "needed; bank holidays, leave or other sessions take the rest)")
    return (f"the volunteer's weekly limit ({diary.max_sessions_per_week}) leaves no room alongside her other "
            "sessions")
