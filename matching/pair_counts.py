"""Candidate pairs for questions that only count them (unmatched.py): the pairs candidates.build finds, as two
index arrays, with no Python object per pair; and the referrals that share one profile, so each profile is asked
about once."""

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from matching import candidates
from matching.model import MatchProblem, ReferralProfile

IntArray = npt.NDArray[np.int64]
NO_LISTS = 2**62  # these graphs are never solved: no seed lists


def pairs(problem: MatchProblem) -> tuple[IntArray, IntArray]:
    """Every candidate pair of the problem as (referral index, volunteer index)."""
    graph = candidates.build(problem, lists_above=NO_LISTS, pairs_only=True)
    return graph.referral.astype(np.int64), graph.volunteer.astype(np.int64)


def per_referral(referral: IntArray, count: int) -> IntArray:
    """How many pairs each of `count` referrals has."""
    return np.bincount(referral, minlength=count).astype(np.int64)


def profiles(
    referrals: Iterable[ReferralProfile], excluded_pairs: frozenset[tuple[str, str]]
) -> tuple[tuple[ReferralProfile, ...], list[int]]:
    """The distinct profiles as far as the hard rules go (the first referral of each stands for it), and each
    referral's profile. Her id, waiting time, priority and role decide no rule; her id does when a pair of hers
    was rejected or declined before, so she is then a profile of her own."""
    barred = {referral_id for referral_id, _ in excluded_pairs}
    index: dict[ReferralProfile, int] = {}
    distinct: list[ReferralProfile] = []
    of: list[int] = []
    for referral in referrals:
        key = replace(referral, waiting_days=0, priority=False, role="")
        if referral.id not in barred:
            key = replace(key, id="")
        if key not in index:
            index[key] = len(distinct)
            distinct.append(referral)
        of.append(index[key])
    return tuple(distinct), of
