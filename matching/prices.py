"""Volunteer prices: the dual certificate that an assignment is optimal.

With each pair's weight `BIG + score` (BIG outweighs any difference in total score, so matching one more
parent always comes first), an assignment is optimal exactly when there are prices z >= 0 on volunteers and
y >= 0 on referrals with y_r + z_v >= weight(r, v) for every candidate pair, equality on the chosen pairs,
and z_v = 0 for every volunteer with a place left (LP duality for bipartite b-matching).

Fixing y_r = weight(r, u) - z_u for a referral matched to u (and y_r = 0 if unmatched) turns every pair's
condition into z_v >= score(r, v) + offset_r, offset_r = z_u - score(r, u) (or BIG if unmatched). The least
z meeting all of them is found by relaxation (Bellman-Ford, one vectorised pass over the pairs at a time);
the assignment is proved optimal when the relaxation settles with no volunteer who has a free place priced
above zero and no referral's y below zero. A cycle that would improve the assignment makes the prices grow
without bound, which breaks one of those two conditions; a pass limit stops a slow climb.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass
class Prices:
    """The least volunteer prices found, and whether they certify the assignment over the pairs given."""

    z: IntArray
    certified: bool
    passes: int


class Assignment:
    """An assignment as arrays: for each referral its volunteer (-1 if none) and that pair's score."""

    def __init__(
        self,
        n_referrals: int,
        referral: npt.NDArray[np.integer],
        volunteer: npt.NDArray[np.integer],
        score: npt.NDArray[np.integer],
    ) -> None:
        self.volunteer_of = np.full(n_referrals, -1, dtype=np.int64)
        self.volunteer_of[referral] = volunteer
        self.score_of = np.zeros(n_referrals, dtype=np.int64)
        self.score_of[referral] = score
        self.matched = self.volunteer_of >= 0

    def offsets(self, z: IntArray, big: int) -> IntArray:
        """offset_r of the module docstring, for every referral."""
        out = np.full(self.volunteer_of.shape, big, dtype=np.int64)
        out[self.matched] = z[self.volunteer_of[self.matched]] - self.score_of[self.matched]
        return out


def least(
    assignment: Assignment,
    referral: npt.NDArray[np.integer],
    volunteer: npt.NDArray[np.integer],
    score: npt.NDArray[np.integer],
    *,
    free: npt.NDArray[np.bool_],
    big: int,
    start: IntArray,
    max_passes: int,
    only: npt.NDArray[np.intp] | None = None,
    runs_of: tuple[IntArray, IntArray] | None = None,
) -> Prices:
    """Raise `start` to the least prices meeting every given pair's condition, and check the certificate.

    `free` marks volunteers with a place left after the assignment. Only pairs whose referral's offset
    changed in the last pass are looked at again, so a warm start costs little; `only` names the pairs the
    first pass needs (those whose condition `start` breaks: the others cannot raise a price). Each referral's
    pairs must be one consecutive run; `runs_of` is `runs(referral, ...)` if the caller has it already."""
    z = start.copy()
    offset = assignment.offsets(z, big)
    run_start, run_end = runs_of if runs_of is not None else runs(referral, offset.size)
    arcs = only  # None: every pair
    for passes in range(1, max_passes + 1):
        if arcs is None:
            np.maximum.at(z, volunteer, score + offset[referral])
        elif arcs.size:
            np.maximum.at(z, volunteer[arcs], score[arcs] + offset[referral[arcs]])
        if _broken(z, assignment, free, big):
            return Prices(z, False, passes)
        moved = assignment.offsets(z, big)
        changed = np.flatnonzero(moved != offset)
        offset = moved
        if changed.size == 0:
            return Prices(z, True, passes)
        arcs = _pairs_of(changed, run_start, run_end) if changed.size < offset.size // 4 else None
    return Prices(z, False, max_passes)


def runs(referral: npt.NDArray[np.integer], n_referrals: int) -> tuple[IntArray, IntArray]:
    """Where each referral's run of consecutive pairs starts and ends (both 0 if she has none)."""
    cuts = np.flatnonzero(referral[1:] != referral[:-1]) + 1
    starts = np.concatenate([[0], cuts]) if referral.size else np.zeros(0, dtype=np.int64)
    ends = np.concatenate([cuts, [referral.size]]) if referral.size else np.zeros(0, dtype=np.int64)
    owner = referral[starts]
    if np.unique(owner).size != owner.size:
        raise ValueError("each referral's pairs must be consecutive")
    start = np.zeros(n_referrals, dtype=np.int64)
    end = np.zeros(n_referrals, dtype=np.int64)
    start[owner], end[owner] = starts, ends
    return start, end


def _pairs_of(referrals: npt.NDArray[np.intp], start: IntArray, end: IntArray) -> npt.NDArray[np.intp]:
    """The indices of these referrals' pairs."""
    lengths = end[referrals] - start[referrals]
    ends = np.cumsum(lengths)
    pairs: npt.NDArray[np.intp] = np.arange(int(ends[-1])) + np.repeat(start[referrals] - (ends - lengths), lengths)
    return pairs


def _broken(z: IntArray, assignment: Assignment, free: npt.NDArray[np.bool_], big: int) -> bool:
    """A volunteer with a free place priced above zero, or a referral whose own price would fall below zero."""
    taken = assignment.volunteer_of[assignment.matched]
    return bool((z[free] > 0).any() or (z[taken] > big + assignment.score_of[assignment.matched]).any())


def reduced(
    prices: IntArray,
    assignment: Assignment,
    referral: npt.NDArray[np.integer],
    volunteer: npt.NDArray[np.integer],
    score: npt.NDArray[np.integer],
    big: int,
) -> npt.NDArray[np.signedinteger]:
    """Each pair's slack under these prices: below zero where its condition is broken."""
    offsets = assignment.offsets(prices, big)
    # 32-bit where every value fits: the pairs run to millions, and half the bytes is half the time.
    narrow = max(int(prices.max(initial=0)), int(np.abs(offsets).max(initial=0))) < 2**30
    kind = np.int32 if narrow else np.int64
    slack: npt.NDArray[np.signedinteger] = prices.astype(kind)[volunteer]
    slack -= offsets.astype(kind)[referral]
    slack -= score
    return slack
