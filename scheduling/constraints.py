"""One `add_<rule>` per rule of a volunteer's CP-SAT model; each adds its constraints and returns its objective
terms. Costs are in hours of delay, so every weight below reads as "worth this many hours later". The order of
what matters: every match planned, then each match on one steady weekly slot, then soon, then spread and room."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from ortools.sat.python import cp_model

from scheduling.model import MatchToPlan, Settings, WeeklyWindow
from scheduling.options import Option, gap_minutes

Terms = list[cp_model.LinearExprT]
Choice = list[cp_model.IntVar]  # one boolean per option of a match: the session happens then

UNPLANNED_COST = 1_000_000_000  # a whole match unplanned outweighs every other cost of any plan
PRIORITY_STEP = 1_000_000  # between equally many planned matches, the earlier in the batch wins, steady or not
UNSTEADY_COST = 40_000  # a match off its steady slot at all outweighs any delay a steady series needs (< 20k h)
OFF_SLOT_COST = 200  # among unsteady matches, each session off the slot: more than moving within a week
PREFERRED_TIME_COST_PER_HOUR = 6  # her preferred time of day beats an earlier hour on the same day
SAME_DAY_COST = 30  # a second session on one of her days, to spread her load
EDGE_COST_PER_QUARTER = 2  # a quarter hour off the edge of her window outweighs 30 min later that day, never a day


def add_session_count(
    model: cp_model.CpModel, match: MatchToPlan, x: Choice, planned: cp_model.IntVar, *, rank_from_last: int
) -> Terms:
    """A planned match gets exactly its number of sessions, an unplanned one none: never a silent gap.
    `rank_from_last` is 0 for the batch's last match: earlier matches cost more to leave out."""
    model.add(cp_model.LinearExpr.sum(x) == match.sessions * planned)
    return [(UNPLANNED_COST + PRIORITY_STEP * rank_from_last) * (1 - planned)]


def add_one_per_week(model: cp_model.CpModel, options: Sequence[Option], x: Choice) -> Terms:
    """Sessions are weekly: at most one of a match's sessions in any calendar week."""
    by_week: dict[date, list[cp_model.IntVar]] = defaultdict(list)
    for option, var in zip(options, x, strict=True):
        by_week[option.monday].append(var)
    for week_vars in by_week.values():
        if len(week_vars) > 1:
            model.add_at_most_one(week_vars)
    return []


def add_steady_slot(
    model: cp_model.CpModel, match: MatchToPlan, options: Sequence[Option], x: Choice, planned: cp_model.IntVar
) -> Terms:
    """A planned match has one steady slot (weekday and local time), chosen by the model; a session held
    elsewhere costs OFF_SLOT_COST and makes the match unsteady, which costs UNSTEADY_COST. A week whose slot is
    closed (a bank holiday, her leave) is skipped rather than moved, unless nothing steady fits."""
    by_slot: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for option, var in zip(options, x, strict=True):
        by_slot[option.slot].append(var)
    if not by_slot:
        return []
    n = match.sessions
    name = match.match_id
    # on_slot[s] counts sessions on slot s, but only for the one chosen slot: a tight linear form of "the most
    # used slot", so the relaxation already sees steadiness
    chosen = {slot: model.new_bool_var(f"slot_{name}_{slot}") for slot in by_slot}
    model.add(cp_model.LinearExpr.sum(list(chosen.values())) == planned)
    on_slot = []
    for slot, vars_ in by_slot.items():
        count = model.new_int_var(0, n, f"on_{name}_{slot}")
        model.add(count <= cp_model.LinearExpr.sum(vars_))
        model.add(count <= n * chosen[slot])
        on_slot.append(count)
    off = model.new_int_var(0, n, f"off_{name}")
    model.add(off == n * planned - cp_model.LinearExpr.sum(on_slot))
    unsteady = model.new_bool_var(f"unsteady_{name}")
    model.add(off <= n * unsteady)
    return [OFF_SLOT_COST * off, UNSTEADY_COST * unsteady]


def add_days_apart(model: cp_model.CpModel, match: MatchToPlan, options: Sequence[Option], x: Choice) -> Terms:
    """Two sessions of a match at least `match.min_days_apart` local days apart (never a Friday then the next
    Tuesday); within one week this already holds, one session a week."""
    if match.min_days_apart <= 1:
        return []
    by_day: dict[date, list[cp_model.IntVar]] = defaultdict(list)
    for option, var in zip(options, x, strict=True):
        by_day[option.local_day].append(var)
    held: dict[date, cp_model.IntVar] = {}
    for day, vars_ in by_day.items():
        if len(vars_) == 1:
            held[day] = vars_[0]
        else:
            held[day] = model.new_bool_var(f"day_{match.match_id}_{day.isoformat()}")
            model.add(cp_model.LinearExpr.sum(vars_) == held[day])
    for day, var in held.items():
        for ahead in range(1, match.min_days_apart):
            later = day + timedelta(days=ahead)
            if later in held and (later.weekday() < day.weekday() or ahead >= 7):  # not the same week
                model.add_bool_or([var.Not(), held[later].Not()])
    return []


