"""The optimisation: OR-Tools min-cost flow on the sparse candidate graph.

source → referral (capacity 1) → volunteer (capacity 1, cost C - score) → sink (capacity = her free slots).
`solve_max_flow_with_min_cost` first fixes the most referrals that can be matched, k, and then minimises
Σ(C - score) = k·C - Σscore over flows of that size, which is the highest total score: the lexicographic
objective (most matched, then best total) in one exact solve. See docs/decisions/0002.
"""

import time

import numpy as np
from ortools.graph.python import min_cost_flow

from matching import candidates, explain, scoring
from matching.model import FORMATS, Assignment, MatchProblem, MatchStats, Proposal


def solve(problem: MatchProblem, *, time_limit_s: float | None = None) -> Assignment:
    """The assignment matching the most referrals and, among those, with the highest total score.

    Min-cost flow is exact and needs no time limit; the argument is accepted for a uniform engine interface."""
    started = time.perf_counter()
    graph = candidates.build(problem)
    candidate_seconds = time.perf_counter() - started
    solve_started = time.perf_counter()
    chosen, optimal = assign(graph, problem)
    solve_seconds = time.perf_counter() - solve_started
    proposals = tuple(_proposal(problem, graph, int(arc)) for arc in chosen)
    matched_ids = {p.referral_id for p in proposals}
    unmatched = explain.unmatched(problem, graph, matched_ids)
    stats = MatchStats(referrals=len(problem.referrals), volunteers=len(problem.volunteers),
                       candidate_pairs=graph.size, matched=len(proposals),
                       total_score=sum(p.score for p in proposals), optimal=optimal,
                       candidate_seconds=round(candidate_seconds, 4), solve_seconds=round(solve_seconds, 4))
    return Assignment(proposals=proposals, unmatched=unmatched, stats=stats)


def assign(graph: candidates.CandidateGraph, problem: MatchProblem) -> tuple[np.ndarray, bool]:
    """Indices of the chosen candidate pairs, and whether the solver proved them optimal."""
    if graph.size == 0:
        return np.zeros(0, dtype=np.int64), True
    n_referrals, n_volunteers = len(problem.referrals), len(problem.volunteers)
    source, sink = n_referrals + n_volunteers, n_referrals + n_volunteers + 1
    ceiling = int(graph.score.max()) + 1
    used_volunteers = np.unique(graph.volunteer)
    used_referrals = np.unique(graph.referral)
    slots = np.array([problem.volunteers[int(v)].slots for v in used_volunteers], dtype=np.int64)
    tails = np.concatenate([np.full(used_referrals.shape, source), graph.referral, n_referrals + used_volunteers])
    heads = np.concatenate([used_referrals, n_referrals + graph.volunteer, np.full(used_volunteers.shape, sink)])
    capacities = np.concatenate([np.ones(used_referrals.shape, dtype=np.int64),
                                 np.ones(graph.size, dtype=np.int64), slots])
    costs = np.concatenate([np.zeros(used_referrals.shape, dtype=np.int64), ceiling - graph.score,
                            np.zeros(used_volunteers.shape, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    # Supplies bound the flow; the max-flow variant then sends as much as the graph allows.
    flow.set_node_supply(source, int(used_referrals.size))
    flow.set_node_supply(sink, -int(used_referrals.size))
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        return np.zeros(0, dtype=np.int64), False
    first_pair_arc = used_referrals.size
    pair_flows = flow.flows(np.arange(first_pair_arc, first_pair_arc + graph.size))
    return np.flatnonzero(pair_flows > 0), True


def _proposal(problem: MatchProblem, graph: candidates.CandidateGraph, arc: int) -> Proposal:
    referral = problem.referrals[int(graph.referral[arc])]
    volunteer = problem.volunteers[int(graph.volunteer[arc])]
    fmt = FORMATS[int(graph.format[arc])]
    reasons = scoring.reasons(referral, volunteer, fmt, problem.weights)
    score = sum(r.points for r in reasons)
    return Proposal(referral_id=referral.id, volunteer_id=volunteer.id, score=score,
                    fit=scoring.fit(score, referral, problem.weights), format=fmt, reasons=reasons)
