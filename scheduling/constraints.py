"""One function per rule of the CP-SAT model; each adds its constraints and returns its objective terms."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from ortools.sat.python import cp_model

from scheduling import calendar
from scheduling.model import MatchToPlan, Settings, VolunteerCalendar
from scheduling.options import Option, place

Terms = list[cp_model.LinearExprT]
WEEK_COST = 100  # each week later costs more than one session off the steady slot
OFF_SLOT_COST = 60
PREFERRED_TIME_COST_PER_HOUR = 2
UNPLANNED_COST = 1_000_000


def add_session_count(model: cp_model.CpModel, match: MatchToPlan, x: list[cp_model.IntVar],
                      planned: cp_model.IntVar) -> Terms:
    """A planned match gets exactly its number of sessions; an unplanned one none (and a large cost)."""
    model.add(sum(x) == match.sessions * planned)
    return [UNPLANNED_COST * (1 - planned)]


def add_one_per_week(model: cp_model.CpModel, options: Sequence[Option], x: list[cp_model.IntVar]) -> Terms:
    by_week: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for option, var in zip(options, x, strict=True):
        by_week[option.week].append(var)
    for week_vars in by_week.values():
        model.add_at_most_one(week_vars)
    return []


def add_steady_slot(model: cp_model.CpModel, options: Sequence[Option], x: list[cp_model.IntVar],
                    planned: cp_model.IntVar) -> Terms:
    """One weekly slot is the match's own; every session held elsewhere costs a little."""
    slots = sorted({(o.day, o.start_min) for o in options})
    base = {slot: model.new_bool_var(f"base{slot}") for slot in slots}
    model.add(sum(base.values()) == planned)
    terms: Terms = []
    for option, var in zip(options, x, strict=True):
        on_base = model.new_bool_var("on_base")
        model.add_implication(on_base, var)
        model.add_implication(on_base, base[(option.day, option.start_min)])
        terms.append(OFF_SLOT_COST * (var - on_base))
    return terms


def add_earliest(options: Sequence[Option], x: list[cp_model.IntVar], match: MatchToPlan) -> Terms:
    """Earlier weeks first, and near her preferred time of day."""
    terms: Terms = []
    for option, var in zip(options, x, strict=True):
        cost = WEEK_COST * option.week
        if match.preferred_start_min is not None:
            cost += PREFERRED_TIME_COST_PER_HOUR * abs(option.start_min - match.preferred_start_min) // 60
        terms.append(cost * var)
    return terms


def add_no_overlap(model: cp_model.CpModel, matches: Sequence[MatchToPlan], options: Sequence[Sequence[Option]],
                   x: Sequence[list[cp_model.IntVar]], origin: datetime, settings: Settings) -> Terms:
    """No two of her sessions overlap; a meeting in person is padded by the longest journey to any other."""
    places = [place(m.format, m.lat, m.lon) for m in matches]
    intervals = []
    for m_index, (match_options, match_vars) in enumerate(zip(options, x, strict=True)):
        pad = max([calendar.travel_minutes(places[m_index], other, settings)
                   for o_index, other in enumerate(places) if o_index != m_index] + [0])
        for option, var in zip(match_options, match_vars, strict=True):
            start = int((option.starts_at - origin).total_seconds() // 60)
            intervals.append(model.new_optional_fixed_size_interval_var(
                start, settings.session_minutes + pad, var, "session"))
    model.add_no_overlap(intervals)
    return []


def add_weekly_limit(model: cp_model.CpModel, options: Sequence[Sequence[Option]],
                     x: Sequence[list[cp_model.IntVar]], diary: VolunteerCalendar, settings: Settings) -> Terms:
    """Her sessions in any one calendar week, those already fixed included, stay within her weekly limit."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.time_zone)
    fixed: dict[object, int] = defaultdict(int)
    for busy in diary.existing:
        fixed[calendar.monday_of(busy.starts_at.astimezone(zone).date())] += 1
    by_week: dict[object, list[cp_model.IntVar]] = defaultdict(list)
    for match_options, match_vars in zip(options, x, strict=True):
        for option, var in zip(match_options, match_vars, strict=True):
            by_week[calendar.monday_of(option.starts_at.astimezone(zone).date())].append(var)
    for week, week_vars in by_week.items():
        model.add(sum(week_vars) <= max(0, diary.max_sessions_per_week - fixed[week]))
    return []