def add_start_soon(options: Sequence[Option], x: Choice, not_before: datetime) -> Terms:
    """Each session costs its hours after the earliest allowed start: the first session comes soon and the
    series runs in consecutive weeks."""
    hours = [int((o.starts_at - not_before).total_seconds() // 3600) for o in options]
    return [cp_model.LinearExpr.weighted_sum(x, hours)]


def add_preferred_time(match: MatchToPlan, options: Sequence[Option], x: Choice) -> Terms:
    """Sessions near the parent's preferred time of day, when she has one."""
    if match.preferred_start_min is None:
        return []
    preferred = match.preferred_start_min
    return [
        PREFERRED_TIME_COST_PER_HOUR * (abs(o.start_min - preferred) // 60) * var
        for o, var in zip(options, x, strict=True)
        if abs(o.start_min - preferred) >= 60
    ]


def add_room_at_edges(match: MatchToPlan, options: Sequence[Option], x: Choice, settings: Settings) -> Terms:
    """Sessions packed against an edge of the volunteer's weekly window, so the rest of it stays whole for her
    other free places: worth a later hour the same day, never a later day."""
    quarters = [
        EDGE_COST_PER_QUARTER * (_from_edge(o, match.volunteer_availability, settings.session_minutes) // 15)
        for o in options
    ]
    return [cp_model.LinearExpr.weighted_sum(x, quarters)]


def _from_edge(option: Option, windows: Sequence[WeeklyWindow], length: int) -> int:
    """Minutes between the session and the nearer edge of the tightest of her windows holding it."""
    start, end = option.start_min, option.start_min + length
    return min(
        (
            min(start - w.start_min, w.end_min - end)
            for w in windows
            if w.day == option.day and w.start_min <= start and end <= w.end_min
        ),
        default=0,
    )


def add_no_overlap(
    model: cp_model.CpModel,
    matches: Sequence[MatchToPlan],
    options: Sequence[Sequence[Option]],
    x: Sequence[Choice],
    settings: Settings,
) -> Terms:
    """None of her sessions overlap, and two meetings in person leave her the travel time between them.

    Her fixed sessions were already removed from the options. Sessions on different local days never meet, so
    one no-overlap constraint per day keeps each small; travel gaps, which depend on the pair of places, are
    pairwise exclusions between sessions that would not overlap but leave too little time to get there."""
    length = settings.session_minutes
    gaps = {
        (a, b): gap_minutes(matches[a].place, matches[b].place, settings)
        for a in range(len(matches))
        for b in range(len(matches))
    }
    max_gap = max(gaps.values(), default=0)
    by_day: dict[date, list[tuple[int, Option, cp_model.IntVar]]] = defaultdict(list)
    for m_index, (match_options, match_vars) in enumerate(zip(options, x, strict=True)):
        for option, var in zip(match_options, match_vars, strict=True):
            by_day[option.local_day].append((m_index, option, var))
    for entries in by_day.values():
        if len({m for m, _, _ in entries}) < 2:
            continue  # one match has at most one session a week, so it cannot clash with itself
        model.add_no_overlap(
            [model.new_optional_fixed_size_interval_var(o.minute, length, var, "session") for _, o, var in entries]
        )
        if max_gap:
            _add_travel_gaps(model, sorted(entries, key=lambda e: e[1].minute), gaps, length, max_gap)
    return []


def _add_travel_gaps(
    model: cp_model.CpModel,
    entries: list[tuple[int, Option, cp_model.IntVar]],
    gaps: dict[tuple[int, int], int],
    length: int,
    max_gap: int,
) -> None:
    """Pairwise exclusions between sessions of different matches that leave too little travel time; `entries`
    sorted by start, so each looks ahead only as far as the longest journey."""
    for i, (m1, first, v1) in enumerate(entries):
        for m2, second, v2 in entries[i + 1 :]:
            if second.minute >= first.minute + length + max_gap:
                break
            gap = gaps[(m1, m2)]
            if m1 != m2 and gap and first.minute + length <= second.minute < first.minute + length + gap:
                model.add_bool_or([v1.Not(), v2.Not()])


def add_weekly_limit(
    model: cp_model.CpModel,
    options: Sequence[Sequence[Option]],
    x: Sequence[Choice],
    limit: int,
    fixed_per_week: dict[date, int],
) -> Terms:
    """Her sessions in any calendar week, those already fixed included, stay within her weekly limit."""
    by_week: dict[date, list[cp_model.IntVar]] = defaultdict(list)
    for match_options, match_vars in zip(options, x, strict=True):
        for option, var in zip(match_options, match_vars, strict=True):
            by_week[option.monday].append(var)
    for week, week_vars in by_week.items():
        room = max(0, limit - fixed_per_week.get(week, 0))
        if room < len(week_vars):
            model.add(cp_model.LinearExpr.sum(week_vars) <= room)
    return []


def add_spread_days(model: cp_model.CpModel, options: Sequence[Sequence[Option]], x: Sequence[Choice]) -> Terms:
    """Her load spread across days: each session beyond the first on one day costs SAME_DAY_COST."""
    by_day: dict[date, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    for m_index, (match_options, match_vars) in enumerate(zip(options, x, strict=True)):
        for option, var in zip(match_options, match_vars, strict=True):
            by_day[option.local_day].append((m_index, var))
    terms: Terms = []
    for day, entries in by_day.items():
        matches_that_day = len({m for m, _ in entries})
        if matches_that_day < 2:
            continue
        extra = model.new_int_var(0, matches_that_day - 1, f"extra_{day.isoformat()}")
        model.add(extra >= cp_model.LinearExpr.sum([var for _, var in entries]) - 1)
        terms.append(SAME_DAY_COST * extra)
    return terms
