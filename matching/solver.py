"""The optimisation: OR-Tools min-cost flow on the sparse candidate graph.

source → referral (capacity 1) → volunteer (capacity 1, cost C - score) → sink (capacity = her free slots).
`solve_max_flow_with_min_cost` first fixes the most referrals that can be matched, k, and then minimises
Σ(C - score) = k·C - Σscore over flows of that size, which is the highest total score: the lexicographic
objective (most matched, then best total) in one exact solve. See docs/decisions/0002.
"""

import itertools
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from matching import candidates, explain, scoring, seed, sparse, venues
from matching.model import FORMATS, Assignment, MatchProblem, MatchStats, Proposal
from matching.pages import small_pages

# Told ("pairs_built", candidate pairs) once the graph is built, then ("solve_round", n) as each flow round starts.
Progress = Callable[[str, int], None]


def solve(problem: MatchProblem, *, time_limit_s: float | None = None, progress: Progress | None = None) -> Assignment:
    """The assignment matching the most referrals and, among those, with the highest total score.

    Referrals and volunteers are taken in id order, so the same people in any order give the same proposals
    (in referral id order). Min-cost flow is exact and needs no time limit; the argument is accepted for a
    uniform engine interface with scheduling. `progress`, if given, hears how far the solve has got."""
    problem = replace(
        problem,
        referrals=tuple(sorted(problem.referrals, key=lambda r: r.id)),
        volunteers=tuple(sorted(problem.volunteers, key=lambda v: v.id)),
    )
    started = time.perf_counter()
    graph = candidates.build(problem)
    candidate_seconds = time.perf_counter() - started
    if progress is not None:
        progress("pairs_built", graph.size)
    solve_started = time.perf_counter()
    chosen, optimal = assign(graph, problem, progress=progress)
    solve_seconds = time.perf_counter() - solve_started
    proposals = tuple(_proposal(problem, graph, int(arc)) for arc in chosen)
    matched_ids = {p.referral_id for p in proposals}
    unmatched = explain.unmatched(problem, graph, matched_ids)
    if venues.applies(problem):
        unmatched = venues.explain(problem, unmatched)
    stats = MatchStats(
        referrals=len(problem.referrals),
        volunteers=len(problem.volunteers),
        candidate_pairs=graph.size,
        matched=len(proposals),
        total_score=sum(p.score for p in proposals),
        optimal=optimal,
        candidate_seconds=round(candidate_seconds, 4),
        solve_seconds=round(solve_seconds, 4),
    )
    return Assignment(proposals=proposals, unmatched=unmatched, stats=stats)


def assign(
    graph: candidates.CandidateGraph,
    problem: MatchProblem,
    *,
    sparse_above: int = seed.SEEDED_ABOVE,
    progress: Progress | None = None,
) -> tuple[npt.NDArray[np.int64], bool]:
    """Indices of the chosen candidate pairs, and whether they are proved optimal."""
    with small_pages():
        return _assign(graph, problem, sparse_above, progress)


def _assign(
    graph: candidates.CandidateGraph, problem: MatchProblem, sparse_above: int, progress: Progress | None = None
) -> tuple[npt.NDArray[np.int64], bool]:
    if graph.size == 0:
        return np.zeros(0, dtype=np.int64), True
    slots = np.array([v.slots for v in problem.volunteers], dtype=np.int64)

    rounds = itertools.count(1)

    def flow(part: npt.NDArray[np.intp]) -> npt.NDArray[np.intp] | None:
        if progress is not None:
            progress("solve_round", next(rounds))
        return _flow(graph, part, slots, len(problem.referrals))

    chosen = None
    if graph.size > sparse_above:
        chosen = sparse.assign(graph.referral, graph.volunteer, graph.score, slots, flow, lists=graph.lists).chosen
    if chosen is None:
        chosen = flow(np.arange(graph.size))
    if chosen is None:
        return np.zeros(0, dtype=np.int64), False
    # In referral order, as the proposals are listed (the graph keeps each referral's pairs in one run).
    in_order: npt.NDArray[np.int64] = chosen[np.argsort(graph.referral[chosen], kind="stable")].astype(np.int64)
    return in_order, True


def _flow(
    graph: candidates.CandidateGraph, part: npt.NDArray[np.intp], slots: npt.NDArray[np.int64], n_referrals: int
) -> npt.NDArray[np.intp] | None:
    """The optimal pairs among `part` (indices into the graph), or None if the solver does not prove one."""
    referral, volunteer = graph.referral[part], graph.volunteer[part]
    source, sink = n_referrals + slots.size, n_referrals + slots.size + 1
    ceiling = int(graph.score.max()) + 1
    # Counting is quicker than np.unique's hashing over hundreds of thousands of pairs.
    used_volunteers = np.flatnonzero(np.bincount(volunteer, minlength=slots.size))
    used_referrals = np.flatnonzero(np.bincount(referral, minlength=n_referrals))
    flow = min_cost_flow.SimpleMinCostFlow()
    # Three batches of arcs, so only one batch's int64 copies are alive at a time (10 M pairs at 20k x 10k).
    flow.add_arcs_with_capacity_and_unit_cost(
        np.full(used_referrals.shape, source, dtype=np.int32),
        used_referrals.astype(np.int32),
        np.ones(used_referrals.shape, dtype=np.int64),
        np.zeros(used_referrals.shape, dtype=np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        referral.astype(np.int32),
        (n_referrals + volunteer).astype(np.int32),
        np.ones(part.size, dtype=np.int64),
        ceiling - graph.score[part].astype(np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        (n_referrals + used_volunteers).astype(np.int32),
        np.full(used_volunteers.shape, sink, dtype=np.int32),
        slots[used_volunteers],
        np.zeros(used_volunteers.shape, dtype=np.int64),
    )
    # Supplies bound the flow; the max-flow variant then sends as much as the graph allows.
    flow.set_node_supply(source, int(used_referrals.size))
    flow.set_node_supply(sink, -int(used_referrals.size))
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        return None
    first_pair_arc = used_referrals.size
    pair_flows = flow.flows(np.arange(first_pair_arc, first_pair_arc + part.size, dtype=np.int32))
    chosen: npt.NDArray[np.intp] = part[pair_flows > 0]
    return chosen


def _proposal(problem: MatchProblem, graph: candidates.CandidateGraph, arc: int) -> Proposal:
    referral = problem.referrals[int(graph.referral[arc])]
    volunteer = problem.volunteers[int(graph.volunteer[arc])]
    fmt = FORMATS[int(graph.format[arc])]
    choice = venues.chosen(graph, arc)  # where the graph scored them
    reasons = venues.reasons(referral, volunteer, fmt, problem.weights, choice)
    score = sum(r.points for r in reasons)
    return Proposal(
        referral_id=referral.id,
        volunteer_id=volunteer.id,
        score=score,
        fit=scoring.fit(score, referral, problem.weights),
        format=fmt,
        reasons=reasons,
        venue_id=choice.venue.id if choice is not None else None,
    )
