"""The seeded solve with its price certificate: never claims an optimum it has not proved, and reaches the
same optimum as a solve of the whole graph; a worse assignment never passes the certificate."""

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import prices, seed, sparse
from matching.candidates import CandidateGraph
from matching.solver import _flow

TINY = seed.Seed(
    best_per_referral=1, best_per_volunteer=1, spread=1, within=1, next_per_referral=1, next_per_volunteer=1
)


def _graph(number: int) -> tuple[CandidateGraph, npt.NDArray[np.int64]]:
    """A dense random graph, pairs grouped by referral as the candidate builder makes them."""
    rng = np.random.default_rng(number)
    n_ref, n_vol = int(rng.integers(5, 60)), int(rng.integers(2, 25))
    keep = rng.random((n_ref, n_vol)) < rng.uniform(0.2, 1.0)
    referral, volunteer = np.nonzero(keep)
    score = rng.integers(0, rng.integers(1, 60), size=referral.size)
    slots = rng.integers(0, 4, size=n_vol).astype(np.int64)
    graph = CandidateGraph(
        referral.astype(np.int32),
        volunteer.astype(np.int32),
        score.astype(np.int32),
        np.zeros(referral.size, dtype=np.int8),
    )
    return graph, slots


def _value(graph: CandidateGraph, chosen: npt.NDArray[np.intp]) -> tuple[int, int]:
    return int(chosen.size), int(graph.score[chosen].sum())


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([TINY, seed.Seed()]))
def test_the_seeded_solve_reaches_the_whole_graphs_optimum(number: int, seed_with: seed.Seed) -> None:
    graph, slots = _graph(number)
    if graph.size == 0:
        return
    n_ref = int(graph.referral.max()) + 1

    def flow(part: npt.NDArray[np.intp]) -> npt.NDArray[np.intp] | None:
        return _flow(graph, part, slots, n_ref)

    whole = flow(np.arange(graph.size))
    assert whole is not None
    outcome = sparse.assign(graph.referral, graph.volunteer, graph.score, slots, flow, seed_with)
    if outcome.chosen is None:  # allowed (the caller then solves the whole graph), never a wrong claim
        return
    assert _value(graph, outcome.chosen) == _value(graph, whole)
    assert (np.bincount(graph.volunteer[outcome.chosen], minlength=slots.size) <= slots).all()
    assert np.unique(graph.referral[outcome.chosen]).size == outcome.chosen.size


def test_a_tiny_seed_grows_until_it_proves_the_optimum() -> None:
    proved = 0
    for number in range(40):
        graph, slots = _graph(number)
        n_ref = int(graph.referral.max()) + 1
        outcome = sparse.assign(
            graph.referral,
            graph.volunteer,
            graph.score,
            slots,
            lambda part, g=graph, s=slots, n=n_ref: _flow(g, part, s, n),
            TINY,
        )
        proved += outcome.chosen is not None and outcome.seed_pairs < graph.size
    assert proved >= 30  # most are proved from a seed smaller than the graph, not by the fallback


def _greedy(graph: CandidateGraph, slots: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    left, taken, chosen = slots.copy(), set(), []
    for arc in np.argsort(-graph.score, kind="stable"):
        r, v = int(graph.referral[arc]), int(graph.volunteer[arc])
        if r not in taken and left[v] > 0:
            taken.add(r)
            left[v] -= 1
            chosen.append(arc)
    return np.array(sorted(chosen), dtype=np.intp)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_certificate_passes_an_optimum_and_fails_anything_worse(number: int) -> None:
    graph, slots = _graph(number)
    if graph.size == 0:
        return
    n_ref = int(graph.referral.max()) + 1
    big = (int(graph.score.max()) + 1) * n_ref + 1
    score = graph.score.astype(np.int64)
    best = _flow(graph, np.arange(graph.size), slots, n_ref)
    assert best is not None
    for chosen in (best, _greedy(graph, slots)):
        assignment = prices.Assignment(n_ref, graph.referral[chosen], graph.volunteer[chosen], score[chosen])
        free = np.bincount(graph.volunteer[chosen], minlength=slots.size) < slots
        found = prices.least(
            assignment,
            graph.referral,
            graph.volunteer,
            score,
            free=free,
            big=big,
            start=np.zeros(slots.size, dtype=np.int64),
            max_passes=10_000,
        )
        assert found.certified == (_value(graph, chosen) == _value(graph, best))
        if found.certified:  # the prices really are a dual solution: every pair's condition holds
            assert (prices.reduced(found.z, assignment, graph.referral, graph.volunteer, score, big) >= 0).all()


def test_the_seed_lists_made_block_by_block_are_the_whole_graphs() -> None:
    from matching import candidates
    from matching.model import MatchProblem
    from matching.synthetic import population

    problem = MatchProblem(*population(600, 300, seed=5))
    graph = candidates.build(problem, lists_above=0)
    assert graph.lists is not None and 0 < graph.lists.listed.sum() < graph.size
    n_ref, n_vol = len(problem.referrals), len(problem.volunteers)
    whole = seed.for_graph(graph.referral, graph.volunteer, graph.score, n_ref, n_vol)
    assert (graph.lists.listed == whole.listed).all()
    assert (graph.lists.draw == whole.draw).all()
    top = whole.by_volunteer.shape[1]
    assert (graph.lists.by_volunteer[:, :top] == whole.by_volunteer).all()
    assert graph.lists.by_volunteer[:, top:].sum() == 0
    first = seed.first_part(graph.lists, graph.volunteer, graph.score)
    assert (first == seed.first_part(whole, graph.volunteer, graph.score)).all()
