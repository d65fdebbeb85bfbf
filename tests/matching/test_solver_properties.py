"""Property tests on small random instances: the engine is as good as an independent optimum, and never
breaks a rule, over-fills a volunteer, or reports a score its reasons do not add up to."""

import itertools
import random
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from matching import candidates, constraints, scoring
from matching.model import FORMATS, Interpreter, MatchProblem, ReferralProfile, VolunteerProfile, WeeklyWindow
from matching.solver import solve

TOWNS = [(55.95, -3.19), (55.97, -3.17), (55.86, -4.25), (57.15, -2.09)]
FORMAT_CHOICES = [("home_visit",), ("telephone",), ("home_visit", "telephone"), ("in_person", "home_visit")]
LANGS = [("en",), ("pl", "en"), ("pl",), ("ar", "en")]
# Districts on the mainland, two island groups, and unknown: the sea rule across the same towns.
AREAS = ["EH1", "G1", "HS1", "KA27", None]
SPECIALISMS = ["baby_loss", "fathers", "interpreting"]
INTERPRETERS = [
    None,
    None,
    Interpreter("ar", three_way_calls=True),
    Interpreter("pl", at_visits=True),
    Interpreter("ar", True, True),
]


@st.composite
def problems(draw: st.DrawFn) -> MatchProblem:
    seed = draw(st.integers(0, 10_000))
    n_r, n_v = draw(st.integers(1, 8)), draw(st.integers(1, 6))
    rng = random.Random(seed)

    def window() -> WeeklyWindow:
        start = rng.choice([540, 600, 780])
        return WeeklyWindow(rng.randrange(3), start, start + rng.choice([60, 120, 180]))

    refs = tuple(
        ReferralProfile(
            id=f"r{i}",
            languages=rng.choice(LANGS),
            formats=rng.choice(FORMAT_CHOICES),
            lat=rng.choice(TOWNS)[0],
            lon=rng.choice(TOWNS)[1],
            availability=(window(), window()),
            experiences=frozenset(rng.sample(["a", "b", "c", "d", "e"], rng.randint(0, 5))),
            background=frozenset(rng.sample(["x", "y"], rng.randint(0, 1))),
            waiting_days=rng.randint(0, 60),
            priority=rng.random() < 0.2,
            volunteer_gender=rng.choice([None, None, "female"]),
            must_match=frozenset(rng.sample(["language", "experience:a", "specialism:baby_loss"], rng.randint(0, 1))),
            role=rng.choice(["mother", "father", "co_parent"]),
            specialisms=frozenset(rng.sample(SPECIALISMS, rng.randint(0, 2))),
            interpreter=rng.choice(INTERPRETERS),
            area=rng.choice(AREAS),
        )
        for i in range(n_r)
    )
    vols = tuple(
        VolunteerProfile(
            id=f"v{j}",
            languages=rng.choice(LANGS),
            formats=rng.choice(FORMAT_CHOICES),
            lat=rng.choice(TOWNS)[0],
            lon=rng.choice(TOWNS)[1],
            max_travel_km=rng.choice([5.0, 20.0, 50.0]),
            availability=(window(), window(), window()),
            gender=rng.choice(["female", "male"]),
            experiences=frozenset(rng.sample(["a", "b", "c", "d", "e"], rng.randint(0, 5))),
            ready=rng.random() < 0.9,
            free_places=(p := rng.randint(0, 3)),
            free_weekly_sessions=rng.randint(p, 3),
            current_parents=rng.randint(0, 2),
            max_parents=3,
            specialisms=frozenset(rng.sample(SPECIALISMS, rng.randint(0, 2))),
            area=rng.choice(AREAS),
            first_name=rng.choice([None, "Morag"]),
        )
        for j in range(n_v)
    )
    excluded = frozenset((f"r{i}", f"v{j}") for i in range(n_r) for j in range(n_v) if rng.random() < 0.05)
    return MatchProblem(refs, vols, excluded_pairs=excluded)


