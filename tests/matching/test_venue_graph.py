"""The venue rule inside the candidate graph's block work gives the very graph the per-pair rebuild gave (kept
here as the oracle: the graph without venues, then each in-person referral's changeable pairs made again rule by
rule), and the sea between an island group and the mainland keeps a venue out of reach."""

import random
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import candidates, synthetic, venues
from matching.candidates import CandidateGraph
from matching.model import FORMATS, MatchProblem, VenueProfile
from matching.solver import solve
from tests.matching.builders import referral, volunteer
from tests.matching.test_needs_and_sea import STORNOWAY, ULLAPOOL
from tests.matching.test_venues import venue_problems

IN_PERSON = "in_person"
Pairs = dict[tuple[int, int], tuple[int, int, str | None]]


def _old_rebuild(problem: MatchProblem, graph: CandidateGraph) -> Pairs:
    """The per-pair path of before (venues.rebuild until December 2026), as pairs: (referral, volunteer) ->
    (score, format, venue id). `graph` is built without venues, so in person was reached as a home visit."""
    reach, w = venues.Reach(problem), problem.weights
    assert graph.table is not None
    pairs: Pairs = {
        (int(r), int(v)): (int(s), int(f), None)
        for r, v, s, f in zip(graph.referral, graph.volunteer, graph.score, graph.format, strict=True)
    }
    in_person = FORMATS.index(IN_PERSON)
    rows = [int(row) for row in graph.table.rows]
    for index, parent in enumerate(problem.referrals):
        if IN_PERSON not in parent.formats:
            continue
        hers = reach.parent_h(parent)
        mine = {v: fs for (r, v), fs in pairs.items() if r == index}
        # Changeable: in person chosen before, or the volunteer offers it and reaches a venue she reaches.
        changeable = {v for v, (_, f, _) in mine.items() if f == in_person}
        for row in rows:
            theirs = reach.volunteer_h(problem.volunteers[row])
            if IN_PERSON in problem.volunteers[row].formats and ((theirs != venues.FAR) & (hers != venues.FAR)).any():
                changeable.add(row)
        for row in changeable:
            pairs.pop((index, row), None)
            helper = problem.volunteers[row]
            if not venues._other_rules(parent, helper, problem, w.session_minutes):
                continue
            choice = reach.choose(parent, helper) if IN_PERSON in helper.formats else None
            formats = venues.feasible_formats(parent, helper, choice)
            if not formats:
                continue
            chosen = FORMATS.index(formats[0])
            before = mine.get(row)
            if before is not None and before[1] == chosen and chosen != in_person:
                pairs[(index, row)] = before
                continue
            meets = choice if formats[0] == IN_PERSON else None
            score = sum(r.points for r in venues.reasons(parent, helper, formats[0], w, meets))
            pairs[(index, row)] = (score, chosen, meets.venue.id if meets is not None else None)
    return pairs


def _new(problem: MatchProblem) -> Pairs:
    graph = candidates.build(problem)
    assert graph.venue is not None
    ids = venues.Reach(problem).venues
    runs = graph.referral[np.r_[True, graph.referral[1:] != graph.referral[:-1]]] if graph.size else graph.referral
    assert np.unique(runs).size == runs.size  # each referral's pairs one run
    reach = venues.Reach(problem)
    for pair in np.flatnonzero(graph.venue >= 0):  # the distances a proposal shows are the per-pair path's
        parent, helper = problem.referrals[graph.referral[pair]], problem.volunteers[graph.volunteer[pair]]
        assert venues.chosen(graph, int(pair)) == reach.choose(parent, helper)
    return {
        (int(r), int(v)): (int(s), int(f), ids[int(at)].id if at >= 0 else None)
        for r, v, s, f, at in zip(graph.referral, graph.volunteer, graph.score, graph.format, graph.venue, strict=True)
    }


def _same_as_before(problem: MatchProblem) -> None:
    assert _new(problem) == _old_rebuild(problem, candidates.build(replace(problem, venues=None)))


