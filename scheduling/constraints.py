"""One `add_<rule>` per rule of a volunteer's CP-SAT model; each adds its constraints and returns its objective
terms. Costs are in hours of delay, so every weight below reads as "worth this many hours later"."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from ortools.sat.python import cp_model

from scheduling.model import MatchToPlan, Settings
from scheduling.options import Option, gap_minutes

Terms = list[cp_model.LinearExprT]
Choice = list[cp_model.IntVar]  # one boolean per option of a match: the session happens then

UNPLANNED_COST = 100_000_000  # a whole match unplanned outweighs every other cost of any plan
PRIORITY_STEP = 100_000  # between equally many planned matches, the earlier in the batch wins
OFF_SLOT_COST = 200  # more than moving within the week (<= 144 h), less than delaying a whole series a week
PREFERRED_TIME_COST_PER_HOUR = 6  # her preferred time of day beats an earlier hour on the same day
SAME_DAY_COST = 30  # a second session on one of her days, to spread her load


def add_session_count(model: cp_model.CpModel, match: MatchToPlan, x: Choice, planned: cp_model.IntVar, *,
                      rank_from_last: int) -> Terms:
    """A planned match gets exactly its number of sessions, an unplanned one none: never a silent gap.
    `rank_from_last` is 0 for the batch's last match: earlier matches cost more to leave out."""
    model.add(sum(x) == match.sessions * planned)
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


def add_steady_slot(model: cp_model.CpModel, match: MatchToPlan, options: Sequence[Option], x: Choice,
                    planned: cp_model.IntVar) -> Terms:
    """The match's steady slot is the weekly slot it uses most; each session held elsewhere (a week moved off a
    bank holiday or her leave) costs OFF_SLOT_COST."""
    by_slot: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for option, var in zip(options, x, strict=True):
        by_slot[option.slot].append(var)
    if not by_slot:
        return []
    on_slot = model.new_int_var(0, match.sessions, f"on_slot_{match.match_id}")
    model.add_max_equality(on_slot, [sum(vars_) for vars_ in by_slot.values()])
    return [OFF_SLOT_COST * (match.sessions * planned - on_slot)]


def add_start_soon(options: Sequence[Option], x: Choice, not_before: datetime) -> Terms:
    """Each session costs its hours after the earliest allowed start: the first session comes soon and the
    series runs in consecutive weeks."""
    return [int((o.starts_at - not_before).total_seconds() // 3600) * var
            for o, var in zip(options, x, strict=True)]


def add_preferred_time(match: MatchToPlan, options: Sequence[Option], x: Choice) -> Terms:
    """Sessions near the parent's preferred time of day, when she has one."""
    if match.preferred_start_min is None:
        return []
    preferred = match.preferred_start_min
    return [PREFERRED_TIME_COST_PER_HOUR * (abs(o.start_min - preferred) // 60) * var
            for o, var in zip(options, x, strict=True) if abs(o.start_min - preferred) >= 60]


def add_no_overlap(model: cp_model.CpModel, matches: Sequence[MatchToPlan], options: Sequence[Sequence[Option]],
                   x: Sequence[Choice], settings: Settings) -> Terms:
    """None of her sessions overlap, and two meetings in person leave her the travel time between them.

    Her fixed sessions were already removed from the options. Sessions on different local days never meet, so
    one no-overlap constraint per day keeps each small; travel gaps, which depend on the pair of places, are
    pairwise exclusions between sessions that would not overlap but leave too little time to get there."""
    length = settings.session_minutes
    by_day: dict[date, list[tuple[int, Option, cp_model.IntVar]]] = defaultdict(list)
    for m_index, (match_options, match_vars) in enumerate(zip(options, x, strict=True)):
        for option, var in zip(match_options, match_vars, strict=True):
            by_day[option.local_day].append((m_index, option, var))
    for entries in by_day.values():
        if len({m for m, _, _ in entries}) < 2:
            continue  # one match has at most one session a week, so it cannot clash with itself
        model.add_no_overlap([model.new_optional_fixed_size_interval_var(o.minute, length, var, "session")
                              for _, o, var in entries])
        for i, (m1, o1, v1) in enumerate(entries):
            for m2, o2, v2 in entries[i + 1:]:
                if m1 == m2:
                    continue
                gap = gap_minutes(matches[m1].place, matches[m2].place, settings)
                first, second = (o1, o2) if o1.minute <= o2.minute else (o2, o1)
                if gap and first.minute + length <= second.minute < first.minute + length + gap:
                    model.add_bool_or([v1.Not(), v2.Not()])
    return []


def add_weekly_limit(model: cp_model.CpModel, options: Sequence[Sequence[Option]], x: Sequence[Choice],
                     limit: int, fixed_per_week: dict[date, int]) -> Terms:
    """Her sessions in any calendar week, those already fixed included, stay within her weekly limit."""
    by_week: dict[date, list[cp_model.IntVar]] = defaultdict(list)
    for match_options, match_vars in zip(options, x, strict=True):
        for option, var in zip(match_options, match_vars, strict=True):
            by_week[option.monday].append(var)
    for week, week_vars in by_week.items():
        room = max(0, limit - fixed_per_week.get(week, 0))
        if room < len(week_vars):
            model.add(sum(week_vars) <= room)
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
        model.add(extra >= sum(var for _, var in entries) - 1)
        terms.append(SAME_DAY_COST * extra)
    return terms
