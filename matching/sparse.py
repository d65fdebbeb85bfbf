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

MAX_PASSES = 400


@dataclass(frozen=True)
class Seed:
    """How much of the graph the first round takes, and how much each later round adds."""

    best_per_referral: int = 12
    best_per_volunteer: int = 8
    spread: int = 4  # hashed pairs per referral and per volunteer
    near_slack: int = 5  # points: pairs this close to breaking their condition join with the broken ones
    near_per_referral: int = 10
    keep_slack: int = 15  # points: pairs further than this from breaking their condition leave the next part
    max_rounds: int = 6


# Solves the flow over the pairs at these indices; returns the chosen indices, or None if not optimal.
Flow = Callable[[npt.NDArray[np.intp]], npt.NDArray[np.intp] | None]


@dataclass(frozen=True)
class Outcome:
    """The chosen pair indices, whether they are proved optimal over the whole graph, and the work done."""

    chosen: npt.NDArray[np.intp] | None
    rounds: int
    seed_pairs: int


def best_per(
    group: npt.NDArray[np.integer], key: npt.NDArray[np.integer], k: int, groups: int
) -> npt.NDArray[np.bool_]:
    """The pairs among each group's k highest keys (0 <= key); ties at the k-th key are all kept."""
    top = int(key.max()) if key.size else 0
    counts = np.bincount(group.astype(np.int64) * (top + 1) + key, minlength=groups * (top + 1))
    from_top = counts.reshape(groups, top + 1)[:, ::-1].cumsum(axis=1)
    threshold = top - np.minimum((from_top < k).sum(axis=1), top)
    kept: npt.NDArray[np.bool_] = key >= threshold[group]
    return kept


def _draws(
    referral: npt.NDArray[np.integer], volunteer: npt.NDArray[np.integer]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Two fixed 16-bit draws per pair: multiplicative hashing in wrapping 32-bit arithmetic."""
    mix = referral.astype(np.uint32, copy=False) * np.uint32(0x9E3779B1)
    mix += volunteer.astype(np.uint32, copy=False) * np.uint32(0x85EBCA77)
    return (mix >> np.uint32(16)).view(np.int32), (mix & np.uint32(0xFFFF)).view(np.int32)


def _about(draw: npt.NDArray[np.int32], owner: npt.NDArray[np.integer], owners: int, k: int) -> npt.NDArray[np.bool_]:
    """About k of each owner's pairs: draw / 2**16 < k / degree, one threshold per owner."""
    below = ((k << 16) // np.maximum(np.bincount(owner, minlength=owners), 1)).astype(np.int32)
    picked: npt.NDArray[np.bool_] = draw < below[owner]
    return picked


def shortlist(
    row: npt.NDArray[np.integer],
    rows: int,
    referral: npt.NDArray[np.integer],
    volunteer: npt.NDArray[np.integer],
    score: npt.NDArray[np.integer],
    seed_with: Seed = Seed(),
) -> npt.NDArray[np.bool_]:
    """The referral side of the seed: each referral's best pairs and a few hashed ones. `row` numbers the
    referrals 0..rows-1 (a block of the graph can be shortlisted on its own, while it is at hand)."""
    first, _ = _draws(referral, volunteer)
    return best_per(row, score, seed_with.best_per_referral, rows) | _about(first, row, rows, seed_with.spread)


def assign(
    referral: npt.NDArray[np.integer],
    volunteer: npt.NDArray[np.integer],
    score: npt.NDArray[np.integer],
    slots: npt.NDArray[np.int64],
    flow: Flow,
    seed_with: Seed = Seed(),
    listed: npt.NDArray[np.bool_] | None = None,
) -> Outcome:
    """The optimal pairs by rounds on a growing seed, or chosen=None if no proof came within max_rounds.
    `listed` is the referral side of the seed if the graph's builder made it (`shortlist`)."""
    n_ref, n_vol = int(referral.max()) + 1, slots.size
    big = (int(score.max()) + 1) * n_ref + 1
    if listed is None:
        listed = shortlist(referral, n_ref, referral, volunteer, score, seed_with)
    _, second = _draws(referral, volunteer)
    seed = listed | best_per(volunteer, score, seed_with.best_per_volunteer, n_vol)
    seed |= _about(second, volunteer, n_vol, seed_with.spread)
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
