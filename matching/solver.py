"""The optimisation: OR-Tools min-cost flow on the sparse candidate graph.

source → referral (capacity 1) → volunteer (capacity 1, cost C - score) → sink (capacity = her free slots).
`solve_max_flow_with_min_cost` first fixes the most referrals that can be matched, k, and then minimises
Σ(C - score) = k·C - Σscore over flows of that size, which is the highest total score: the lexicographic
objective (most matched, then best total) in one exact solve. See docs/decisions/0002.
"""

import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from matching import candidates, explain, scoring
from matching.model import FORMATS, Assignment, MatchProblem, MatchStats, Proposal


def solve(problem: MatchProblem, *, time_limit_s: float | None = None) -> Assignment:
    """The assignment matching the most referrals and, among those, with the highest total score.

    Referrals and volunteers are taken in id order, so the same people in any order give the same proposals
    (in referral id order). Min-cost flow is exact and needs no time limit; the argument is accepted for a
    uniform engine interface with scheduling."""
    problem = replace(
        problem,
        referrals=tuple(sorted(problem.referrals, key=lambda r: r.id)),
        volunteers=tuple(sorted(problem.volunteers, key=lambda v: v.id)),
    )
    started = time.perf_counter()
    graph = candidates.build(problem)
    candidate_seconds = time.perf_counter() - started
    solve_started = time.perf_counter()
    chosen, optimal = assign(graph, problem)
    solve_seconds = time.perf_counter() - solve_started
    proposals = tuple(_proposal(problem, graph, int(arc)) for arc in chosen)
    matched_ids = {p.referral_id for p in proposals}
    unmatched = explain.unmatched(problem, graph, matched_ids)
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


def assign(graph: candidates.CandidateGraph, problem: MatchProblem) -> tuple[npt.NDArray[np.int64], bool]:
    """Indices of the chosen candidate pairs, and whether the solver proved them optimal."""
    if graph.size == 0:
        return np.zeros(0, dtype=np.int64), True
    n_referrals, n_volunteers = len(problem.referrals), len(problem.volunteers)
    source, sink = n_referrals + n_volunteers, n_referrals + n_volunteers + 1
    ceiling = int(graph.score.max()) + 1
    used_volunteers = np.unique(graph.volunteer)
    used_referrals = np.unique(graph.referral)
    slots = np.array([problem.volunteers[int(v)].slots for v in used_volunteers], dtype=np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    # Three batches of arcs, so only one batch's int64 copies are alive at a time (10 M pairs at 20k x 10k).
    flow.add_arcs_with_capacity_and_unit_cost(
        np.full(used_referrals.shape, source, dtype=np.int32),
        used_referrals.astype(np.int32),
        np.ones(used_referrals.shape, dtype=np.int64),
        np.zeros(used_referrals.shape, dtype=np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        graph.referral,
        (n_referrals + graph.volunteer).astype(np.int32),
        np.ones(graph.size, dtype=np.int64),
        ceiling - graph.score.astype(np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        (n_referrals + used_volunteers).astype(np.int32),
        np.full(used_volunteers.shape, sink, dtype=np.int32),
        slots,
        np.zeros(used_volunteers.shape, dtype=np.int64),
    )
    # Supplies bound the flow; the max-flow variant then sends as much as the graph allows.
    flow.set_node_supply(source, int(used_referrals.size))
    flow.set_node_supply(sink, -int(used_referrals.size))
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        return np.zeros(0, dtype=np.int64), False
    first_pair_arc = used_referrals.size
    pair_flows = flow.flows(np.arange(first_pair_arc, first_pair_arc + graph.size, dtype=np.int32))
    chosen: npt.NDArray[np.int64] = np.flatnonzero(pair_flows > 0)
    return chosen, True


def _proposal(problem: MatchProblem, graph: candidates.CandidateGraph, arc: int) -> Proposal:
    referral = problem.referrals[int(graph.referral[arc])]
    volunteer = problem.volunteers[int(graph.volunteer[arc])]
    fmt = FORMATS[int(graph.format[arc])]
    reasons = scoring.reasons(referral, volunteer, fmt, problem.weights)
    score = sum(r.points for r in reasons)
    return Proposal(
        referral_id=referral.id,
        volunteer_id=volunteer.id,
        score=score,
        fit=scoring.fit(score, referral, problem.weights),
        format=fmt,
        reasons=reasons,
    )
