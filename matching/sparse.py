"""Large candidate graphs solved exactly on a small part of them (see docs/decisions/0006).

The flow is solved on a seed of the pairs: each referral's best few, each volunteer's best few, and a few
spread by a fixed hash so that the seed can match as many referrals as the whole graph. Volunteer prices
(`prices.py`) then either prove the answer optimal over every candidate pair, or name the pairs whose
condition is broken; those and the pairs close to breaking join the next round's part, pairs far from it
leave, and the part is solved again. The answer is only ever reported optimal with the proof over the whole
graph; after a few rounds without one, the whole graph is solved.
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
        )
        if whole.certified:
            return Outcome(chosen, rounds, seed_pairs)
        close = np.flatnonzero(slack < seed_with.near_slack)
        if rounds > 1:
            # Later rounds: only around the broken pairs, their referrals and the volunteers' current parents.
            involved = np.zeros(n_ref, dtype=bool)
            involved[referral[broken]] = True
            hit = np.zeros(n_vol, dtype=bool)
            hit[volunteer[broken]] = True
            involved[assignment.matched & hit[np.maximum(assignment.volunteer_of, 0)]] = True
            close = close[involved[referral[close]]]
        nearest = np.minimum(seed_with.near_slack - slack[close], 2 * seed_with.near_slack)
        close = close[best_per(referral[close], nearest, seed_with.near_per_referral, n_ref)]
        # Far-off pairs only slow the next solve; should one be needed after all, the proof will say so.
        seed &= slack < seed_with.keep_slack
        seed[close] = True
        seed[whole.raised] = True  # the broken pairs and those the failed proof climbed along
        seed[chosen] = True
    return Outcome(None, seed_with.max_rounds, seed_pairs)
