"""A first-fit plan: each match in turn takes the first weekly slot that yields all its sessions, moving a week
to the earliest free time of that week when its slot is taken, or skipping the week. It is the benchmark's
baseline and the CP-SAT model's starting hint (so the solver never plans fewer matches than first fit)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from scheduling.model import MatchToPlan, Settings
from scheduling.options import Option, gap_minutes

Placed = tuple[Option, tuple[float, float] | None]


def first_fit(matches: Sequence[MatchToPlan], options: Sequence[Sequence[Option]], settings: Settings, *,
              limit: int, fixed_per_week: dict[date, int]) -> list[list[Option] | None]:
    """For each match (in order) its chosen options in time order, or None when first fit cannot place it."""
    placed: list[Placed] = []
    per_week: dict[date, int] = defaultdict(int, fixed_per_week)
    chosen_all: list[list[Option] | None] = []
    for match, match_options in zip(matches, options, strict=True):
        chosen = _first_slot_that_fits(match, match_options, placed, per_week, limit, settings)
        chosen_all.append(chosen)
        for option in chosen or []:
            placed.append((option, match.place))
            per_week[option.monday] += 1
    return chosen_all


def _first_slot_that_fits(match: MatchToPlan, options: Sequence[Option], placed: list[Placed],
                          per_week: dict[date, int], limit: int, settings: Settings) -> list[Option] | None:
    by_week: dict[date, list[Option]] = defaultdict(list)
    for option in options:
        by_week[option.monday].append(option)
    slots = list(dict.fromkeys(o.slot for o in options))  # in order of first occurrence: earliest first

    def free(option: Option) -> bool:
        if per_week[option.monday] >= limit:
            return False
        length = timedelta(minutes=settings.session_minutes)
        for other, where in placed:
            gap = timedelta(minutes=gap_minutes(match.place, where, settings))
            if option.starts_at < other.ends_at + gap and other.starts_at < option.starts_at + length + gap:
                return False
        return True

    for slot in slots:
        chosen: list[Option] = []
        for week in sorted(by_week):
            week_options = [o for o in by_week[week] if free(o)]
            on_slot = [o for o in week_options if o.slot == slot]
            pick = (on_slot or week_options)[:1]
            if not chosen and (not on_slot):
                continue  # the series starts at its own slot
            chosen += pick
            if len(chosen) == match.sessions:
                return chosen
    return None
