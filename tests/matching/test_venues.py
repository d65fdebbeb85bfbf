"""Venues in the matching engine: in person only at a venue within both reaches, the venue whose farther
distance is least (ties: lower id), the nearer the more points, and the solve as exact as without venues."""

import itertools
import random
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from matching import candidates, constraints, scoring, venues, weekly
from matching.model import FORMATS, MatchProblem, ReferralProfile, VenueProfile, VolunteerProfile, WeeklyWindow
from matching.solver import solve
from tests.matching.builders import LEITH, PORTOBELLO, referral, volunteer
from tests.matching.test_solver_properties import TOWNS, problems

IN_PERSON_CHOICES = [("in_person",), ("in_person", "telephone"), ("home_visit", "in_person"), ("telephone",)]
# Venues' hours: not given (open at every hour), a working week, a few mornings, one evening, a Saturday.
OPENING_CHOICES: list[tuple[WeeklyWindow, ...] | None] = [
    None,
    tuple(WeeklyWindow(day, 9 * 60, 17 * 60) for day in range(5)),
    (WeeklyWindow(1, 10 * 60, 12 * 60), WeeklyWindow(3, 10 * 60, 11 * 60 + 30)),
    (WeeklyWindow(2, 18 * 60, 21 * 60),),
    (WeeklyWindow(5, 10 * 60, 14 * 60),),
]


@st.composite
def venue_problems(draw: st.DrawFn) -> MatchProblem:
    problem = draw(problems())
    rng = random.Random(draw(st.integers(0, 10_000)))
    places = [(lat + rng.uniform(-0.08, 0.08), lon + rng.uniform(-0.12, 0.12)) for lat, lon in TOWNS]
    found = tuple(
        VenueProfile(id=f"venue{k}", name=f"Venue {k}", lat=lat, lon=lon, opening_hours=rng.choice(OPENING_CHOICES))
        for k, (lat, lon) in enumerate(rng.sample(places * 2, rng.randint(0, 5)))
    )
    refs = tuple(
        replace(r, formats=rng.choice(IN_PERSON_CHOICES), max_travel_km=rng.choice([None, 3.0, 15.0]))
        for r in problem.referrals
    )
    vols = tuple(replace(v, formats=rng.choice(IN_PERSON_CHOICES)) for v in problem.volunteers)
    return replace(
        problem, referrals=refs, volunteers=vols, venues=found, in_person_max_travel_km=rng.choice([5.0, 20.0])
    )


def _shared_venue(problem: MatchProblem, r: ReferralProfile, v: VolunteerProfile) -> str | None:
    """The venue whose farther distance is least, lowest id first, among those open for a whole session at a
    start time both are free, found directly: None if none is shared."""
    if r.lat is None or r.lon is None or v.lat is None or v.lon is None:
        return None
    best: tuple[int, str] | None = None
    reach = r.max_travel_km if r.max_travel_km is not None else problem.in_person_max_travel_km
    minutes = problem.weights.session_minutes
    common = constraints.common_starts(r, v, minutes)
    for venue in problem.venues or ():
        if venue.opening_hours is not None and not weekly.starts(venue.opening_hours, (), minutes) & common:
            continue
        hers = constraints.hundredths(constraints.distance_km(r.lat, r.lon, venue.lat, venue.lon))
        theirs = constraints.hundredths(constraints.distance_km(v.lat, v.lon, venue.lat, venue.lon))
        if hers <= constraints.hundredths(reach) and theirs <= constraints.hundredths(v.max_travel_km):
            best = min(best or (max(hers, theirs), venue.id), (max(hers, theirs), venue.id))
    return best[1] if best else None


def _expected_pairs(problem: MatchProblem) -> dict[tuple[str, str], tuple[int, str]]:
    """Every feasible pair with its score and format, by the scalar rules and the direct venue search."""
    w, reach = problem.weights, venues.Reach(problem)
    out = {}
    for r, v in itertools.product(problem.referrals, problem.volunteers):
        ok = constraints.volunteer_ready(v) and constraints.has_free_capacity(v)
        if not ok or not venues._other_rules(r, v, problem, w.session_minutes):
            continue
        shared = _shared_venue(problem, r, v) if "in_person" in v.formats else None
        # They must be able to talk: a shared language, or an interpreter arranged for the format.
        talk = set(r.formats) if constraints.shares_language(r, v) else constraints.interpreter_formats(r)
        formats = [
            f
            for f in r.formats
            if f in v.formats
            and f in talk
            and (shared is not None if f == "in_person" else constraints.within_reach(r, v, f))
        ]
        if not formats:
            continue
        choice = reach.choose(r, v) if formats[0] == "in_person" else None
        assert choice is None or choice.venue.id == shared
        out[(r.id, v.id)] = (sum(x.points for x in venues.reasons(r, v, formats[0], w, choice)), formats[0])
    return out


