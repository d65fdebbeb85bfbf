"""Where to recruit: each opening's count is what adding that volunteer to the problem and solving again gives
(a what-if solve with the engine itself), swaps included, and the list is the same in any input order."""

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from matching import candidates, recruit_fits, recruitment, venues
from matching.grid import KM_PER_DEGREE
from matching.model import (
    FORMATS,
    TRAVEL_FORMATS,
    MatchProblem,
    ReferralProfile,
    VenueProfile,
    VolunteerProfile,
    WeeklyWindow,
)
from matching.recruitment import Profile
from matching.solver import solve
from tests.matching.builders import ABERDEEN, LEITH, PORTOBELLO, referral, volunteer
from tests.matching.test_solver_properties import AREAS as DISTRICTS
from tests.matching.test_solver_properties import SPECIALISMS, problems
from tests.matching.test_venues import OPENING_CHOICES

AREAS = {"r1": "EH6", "r2": "EH6", "r3": "AB10", "r4": "AB10", "r5": "EH6"}


def _with_recruit(problem: MatchProblem, profile: Profile, result_places: int) -> int:
    """Matched parents when one such volunteer joins, by the engine's own solve."""
    middles = recruitment._middles(problem.referrals, _areas(problem))
    extra = recruitment._recruit("~x", profile, middles, places=result_places, reach_km=15)
    return solve(replace(problem, volunteers=(*problem.volunteers, extra))).stats.matched


def _areas(problem: MatchProblem) -> dict[str, str]:
    return {r.id: AREAS.get(r.id, "EH6" if (r.lat or 0) < 56.5 else "AB10") for r in problem.referrals}


def test_a_polish_home_visitor_in_aberdeen_matches_the_two_waiting_there() -> None:
    problem = MatchProblem(
        referrals=(
            referral(id="r1", languages=("en",)),
            referral(id="r3", languages=("pl",), lat=ABERDEEN[0], lon=ABERDEEN[1]),
            referral(id="r4", languages=("pl",), lat=ABERDEEN[0] + 0.01, lon=ABERDEEN[1]),
        ),
        volunteers=(volunteer(id="v1", languages=("en",)),),
    )
    found = recruitment.openings(problem, areas=AREAS, places=2, reach_km=15)
    assert (found.waiting, found.matchable_now) == (3, 1)
    best = found.openings[0]
    assert best.profile == Profile("pl", "home_visit", "AB10")
    assert (best.would_match, best.fit_directly) == (2, 2)
    assert _with_recruit(problem, best.profile, 2) - solve(problem).stats.matched == 2
    # An English speaker nearby would see no one new: she is not on the list.
    assert all(o.profile.language == "pl" for o in found.openings)


def test_a_recruit_who_frees_a_volunteer_counts_the_parent_she_never_sees() -> None:
    # v1 speaks Arabic and English and has one place, which the optimum gives r1 (English; they share an
    # experience). r2 speaks only Arabic. A new
    # English-speaking volunteer sees only r1, yet matches one more parent: she takes r1, v1 takes r2.
    problem = MatchProblem(
        referrals=(
            referral(id="r1", languages=("en",), formats=("telephone",)),
            referral(id="r2", languages=("ar",), formats=("telephone",)),
        ),
        volunteers=(volunteer(id="v1", languages=("ar", "en")),),
    )
    # Which of the two a maximum assignment leaves waiting is a tie: solved, not bounded, either way.
    found = recruitment.openings(problem, areas=AREAS, places=1, reach_km=15, shortcuts=False)
    english = next(o for o in found.openings if o.profile == Profile("en", "telephone"))
    assert english.would_match == 1
    assert _with_recruit(problem, english.profile, 1) - solve(problem).stats.matched == 1


def test_nobody_waiting_unmatched_means_no_openings() -> None:
    problem = MatchProblem(referrals=(referral(id="r1"),), volunteers=(volunteer(id="v1"),))
    found = recruitment.openings(problem, areas=AREAS, places=2, reach_km=15)
    assert found.openings == () and found.matchable_now == 1


