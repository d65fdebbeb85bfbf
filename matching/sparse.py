"""Large candidate graphs solved exactly on a small part of them (see docs/decisions/0006).

The flow is solved on a seed of the pairs: each referral's best few, each volunteer's best few, and a few
spread by a fixed hash so that the seed can match as many referrals as the whole graph. Volunteer prices
(`prices.py`) then either prove the answer optimal over every candidate pair, or name the pairs whose
condition is broken; the next round's part is those, the answer so far, and each referral's and each
volunteer's pairs closest to breaking their condition under these prices, and it is solved again. The
answer is only ever reported optimal with the proof over the whole graph; after a few rounds without one,
the whole graph is solved.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import prices
from matching.seed import Lists, Seed, best_per, first_part, for_graph

MAX_PASSES = 400

# Solves the flow over the pairs at these indices; returns the chosen indices, or None if not optimal.
Flow = Callable[[npt.NDArray[np.intp]], npt.NDArray[np.intp] | None]


@dataclass(frozen=True)
class Outcome:
    """The chosen pair indices, whether they are proved optimal over the whole graph, and the work done."""

    chosen: npt.NDArray[np.intp] | None
    rounds: int
    seed_pairs: int


def assign(
    referral: npt.NDArray[np.integer],
    volunteer: npt.NDArray[np.integer],
    score: npt.NDArray[np.integer],
    slots: npt.NDArray[np.int64],
    flow: Flow,
    seed_with: Seed = Seed(),
    lists: Lists | None = None,
) -> Outcome:
    """The optimal pairs by rounds on a growing seed, or chosen=None if no proof came within max_rounds.
    `lists` are the seed's lists if the graph's builder made them (seed.py)."""
    n_ref, n_vol = int(referral.max()) + 1, slots.size
    big = (int(score.max()) + 1) * n_ref + 1
    if lists is None:
        lists = for_graph(referral, volunteer, score, n_ref, n_vol, seed_with)
    seed = first_part(lists, volunteer, score, seed_with)
    seed_pairs = int(seed.sum())
    runs_of = prices.runs(referral, n_ref)
    for rounds in range(1, seed_with.max_rounds + 1):
        part = np.flatnonzero(seed)
        chosen = flow(part)
        if chosen is None:
            return Outcome(None, rounds, seed_pairs)
        assignment = prices.Assignment(n_ref, referral[chosen], volunteer[chosen], score[chosen])
        free = np.bincount(volunteer[chosen], minlength=n_vol) < slots
        on_part = prices.least(
            assignment,
            referral[part],
            volunteer[part],
            score[part],
            free=free,
            big=big,
            start=np.zeros(n_vol, dtype=np.int64),
            max_passes=MAX_PASSES,
        )
        if not on_part.certified:  # the flow said optimal on the part; a failed proof here means a bug
            return Outcome(None, rounds, seed_pairs)
        slack = prices.reduced(on_part.z, assignment, referral, volunteer, score, big)
        broken = slack < 0
        # Prices that hold for the part may break some other pairs' conditions; other prices may hold for all.
        whole = prices.least(
            assignment,
            referral,
            volunteer,
            score,
            free=free,
            big=big,
            start=on_part.z,
            max_passes=MAX_PASSES,
            only=np.flatnonzero(broken),
            runs_of=runs_of,
        )
        if whole.certified:
            return Outcome(chosen, rounds, seed_pairs)
        # Under prices close to the optimum's, the pairs an optimum uses are among each side's least slack:
        # the next part is each referral's and each volunteer's few least-slack pairs. The most broken pairs
        # tie at the top of each referral's list and all join, so every round adds pairs the last one lacked.
        low = np.flatnonzero(slack < seed_with.within)
        key = np.minimum(seed_with.within - slack[low].astype(np.int64), 2 * seed_with.within)
        picked = best_per(referral[low], key, seed_with.next_per_referral, n_ref)
        picked |= best_per(volunteer[low], key, seed_with.next_per_volunteer, n_vol)
        seed = np.zeros(score.size, dtype=bool)
        seed[low[picked]] = True
        seed[chosen] = True
    return Outcome(None, seed_with.max_rounds, seed_pairs)