@settings(max_examples=60, deadline=None)
@given(venue_problems())
def test_the_graph_holds_exactly_the_pairs_the_rules_and_a_shared_venue_allow(problem: MatchProblem) -> None:
    graph = venues.rebuild(problem, candidates.build(problem))
    found = {
        (problem.referrals[int(r)].id, problem.volunteers[int(v)].id): (int(s), FORMATS[int(f)])
        for r, v, s, f in zip(graph.referral, graph.volunteer, graph.score, graph.format, strict=True)
    }
    assert found == _expected_pairs(problem)
    runs = graph.referral[np.r_[True, graph.referral[1:] != graph.referral[:-1]]] if graph.size else graph.referral
    assert np.unique(runs).size == runs.size  # each referral's pairs still one run


@settings(max_examples=60, deadline=None)
@given(venue_problems())
def test_the_engine_reaches_the_independent_optimum_with_venues(problem: MatchProblem) -> None:
    pairs = [(r, v, s) for (r, v), (s, _) in _expected_pairs(problem).items()]
    assignment = solve(problem)
    if not pairs:
        assert assignment.stats.matched == 0
        return
    cost = [-(10_000 + s) for _, _, s in pairs]
    rows = [[1 if p[0] == r.id else 0 for p in pairs] for r in problem.referrals]
    rows += [[1 if p[1] == v.id else 0 for p in pairs] for v in problem.volunteers]
    bounds = [1] * len(problem.referrals) + [v.slots for v in problem.volunteers]
    x = np.round(linprog(cost, A_ub=rows, b_ub=bounds, bounds=(0, 1), method="highs").x).astype(int)
    best = (int(x.sum()), int(sum(s for (_, _, s), chosen in zip(pairs, x, strict=True) if chosen)))
    assert (assignment.stats.matched, assignment.stats.total_score) == best
    assert assignment.stats.optimal


@settings(max_examples=60, deadline=None)
@given(venue_problems())
def test_an_in_person_proposal_names_the_venue_and_an_unreachable_parent_is_told_why(problem: MatchProblem) -> None:
    assignment = solve(problem)
    refs, vols = {r.id: r for r in problem.referrals}, {v.id: v for v in problem.volunteers}
    for p in assignment.proposals:
        assert p.score == sum(reason.points for reason in p.reasons)
        if p.format != "in_person":
            assert p.venue_id is None
            continue
        assert p.venue_id is not None and p.venue_id == _shared_venue(
            problem, refs[p.referral_id], vols[p.volunteer_id]
        )
        [reason] = [x for x in p.reasons if x.code == venues.VENUE_IN_REACH]
        assert dict(reason.params)["venue_id"] == p.venue_id and 0 <= reason.points <= problem.weights.distance
    reach = venues.Reach(problem)
    for u in assignment.unmatched:
        r = refs[u.referral_id]
        if u.causes[0].code == "every_candidate_rejected_or_declined":  # never blamed on a closed venue
            assert any(rid == r.id for rid, _ in problem.excluded_pairs)
        unreached = r.lat is not None and reach.parent_h(r).min(initial=venues.FAR) == venues.FAR
        earlier = u.causes[0].code in ("no_volunteer_speaks_her_language", "no_volunteer_offers_her_formats")
        if r.formats == ("in_person",) and unreached and not earlier:
            assert [c.code for c in u.causes] == [venues.NO_VENUE_IN_REACH]
            assert f"adding a venue near {scoring.parent(r)} would help" in u.causes[0].sentence


def _one_pair(*found: VenueProfile, **referral_overrides: object) -> MatchProblem:
    return MatchProblem(
        (referral(formats=("in_person",), **referral_overrides),),
        (volunteer(formats=("in_person",)),),
        venues=found,
    )


def test_ties_go_to_the_venue_with_the_lower_id_whatever_their_order() -> None:
    at_leith = [VenueProfile(id, id.title(), *LEITH) for id in ("b-hub", "a-hall")]
    [proposal] = solve(_one_pair(*at_leith)).proposals
    assert proposal.venue_id == "a-hall"


