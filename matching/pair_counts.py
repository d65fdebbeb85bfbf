"""Candidate pairs for questions that only count them (unmatched.py): the pairs candidates.build finds, as two
index arrays, with neither scores nor Python objects per pair read; and the referrals that share one profile,
so each profile is asked about once.

With the reach widened by tens of km (wider_travel.py): a build's grid cells are as wide as the longest reach
among its volunteers, so a few volunteers travelling far make every block dense with volunteers far out of
everyone else's reach. Built once per class of reach (each within a factor of two), every block holds about the
volunteers that can reach it. A pair is a candidate or not on its own: the classes' pairs are the whole graph's.
Without travel in question one build is quicker (each build reads every referral)."""

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from matching import candidates, constraints
from matching.model import MatchProblem, ReferralProfile

IntArray = npt.NDArray[np.int64]
NO_LISTS = 2**62  # these graphs are never solved: no seed lists
REACH_RATIO = 2.0  # the longest reach in a class at most twice its shortest


def pairs(problem: MatchProblem, *, by_reach: bool = False) -> tuple[IntArray, IntArray]:
    """Every candidate pair of the problem as (referral index, volunteer index). In one build (each referral's
    pairs one run, her volunteers in index order) or `by_reach`, one build per class of reach, for questions
    with travel; there the runs are per class."""
    if not by_reach:
        graph = candidates.build(problem, lists_above=NO_LISTS)
        return graph.referral.astype(np.int64), graph.volunteer.astype(np.int64)
    found_r: list[IntArray] = []
    found_v: list[IntArray] = []
    for members in reach_classes(problem):
        graph = candidates.build(
            replace(problem, volunteers=tuple(problem.volunteers[i] for i in members)), lists_above=NO_LISTS
        )
        found_r.append(graph.referral.astype(np.int64))
        found_v.append(members[graph.volunteer])
    if not found_r:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(found_r), np.concatenate(found_v)


def reach_classes(problem: MatchProblem) -> list[IntArray]:
    """The indices of the volunteers who can be in a pair (ready, with a free place), in classes of reach
    within REACH_RATIO of each other, shortest first."""
    able = [
        i
        for i, v in enumerate(problem.volunteers)
        if constraints.volunteer_ready(v) and constraints.has_free_capacity(v)
    ]
    able.sort(key=lambda i: problem.volunteers[i].max_travel_km)
    classes: list[list[int]] = []
    shortest = 0.0
    for i in able:
        reach = problem.volunteers[i].max_travel_km
        if not classes or reach > REACH_RATIO * shortest:
            classes.append([])
            shortest = max(reach, 1.0)
        classes[-1].append(i)
    return [np.array(sorted(members), dtype=np.int64) for members in classes]


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
