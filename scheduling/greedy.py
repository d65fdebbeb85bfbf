"""A first-fit plan: each match in turn takes the first weekly slot that yields all its sessions, moving a week
to the earliest free time of that week when its slot is taken, or skipping the week. It is the benchmark's
baseline and, with its steady variant (which only skips weeks), the CP-SAT model's starting hint (so the solver
never plans fewer matches than first fit)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from scheduling.model import MatchToPlan, Settings
from scheduling.options import Option, gap_minutes

Placed = tuple[Option, tuple[float, float] | None]


def first_fit(matches: Sequence[MatchToPlan], options: Sequence[Sequence[Option]], settings: Settings, *,
              limit: int, fixed_per_week: dict[date, int], steady: bool = False) -> list[list[Option] | None]:
    """For each match (in order) its chosen options in time order, or None when first fit cannot place it.
    `steady` keeps every session on the series' slot, skipping a week where the slot is not free."""
    placed: dict[date, list[Placed]] = defaultdict(list)
    per_week: dict[date, int] = defaultdict(int, fixed_per_week)
    chosen_all: list[list[Option] | None] = []
    for match, match_options in zip(matches, options, strict=True):
        chosen = _first_slot_that_fits(match, match_options, placed, per_week, limit, settings, steady=steady)
        chosen_all.append(chosen)
        for option in chosen or []:
            placed[option.local_day].append((option, match.place))
            per_week[option.monday] += 1
    return chosen_all


def _first_slot_that_fits(match: MatchToPlan, options: Sequence[Option], placed: dict[date, list[Placed]],
                          per_week: dict[date, int], limit: int, settings: Settings, *,
                          steady: bool) -> list[Option] | None:
    by_week: dict[date, list[Option]] = defaultdict(list)
    for option in options:
        by_week[option.monday].append(option)
    slots = list(dict.fromkeys(o.slot for o in options))  # in order of first occurrence: earliest first
    length = timedelta(minutes=settings.session_minutes)
    gaps: dict[tuple[float, float] | None, timedelta] = {}

    def gap(where: tuple[float, float] | None) -> timedelta:
        if where not in gaps:
            gaps[where] = timedelta(minutes=gap_minutes(match.place, where, settings))
        return gaps[where]

    def free(option: Option) -> bool:
        if per_week[option.monday] >= limit:
            return False
        # travel never spans more than a day, so only the neighbouring days' sessions can clash
        for day in (option.local_day - timedelta(days=1), option.local_day, option.local_day + timedelta(days=1)):
            for other, where in placed.get(day, ()):
                g = gap(where)
                if option.starts_at < other.ends_at + g and other.starts_at < option.starts_at + length + g:
                    return False
        return True

    weeks = sorted(by_week)
    at = {(o.monday, o.slot): o for o in options}
    for slot in slots:
        chosen: list[Option] = []
        for week in weeks:
            pick = at.get((week, slot))
            if pick is None or not (_spaced(chosen, pick, match.min_days_apart) and free(pick)):
                if steady or not chosen:
                    continue  # the series starts at its own slot, and a steady one keeps to it
                pick = next((o for o in by_week[week] if _spaced(chosen, o, match.min_days_apart) and free(o)), None)
                if pick is None:
                    continue
            chosen.append(pick)
            if len(chosen) == match.sessions:
                return chosen
    return None


def _spaced(chosen: list[Option], option: Option, min_days_apart: int) -> bool:
    return not chosen or (option.local_day - chosen[-1].local_day).days >= min_days_apart