def test_a_parent_asking_for_a_male_peer_asks_for_a_male_recruit() -> None:
    problem = MatchProblem(
        referrals=(referral(id="r1", volunteer_gender="male", formats=("telephone",)),),
        volunteers=(volunteer(id="v1", gender="female"),),
    )
    found = recruitment.openings(problem, areas=AREAS, places=1, reach_km=15)
    assert {o.profile.gender for o in found.openings} == {"male"}


@settings(max_examples=60, deadline=None)
@given(problems(), st.integers(1, 3), st.randoms(use_true_random=False))
def test_every_count_is_what_a_what_if_solve_gives(problem: MatchProblem, places: int, rng: random.Random) -> None:
    if rng.random() < 0.5:  # in person at venues, for today's volunteers and the recruit alike
        problem = replace(problem, venues=_venues(problem, rng.randrange(1000)), in_person_max_travel_km=10.0)
    areas = _areas(problem)
    found = recruitment.openings(problem, areas=areas, places=places, reach_km=15, limit=50)
    matched_now = solve(problem).stats.matched
    assert found.matchable_now == matched_now
    for opening in found.openings:
        assert 0 < opening.would_match <= places
        assert _with_recruit(problem, opening.profile, places) - matched_now == opening.would_match
    ranks = [(-o.would_match, -o.fit_directly) for o in found.openings]
    assert ranks == sorted(ranks)
    shuffled = replace(
        problem,
        referrals=tuple(rng.sample(problem.referrals, len(problem.referrals))),
        volunteers=tuple(rng.sample(problem.volunteers, len(problem.volunteers))),
    )
    assert recruitment.openings(shuffled, areas=areas, places=places, reach_km=15, limit=50) == found
    # The bounds only save work: solving every profile gives the same list.
    solved_all = recruitment.openings(problem, areas=areas, places=places, reach_km=15, limit=50, shortcuts=False)
    assert solved_all.openings == found.openings
    assert solved_all.what_ifs == solved_all.profiles_considered


def test_the_list_is_the_best_one_could_recruit() -> None:
    """No profile left off the list would match more than the list's last entry (checked by solving each)."""
    problem = MatchProblem(
        referrals=tuple(
            referral(id=f"r{i}", languages=(lang,), formats=fmts, lat=LEITH[0] + i * 0.001, lon=LEITH[1])
            for i, (lang, fmts) in enumerate(
                [("pl", ("home_visit",)), ("pl", ("telephone",)), ("ar", ("telephone",)), ("en", ("home_visit",))] * 2
            )
        ),
        volunteers=(volunteer(id="v1", languages=("en",), lat=PORTOBELLO[0], lon=PORTOBELLO[1]),),
    )
    areas = {r.id: "EH6" for r in problem.referrals}
    found = recruitment.openings(problem, areas=areas, places=2, reach_km=15, limit=2)
    everything = recruitment.openings(problem, areas=areas, places=2, reach_km=15, limit=100)
    assert found.openings == everything.openings[:2]
    assert found.what_ifs <= everything.what_ifs


def test_availability_of_a_recruit_is_any_reasonable_hour() -> None:
    assert all(w.start_min <= 9 * 60 and w.end_min >= 21 * 60 for w in recruitment.ANY_TIME)
    assert {w.day for w in recruitment.ANY_TIME} == set(range(7))
    assert WeeklyWindow(0, 0, 1) not in recruitment.ANY_TIME


