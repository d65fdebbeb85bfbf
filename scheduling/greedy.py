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


def first_fit(
    matches: Sequence[MatchToPlan],
    options: Sequence[Sequence[Option]],
    settings: Settings,
    *,
    limit: int,
    fixed_per_week: dict[date, int],
    steady: bool = False,
) -> list[list[Option] | None]:
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


def _first_slot_that_fits(
    match: MatchToPlan,
    options: Sequence[Option],
    placed: dict[date, list[Placed]],
    per_week: dict[date, int],
    limit: int,
    settings: Settings,
    *,
    steady: bool,
) -> list[Option] | None:
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


def week_by_week(
    matches: Sequence[MatchToPlan],
    options: Sequence[Sequence[Option]],
    settings: Settings,
    *,
    limit: int,
    fixed_per_week: dict[date, int],
) -> list[list[Option] | None]:
    """A steady plan that interleaves her matches: each match keeps one slot, the slots chosen so that no two
    clash (travel included), the most constrained match choosing first; then, week by week, the matches with the
    least slack (weeks left on their slot less sessions left) take her room first. Up to SLOT_SETS_TRIED sets of
    slots are tried; when none plans every match, the latest short match in the batch is left out and the rest
    planned again. Finds the alternating weeks and the packed slots first fit misses."""
    left_out: set[int] = set()
    while True:
        first_short: list[int] | None = None
        for slots in _slot_sets(matches, options, settings, left_out):
            chosen = _sweep(matches, options, settings, limit, fixed_per_week, slots)
            short = [i for i, fit in enumerate(chosen) if fit is None and i not in left_out]
            if not short:
                return chosen
            first_short = first_short or short
        if first_short is None:
            return [None] * len(matches)
        left_out.add(first_short[-1])  # the latest in the batch gives way


SLOT_SETS_TRIED = 40
SLOT_SEARCH_STEPS = 5_000  # bounds the search for slots that do not clash when there are many matches


def _slot_sets(
    matches: Sequence[MatchToPlan], options: Sequence[Sequence[Option]], settings: Settings, left_out: set[int]
) -> list[dict[int, tuple[int, int]]]:
    """Sets of one slot per match (those with enough weeks on some slot), no two clashing, earliest first;
    when none exists, each match's earliest slot with enough weeks, clashes and all (they then share weeks)."""
    length = settings.session_minutes
    candidates: dict[int, list[tuple[int, int]]] = {}
    for i, (match, match_options) in enumerate(zip(matches, options, strict=True)):
        weeks_on: dict[tuple[int, int], set[date]] = defaultdict(set)
        for o in match_options:
            weeks_on[o.slot].add(o.monday)
        enough = [slot for slot, weeks in weeks_on.items() if len(weeks) >= match.sessions]
        if i not in left_out and enough:
            candidates[i] = enough
    order = sorted(candidates, key=lambda i: (len(candidates[i]), i))
    found: list[dict[int, tuple[int, int]]] = []
    steps = 0

    def apart(i: int, slot: tuple[int, int], j: int, other: tuple[int, int]) -> bool:
        return slot[0] != other[0] or abs(slot[1] - other[1]) >= length + gap_minutes(
            matches[i].place, matches[j].place, settings
        )

    def extend(depth: int, chosen: dict[int, tuple[int, int]]) -> None:
        nonlocal steps
        if len(found) >= SLOT_SETS_TRIED or steps >= SLOT_SEARCH_STEPS:
            return
        if depth == len(order):
            found.append(dict(chosen))
            return
        i = order[depth]
        for slot in candidates[i]:
            steps += 1
            if all(apart(i, slot, j, other) for j, other in chosen.items()):
                chosen[i] = slot
                extend(depth + 1, chosen)
                del chosen[i]

    extend(0, {})
    return found or [{i: slots[0] for i, slots in candidates.items()}]


def _sweep(
    matches: Sequence[MatchToPlan],
    options: Sequence[Sequence[Option]],
    settings: Settings,
    limit: int,
    fixed_per_week: dict[date, int],
    slots: dict[int, tuple[int, int]],
) -> list[list[Option] | None]:
    length = settings.session_minutes
    at = {(i, o.monday): o for i in slots for o in options[i] if o.slot == slots[i]}
    weeks = sorted({monday for _, monday in at})
    chosen: dict[int, list[Option]] = {i: [] for i in slots}
    placed: dict[date, list[Placed]] = defaultdict(list)
    per_week: dict[date, int] = defaultdict(int, fixed_per_week)
    for w, week in enumerate(weeks):

        def slack(i: int, w: int = w) -> int:
            weeks_left = sum((i, later) in at for later in weeks[w:])
            return weeks_left - (matches[i].sessions - len(chosen[i]))

        waiting = [i for i in slots if (i, week) in at and len(chosen[i]) < matches[i].sessions]
        for i in sorted(waiting, key=lambda i: (slack(i), i)):
            option = at[(i, week)]
            if per_week[week] >= limit or not _spaced(chosen[i], option, matches[i].min_days_apart):
                continue
            if any(
                _clash(option, other, gap_minutes(matches[i].place, where, settings), length)
                for other, where in placed[option.local_day]
            ):
                continue
            chosen[i].append(option)
            placed[option.local_day].append((option, matches[i].place))
            per_week[week] += 1
    return [chosen[i] if i in chosen and len(chosen[i]) == matches[i].sessions else None for i in range(len(matches))]


def _clash(option: Option, other: Option, gap: int, length: int) -> bool:
    return option.minute < other.minute + length + gap and other.minute < option.minute + length + gap
