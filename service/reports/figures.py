"""The arithmetic of a report cell: nearest-rank percentiles, rounding, and small-number suppression."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from api_schemas.reports import SMALLEST_SHOWN, SUPPRESSED

ShownCount = int | Literal["<5"]


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
    """One row of a report, `people` being how many people it is about. In a cell of 1 to 4 people every
    count is "<5" and every derived figure null; otherwise a count of 1 to 4 is "<5" and a figure derived
    from such a count (its numerator, denominator or the values behind it) is null."""

    people: int

    def _hidden(self, *counts: int) -> bool:
        return is_small(self.people) or any(is_small(count) for count in counts)

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
