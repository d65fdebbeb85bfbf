"""The arithmetic of a report cell: nearest-rank percentiles, rounding, and small-number suppression (primary
in a cell, secondary across the cells of a breakdown)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from api_schemas.reports import SMALLEST_SHOWN, SUPPRESSED, WITHHELD

ShownCount = int | Literal["<5", "suppressed"]
UNBOUNDED = 10**9  # a withheld cell may be any size


def nearest_rank(values: Sequence[int], percent: int) -> int:
    """The nearest-rank percentile: the ceil(percent * n / 100)-th smallest of n values, so always a value that
    occurred. The median is the 50th percentile: for an even n, the lower of the two middle values."""
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)  # ceiling in integers, free of float error
    return ordered[max(rank, 1) - 1]


def is_small(count: int) -> bool:
    """1 to 4 people: enough to recognise someone. Zero says nothing about anyone."""
    return 0 < count < SMALLEST_SHOWN


@dataclass(frozen=True)
class Cell:
    """One row of a report, `people` being how many people it is about. Internal reports (`suppress` false) show
    everything. External ones: in a cell of 1 to 4 people every count is "<5" and every derived figure null;
    otherwise a count of 1 to 4 is "<5" and a figure derived from such a count (its numerator, denominator or
    the values behind it) is null."""

    people: int
    suppress: bool = True

    def _hidden(self, *counts: int) -> bool:
        return self.suppress and (is_small(self.people) or any(is_small(count) for count in counts))

    def count(self, value: int) -> ShownCount:
        return SUPPRESSED if self._hidden(value) else value

    def ratio(self, part: int, whole: int) -> float | None:
        if whole == 0 or self._hidden(part, whole):
            return None
        return round(part / whole, 3)

    def mean(self, total: int, n: int, *, people: int) -> float | None:
        """total ÷ n to two decimals, hidden when n or the people behind it are 1 to 4."""
        if n == 0 or self._hidden(n, people):
            return None
        return round(total / n, 2)

    def percentile(self, values: Sequence[int], percent: int) -> int | None:
        if not values or self._hidden(len(values)):
            return None
        return nearest_rank(values, percent)


def secondary_suppression(
    total: ShownCount, shown: Sequence[ShownCount], exact: Sequence[int], *, overlapping: bool = False
) -> tuple[ShownCount, list[ShownCount]]:
    """Withholds further cells of one breakdown until no "<5" in it can be worked out from the total.

    `shown` are the cells as primary suppression left them and `exact` their true counts. The cells add up to the
    total, or, `overlapping` (someone may sit in several cells, everyone in at least one), to the total or more.
    A reader knows the total, every shown cell, that a "<5" is 1 to 4 (0 to 4 in a cell of 1 to 4 people) and
    that a "suppressed" cell may be any size. A "<5" is exposed when that leaves it one possible value: it is
    the only one hidden, or the hidden cells add up to what their smallest (or largest) values would. While one
    is exposed, the smallest shown cell is withheld, non-zero ones first; when none is left, the total is."""
    cells = list(shown)
    if not isinstance(total, int) or total == 0:
        # A total of 0 already says every cell is 0, of everyone at once: the primary rule shows it.
        return total, cells
    while _any_exposed(total, cells, exact, overlapping=overlapping):
        candidates = [i for i, cell in enumerate(cells) if isinstance(cell, int)]
        if not candidates:
            return WITHHELD, cells
        cells[min(candidates, key=lambda i: (exact[i] == 0, exact[i], i))] = WITHHELD
    return total, cells


def _bounds(cell: ShownCount, exact: int) -> tuple[int, int]:
    """What a reader knows of a hidden cell."""
    if cell == SUPPRESSED:
        return min(exact, 1), SMALLEST_SHOWN - 1
    return 0, UNBOUNDED


def _any_exposed(total: int, cells: Sequence[ShownCount], exact: Sequence[int], *, overlapping: bool) -> bool:
    """Whether some "<5" has one possible value: its bounds, narrowed by what the hidden cells must add up to
    (exactly the remainder; at least the remainder when cells overlap) less the others' bounds."""
    remainder = total - sum(cell for cell in cells if isinstance(cell, int))
    hidden = [(cell, _bounds(cell, exact[i])) for i, cell in enumerate(cells) if not isinstance(cell, int)]
    all_low = sum(low for _, (low, _) in hidden)
    all_high = sum(high for _, (_, high) in hidden)
    for cell, (low, high) in hidden:
        if cell != SUPPRESSED:
            continue
        most = high if overlapping else min(high, remainder - (all_low - low))
        least = max(low, remainder - (all_high - high))
        if most <= least:
            return True
    return False