def _recruits(problem: MatchProblem, seed: int) -> tuple[VolunteerProfile, ...]:
    """New volunteers of the shape the report recruits (one language, one format, a place or none, any hour),
    and some free at other hours, placed near the problem's parents: some at about their reach due north of
    one, where a hundredth of a km decides."""
    rng = random.Random(seed)
    out = []
    for j in range(rng.randint(1, 12)):
        near = rng.choice(problem.referrals)
        located = rng.random() < 0.8 and near.lat is not None and near.lon is not None
        reach = rng.choice([5.0, 15.0, 50.0])
        north = rng.choice([0.0, 0.05, 0.2, reach / KM_PER_DEGREE + rng.uniform(-0.006, 0.006)])
        out.append(
            VolunteerProfile(
                id=f"~recruit-{j:06d}",
                languages=(rng.choice(["en", "pl", "ar", "pl-PL", "gd"]),),
                formats=(rng.choice(FORMATS),),
                lat=near.lat + north if located and near.lat is not None else None,
                lon=near.lon if located else None,
                max_travel_km=reach,
                availability=recruitment.ANY_TIME if rng.random() < 0.8 else (WeeklyWindow(1, 540, 600),),
                gender=rng.choice([None, "female", "male"]),
                specialisms=frozenset(rng.sample(SPECIALISMS, rng.randint(0, 1))),
                free_places=2,
                free_weekly_sessions=2,
                max_parents=2,
                area=rng.choice([near.area, *DISTRICTS]),
            )
        )
    return tuple(out)


@settings(max_examples=200, deadline=None)
@given(problems(), st.integers(0, 10_000), st.sets(st.integers(0, 7), max_size=2))
def test_direct_fits_are_the_pairs_the_candidate_graph_makes(
    problem: MatchProblem, seed: int, unplaced: set[int]
) -> None:
    """The shortcut is exact: over the same people the direct fits are candidates.build's pairs, for recruits
    and for the problem's own volunteers (of any shape) alike, parents without a known place included."""
    new = _recruits(problem, seed)
    referrals = tuple(_unplaced(r) if i in unplaced else r for i, r in enumerate(problem.referrals))
    for volunteers in (new, problem.volunteers, (*new, *problem.volunteers)):
        people = replace(problem, referrals=referrals, volunteers=volunteers, excluded_pairs=frozenset())
        graph = candidates.build(people)
        made = set(zip(graph.referral.tolist(), graph.volunteer.tolist(), strict=True))
        ref, vol = recruit_fits.fits(referrals, volunteers, session_minutes=problem.weights.session_minutes)
        assert set(zip(ref.tolist(), vol.tolist(), strict=True)) == made
        assert len(ref) == len(made)  # no pair twice
        # With venues, in person is met at a venue in both reaches: venues.rebuild's pairs.
        people = replace(people, venues=_venues(problem, seed), in_person_max_travel_km=rng_reach(seed))
        graph = venues.rebuild(people, candidates.build(people))
        made = set(zip(graph.referral.tolist(), graph.volunteer.tolist(), strict=True))
        ref, vol = recruit_fits.fits(
            referrals, volunteers, session_minutes=problem.weights.session_minutes, venues=venues.Reach(people)
        )
        assert set(zip(ref.tolist(), vol.tolist(), strict=True)) == made


def _unplaced(r: ReferralProfile) -> ReferralProfile:
    """Her place unknown. candidates.build fails on such a parent taking formats with and without travel
    (KeyError in _format_rank), which the service never sends: she keeps only those without travel then."""
    remote = tuple(f for f in r.formats if f not in TRAVEL_FORMATS)
    return replace(r, lat=None, lon=None, formats=remote or r.formats)


def _venues(problem: MatchProblem, seed: int) -> tuple[VenueProfile, ...]:
    """None to four venues near the parents: some on a parent's doorstep, some a few km north, some keeping
    hours that fit few people."""
    rng = random.Random(seed + 1)
    located = [r for r in problem.referrals if r.lat is not None and r.lon is not None]
    return tuple(
        VenueProfile(
            f"venue-{k}",
            f"Venue {k}",
            near.lat + rng.choice([0.0, 0.03, 0.1]),  # type: ignore[operator]
            near.lon,  # type: ignore[arg-type]
            opening_hours=rng.choice(OPENING_CHOICES),
        )
        for k, near in enumerate(rng.choice(located) for _ in range(rng.randint(0, 4) if located else 0))
    )


def rng_reach(seed: int) -> float:
    """The programme's reach for parents to a venue."""
    return random.Random(seed + 2).choice([2.0, 10.0, 30.0])
