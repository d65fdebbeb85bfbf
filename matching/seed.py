"""The first part of a large graph that the seeded solve (sparse.py) works on: each referral's best pairs,
each volunteer's best pairs, and about as many again per referral and per volunteer picked by a fixed hash
of the pair, so that the part can match as many referrals as the whole graph (a sparse random graph has
near-perfect matchings; the best pairs alone crowd onto the same popular volunteers).

For a graph above SEEDED_ABOVE pairs, the referral side, the hash draws and a histogram of each volunteer's
scores are worked out block by block once the candidate graph's blocks are built (`for_block`), where the
data is at hand; `for_graph` does the same over a whole graph at once."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SEEDED_ABOVE = 1_500_000  # pairs: above this, solve on a seed with a proof of optimality (sparse.py)


@dataclass(frozen=True)
class Seed:
    """How much of the graph the first round takes, and how much each later round adds."""

    best_per_referral: int = 12
    best_per_volunteer: int = 8
    spread: int = 4  # hashed pairs per referral and per volunteer
    # Later parts: per referral and per volunteer, the pairs closest to breaking their condition (slack in
    # points under the last prices), from those closer than `within`.
    within: int = 10
    next_per_referral: int = 8
    next_per_volunteer: int = 8
    max_rounds: int = 6


@dataclass(frozen=True)
class Lists:
    """Per pair: on its referral's shortlist, and its volunteer-side draw (0..2**16-1); per volunteer and
    score (0..top), how many of her pairs have it."""

    listed: npt.NDArray[np.bool_]
    draw: npt.NDArray[np.uint16]
    by_volunteer: npt.NDArray[np.int64]


def draws(
    referral: npt.NDArray[np.integer], volunteer: npt.NDArray[np.integer]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Two fixed 16-bit draws per pair: multiplicative hashing in wrapping 32-bit arithmetic."""
    mix = np.multiply(referral, 0x9E3779B1, dtype=np.uint32, casting="unsafe")
    other = np.multiply(volunteer, 0x85EBCA77, dtype=np.uint32, casting="unsafe")
    mix += other
    np.right_shift(mix, 16, out=other)
    mix &= 0xFFFF
    return other.view(np.int32), mix.view(np.int32)


def histogram(
    owner: npt.NDArray[np.integer], key: npt.NDArray[np.integer], owners: int, top: int
) -> npt.NDArray[np.int64]:
    """How many of each owner's pairs have each key (0..top)."""
    kind = np.int32 if owners * (top + 1) < 2**31 else np.int64
    cell = np.multiply(owner, top + 1, dtype=kind)
    cell += key
    counts: npt.NDArray[np.int64] = np.bincount(cell, minlength=owners * (top + 1)).reshape(owners, top + 1)
    return counts


def thresholds(counts: npt.NDArray[np.int64], k: int) -> npt.NDArray[np.int64]:
    """Per owner, the k-th highest key in her histogram (0 if she has fewer than k pairs)."""
    top = counts.shape[1] - 1
    from_top = counts[:, ::-1].cumsum(axis=1)
    at: npt.NDArray[np.int64] = top - np.minimum((from_top < k).sum(axis=1), top)
    return at


def best_per(
    group: npt.NDArray[np.integer], key: npt.NDArray[np.integer], k: int, groups: int
) -> npt.NDArray[np.bool_]:
    """The pairs among each group's k highest keys (0 <= key); ties at the k-th key are all kept."""
    top = int(key.max()) if key.size else 0
    threshold = thresholds(histogram(group, key, groups, top), k).astype(key.dtype)
    kept: npt.NDArray[np.bool_] = key >= threshold[group]
    return kept


def about(
    draw: npt.NDArray[np.integer], owner: npt.NDArray[np.integer], degree: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.bool_]:
    """About k of each owner's pairs: draw / 2**16 < k / degree, one threshold per owner."""
    below = ((k << 16) // np.maximum(degree, 1)).astype(np.int32)
    picked: npt.NDArray[np.bool_] = draw < below[owner]
    return picked


def for_block(
    row: npt.NDArray[np.integer],
    rows: int,
    referral: npt.NDArray[np.integer],
    volunteer: npt.NDArray[np.integer],
    score: npt.NDArray[np.integer],
    seed_with: Seed = Seed(),
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint16]]:
    """Each referral's shortlist (her best pairs and a few hashed ones) and the volunteer-side draws, for
    pairs of referrals numbered 0..rows-1 by `row` and holding all of their pairs."""
    first, second = draws(referral, volunteer)
    listed = best_per(row, score, seed_with.best_per_referral, rows)
    listed |= about(first, row, np.bincount(row, minlength=rows), seed_with.spread)
    return listed, second.astype(np.uint16)


def for_graph(
    referral: npt.NDArray[np.integer],
    volunteer: npt.NDArray[np.integer],
    score: npt.NDArray[np.integer],
    n_ref: int,
    n_vol: int,
    seed_with: Seed = Seed(),
) -> Lists:
    """The same lists over a whole graph at once."""
    listed, draw = for_block(referral, n_ref, referral, volunteer, score, seed_with)
    top = int(score.max()) if score.size else 0
    return Lists(listed, draw, histogram(volunteer, score, n_vol, top))


def first_part(
    lists: Lists, volunteer: npt.NDArray[np.integer], score: npt.NDArray[np.integer], seed_with: Seed = Seed()
) -> npt.NDArray[np.bool_]:
    """The seed: the referrals' shortlists, each volunteer's best pairs and about `spread` hashed ones."""
    best = thresholds(lists.by_volunteer, seed_with.best_per_volunteer).astype(score.dtype)
    part: npt.NDArray[np.bool_] = score >= best[volunteer]
    part |= lists.listed
    part |= about(lists.draw, volunteer, lists.by_volunteer.sum(axis=1), seed_with.spread)
    return part