def test_the_venue_chosen_is_the_one_whose_farther_distance_is_least() -> None:
    # Halfway between them the farther distance is about 2.2 km; at the parent's door it is 4.3 km.
    halfway = VenueProfile("z-mid", "Halfway Hall", (LEITH[0] + PORTOBELLO[0]) / 2, (LEITH[1] + PORTOBELLO[1]) / 2)
    at_her_door = VenueProfile("a-door", "Leith Hall", *LEITH)
    [proposal] = solve(_one_pair(at_her_door, halfway)).proposals
    assert proposal.venue_id == "z-mid"


def test_a_nearer_venue_scores_more_points() -> None:
    near = VenueProfile("v", "Near", (LEITH[0] + PORTOBELLO[0]) / 2, (LEITH[1] + PORTOBELLO[1]) / 2)
    far = VenueProfile("v", "Far", *LEITH)
    points = [
        next(r.points for r in solve(_one_pair(place)).proposals[0].reasons if r.code == venues.VENUE_IN_REACH)
        for place in (near, far)
    ]
    assert points[0] > points[1] > 0


def test_her_own_reach_bounds_the_venues_she_can_use() -> None:
    at_portobello = VenueProfile("v", "Portobello Library", *PORTOBELLO)  # 4.3 km from her
    assert solve(_one_pair(at_portobello, max_travel_km=5.0)).proposals
    unmatched = solve(_one_pair(at_portobello, max_travel_km=3.0)).unmatched
    assert unmatched[0].causes[0].code == venues.NO_VENUE_IN_REACH
    assert dict(unmatched[0].causes[0].params) == {"venues": 1, "max_travel_km": 3.0, "nearest_venue_km": 4.3}


def test_without_venues_in_the_problem_in_person_is_reached_as_before() -> None:
    problem = replace(_one_pair(), venues=None)
    [proposal] = solve(problem).proposals
    assert proposal.format == "in_person" and proposal.venue_id is None
    assert [r.code for r in proposal.reasons if r.criterion == "distance"] == ["distance"]


def test_a_pair_meets_only_at_a_venue_open_when_both_are_free() -> None:
    # Both are free on Tuesday mornings: the nearer hall opens only on Saturdays, the farther one on Tuesdays.
    saturdays = VenueProfile("a-near", "Leith Hall", *LEITH, opening_hours=(WeeklyWindow(5, 9 * 60, 17 * 60),))
    tuesdays = VenueProfile("b-far", "Portobello Hub", *PORTOBELLO, opening_hours=(WeeklyWindow(1, 9 * 60, 13 * 60),))
    [proposal] = solve(_one_pair(saturdays, tuesdays)).proposals
    assert proposal.venue_id == "b-far"


def test_a_parent_whose_shared_venues_are_closed_when_both_are_free_is_told_so() -> None:
    saturdays = VenueProfile("v", "Leith Hall", *LEITH, opening_hours=(WeeklyWindow(5, 9 * 60, 17 * 60),))
    assignment = solve(_one_pair(saturdays, role="father"))
    assert assignment.proposals == ()
    [cause] = assignment.unmatched[0].causes
    assert cause.code == venues.NO_VENUE_OPEN
    assert dict(cause.params) == {"volunteers": 1, "venue_names": ("Leith Hall",)}
    assert cause.sentence == (
        "1 volunteer could meet the father at Leith Hall, but it is closed or fully booked whenever both are free: "
        "longer opening hours, another room, or other times for the father, would help"
    )
    # Open on Tuesday mornings too, the hall is where they meet.
    longer = replace(saturdays, opening_hours=(*saturdays.opening_hours, WeeklyWindow(1, 9 * 60, 12 * 60)))  # type: ignore[misc]
    assert solve(_one_pair(longer)).proposals[0].venue_id == "v"


def test_a_session_must_fit_inside_the_opening_hours() -> None:
    # Open 10:00-10:30 on Tuesdays: a 60-minute session cannot fit, though the hours overlap.
    short = VenueProfile("v", "Leith Hall", *LEITH, opening_hours=(WeeklyWindow(1, 10 * 60, 10 * 60 + 30),))
    assert solve(_one_pair(short)).proposals == ()


def test_a_parent_taking_home_visits_too_is_not_told_her_candidates_were_declined_when_the_venue_is_closed() -> None:
    saturdays = VenueProfile("v", "Leith Hall", *LEITH, opening_hours=(WeeklyWindow(5, 9 * 60, 17 * 60),))
    problem = MatchProblem(
        (referral(formats=("in_person", "home_visit")),), (volunteer(formats=("in_person",)),), venues=(saturdays,)
    )
    [unmatched] = solve(problem).unmatched
    [cause] = unmatched.causes
    assert cause.code == "no_shared_free_hour"
    assert cause.sentence.endswith(
        "0 share a free weekly hour with the mother (at a venue open then, for meetings at a venue)"
    )