def _independent_optimum(problem: MatchProblem) -> tuple[int, int]:
    """The best (matched, total score) by linear programming over every feasible pair, enumerated directly
    with the scalar rules (the b-matching polytope of a bipartite graph is integral)."""
    pairs = []
    for r, v in itertools.product(problem.referrals, problem.volunteers):
        if constraints.is_candidate(r, v, session_minutes=60, excluded_pairs=problem.excluded_pairs):
            fmt = constraints.feasible_formats(r, v)[0]
            pairs.append((r.id, v.id, sum(x.points for x in scoring.reasons(r, v, fmt, problem.weights))))
    if not pairs:
        return 0, 0
    big = 10_000
    cost = [-(big + s) for _, _, s in pairs]
    rows, bounds = [], []
    for r in problem.referrals:
        rows.append([1 if p[0] == r.id else 0 for p in pairs])
        bounds.append(1)
    for v in problem.volunteers:
        rows.append([1 if p[1] == v.id else 0 for p in pairs])
        bounds.append(v.slots)
    result = linprog(cost, A_ub=rows, b_ub=bounds, bounds=(0, 1), method="highs")
    x = np.round(result.x).astype(int)
    matched = int(x.sum())
    return matched, int(sum(s for (_, _, s), chosen in zip(pairs, x, strict=True) if chosen))


@settings(max_examples=60, deadline=None)
@given(problems())
def test_the_engine_reaches_the_independent_optimum(problem: MatchProblem) -> None:
    assignment = solve(problem)
    assert (assignment.stats.matched, assignment.stats.total_score) == _independent_optimum(problem)
    assert assignment.stats.optimal


@settings(max_examples=60, deadline=None)
@given(problems())
def test_no_proposal_breaks_a_rule_or_overfills_a_volunteer(problem: MatchProblem) -> None:
    assignment = solve(problem)
    referrals = {r.id: r for r in problem.referrals}
    volunteers = {v.id: v for v in problem.volunteers}
    for p in assignment.proposals:
        r, v = referrals[p.referral_id], volunteers[p.volunteer_id]
        assert constraints.is_candidate(r, v, session_minutes=60, excluded_pairs=problem.excluded_pairs)
        assert p.format in constraints.feasible_formats(r, v)
        assert p.score == sum(reason.points for reason in p.reasons)
        assert 0 <= p.fit <= 100
    load = Counter(p.volunteer_id for p in assignment.proposals)
    assert all(load[vid] <= volunteers[vid].slots for vid in load)
    assert len({p.referral_id for p in assignment.proposals}) == len(assignment.proposals)
    assert {u.referral_id for u in assignment.unmatched} | {p.referral_id for p in assignment.proposals} == set(
        referrals
    )


@settings(max_examples=40, deadline=None)
@given(problems())
def test_the_vectorised_graph_is_exactly_the_scalar_rules(problem: MatchProblem) -> None:
    graph = candidates.build(problem)
    found = {
        (problem.referrals[int(r)].id, problem.volunteers[int(v)].id): (int(s), FORMATS[int(f)])
        for r, v, s, f in zip(graph.referral, graph.volunteer, graph.score, graph.format, strict=True)
    }
    expected = {}
    for r, v in itertools.product(problem.referrals, problem.volunteers):
        if constraints.is_candidate(r, v, session_minutes=60, excluded_pairs=problem.excluded_pairs):
            fmt = constraints.feasible_formats(r, v)[0]
            expected[(r.id, v.id)] = (sum(x.points for x in scoring.reasons(r, v, fmt, problem.weights)), fmt)
    assert found == expected
    runs = graph.referral[np.r_[True, graph.referral[1:] != graph.referral[:-1]]] if graph.size else graph.referral
    assert np.unique(runs).size == runs.size  # each referral's pairs in one run, as the price certificate needs


def test_the_same_input_gives_the_same_output() -> None:
    from matching.synthetic import population

    problem = MatchProblem(*population(300, 150, seed=3))
    first, again = solve(problem), solve(problem)
    assert first.proposals == again.proposals and first.unmatched == again.unmatched


@settings(max_examples=30, deadline=None)
@given(problems(), st.randoms(use_true_random=False))
def test_the_same_people_in_another_order_get_the_same_proposals(problem: MatchProblem, rng: random.Random) -> None:
    shuffled = MatchProblem(
        tuple(rng.sample(problem.referrals, len(problem.referrals))),
        tuple(rng.sample(problem.volunteers, len(problem.volunteers))),
        excluded_pairs=problem.excluded_pairs,
    )
    first, again = solve(problem), solve(shuffled)
    assert first.proposals == again.proposals
    assert first.unmatched == again.unmatched