@settings(max_examples=80, deadline=None)
@given(venue_problems(), st.lists(st.sampled_from(["HS1", "KA27", "EH1", None]), min_size=5, max_size=5))
def test_the_vectorised_venue_rule_gives_the_graph_the_per_pair_rebuild_gave(
    problem: MatchProblem, areas: list[str | None]
) -> None:
    # Venues on an island group too: the oracle's Reach knows the sea as the graph does.
    found = tuple(replace(v, area=area) for v, area in zip(problem.venues or (), areas, strict=False))
    _same_as_before(replace(problem, venues=found))


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 1000))
def test_the_same_graph_on_a_synthetic_programme_with_venues_in_its_towns(number: int) -> None:
    rng = random.Random(number)
    refs, vols = synthetic.population(160, 80, seed=number)
    towns = rng.sample(synthetic.PLACES, 8)
    found = tuple(
        VenueProfile(f"venue{k}", name, lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05))
        for k, (name, lat, lon, _) in enumerate(towns)
    )
    refs = tuple(replace(r, max_travel_km=rng.choice([None, 5.0, 25.0])) for r in refs)
    _same_as_before(MatchProblem(refs, vols, venues=found, in_person_max_travel_km=rng.choice([5.0, 15.0])))


def _lewis(*found: VenueProfile) -> MatchProblem:
    parent = referral(lat=STORNOWAY[0], lon=STORNOWAY[1], area="HS1", formats=(IN_PERSON,), max_travel_km=100.0)
    helper = volunteer(lat=ULLAPOOL[0], lon=ULLAPOOL[1], area="IV26", formats=(IN_PERSON,), max_travel_km=100)
    return MatchProblem((parent,), (helper,), venues=found)


def test_a_venue_across_the_sea_is_out_of_a_parents_reach() -> None:
    in_ullapool = VenueProfile("v", "Ullapool Village Hall", *ULLAPOOL, area="IV26")
    assignment = solve(_lewis(in_ullapool))
    assert not assignment.proposals
    [unmatched] = assignment.unmatched
    assert [c.code for c in unmatched.causes] == [venues.NO_VENUE_IN_REACH]
    assert dict(unmatched.causes[0].params)["across_sea"] == 1
    assert "the nearest is 80.1 km away, across the sea" in unmatched.causes[0].sentence


def test_a_venue_across_the_sea_is_out_of_a_volunteers_reach() -> None:
    in_stornoway = VenueProfile("v", "Stornoway Town Hall", *STORNOWAY, area="HS1")
    assert not solve(_lewis(in_stornoway)).proposals
    assert candidates.build(_lewis(in_stornoway)).size == 0


def test_a_venue_whose_district_is_unknown_is_judged_by_distance_alone() -> None:
    halfway = VenueProfile("v", "Halfway", (STORNOWAY[0] + ULLAPOOL[0]) / 2, (STORNOWAY[1] + ULLAPOOL[1]) / 2)
    [proposal] = solve(_lewis(halfway)).proposals
    assert proposal.venue_id == "v"


def test_a_venue_on_her_island_serves_a_volunteer_on_it() -> None:
    in_stornoway = VenueProfile("v", "Stornoway Town Hall", *STORNOWAY, area="HS1")
    problem = _lewis(in_stornoway)
    island_volunteer = replace(problem.volunteers[0], lat=58.1, lon=-6.5, area="HS2")
    [proposal] = solve(replace(problem, volunteers=(island_volunteer,))).proposals
    assert proposal.venue_id == "v" and proposal.format == IN_PERSON


def test_a_volunteer_beyond_the_cells_around_hers_can_still_meet_her_at_a_venue_between() -> None:
    # Cells are 1.01 x the longest reach (10 km) wide: these two, 10.3 km apart, are two cells apart in longitude.
    parent = referral(lat=55.95, lon=-3.0842, formats=(IN_PERSON,), max_travel_km=10.0)
    helper = volunteer(lat=55.95, lon=-2.918, formats=(IN_PERSON,), max_travel_km=10)
    problem = MatchProblem((parent,), (helper,), venues=(VenueProfile("v", "Between", 55.95, -3.0011),))
    table = candidates.build(problem).table
    assert table is not None and table.grid.near(table.grid.cell_of(55.95, -3.0842)).size == 0
    [proposal] = solve(problem).proposals
    assert proposal.venue_id == "v"
