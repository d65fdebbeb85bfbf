"""The explanations of the unmatched, asked profile by profile over graphs read as arrays and with the reach
widened step by step, say exactly what the plain path (whole graphs, pair by pair) says."""

from dataclasses import replace
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import pair_counts, solver
from matching.model import (
    Interpreter,
    MatchProblem,
    ReferralProfile,
    Unmatched,
    VenueProfile,
    VolunteerProfile,
    WeeklyWindow,
)
from matching.unmatched import NAMED, explain_unmatched
from tests.matching import unmatched_reference
from tests.matching.builders import LEITH, TUESDAY_MORNING, referral, volunteer

SATURDAY = WeeklyWindow(5, 540, 1020)

WINDOWS = [
    (WeeklyWindow(1, 540, 720),),
    (WeeklyWindow(2, 600, 720),),
    (WeeklyWindow(1, 540, 720), WeeklyWindow(3, 780, 900)),
]
FORMAT_CHOICES = [
    ("home_visit",),
    ("home_visit", "telephone"),
    ("in_person",),
    ("in_person", "home_visit"),
    ("telephone",),
    ("video", "in_person"),
]
OFFERS = [
    ("home_visit",),
    ("home_visit", "telephone"),
    ("in_person", "home_visit"),
    ("telephone", "video"),
    ("in_person",),
]
AREAS = [None, None, None, "EH6", "HS1"]  # HS1: the Western Isles, across the sea


def _place(draw: st.DrawFn) -> tuple[float, float]:
    # Mostly close around Leith and the venue east of it, so that pairs fall just short and venues are shared;
    # some up to about 90 km off, so that only the widest reach finds them.
    if draw(st.booleans()):
        lon = LEITH[1] + draw(st.sampled_from([0.0, 0.3]))
        return LEITH[0] + draw(st.floats(-0.12, 0.12)), lon + draw(st.floats(-0.2, 0.2))
    return LEITH[0] + draw(st.floats(-0.8, 0.8)), LEITH[1] + draw(st.floats(-1.2, 1.2))


@st.composite
def _referral_template(draw: st.DrawFn) -> ReferralProfile:
    lat, lon = _place(draw)
    interpreter = draw(st.sampled_from([None, None, Interpreter("so", three_way_calls=True, at_visits=True)]))
    return referral(
        languages=draw(st.sampled_from([("en",), ("pl", "en"), ("so",)])),
        formats=draw(st.sampled_from(FORMAT_CHOICES)),
        lat=lat,
        lon=lon,
        area=draw(st.sampled_from(AREAS)),
        availability=draw(st.sampled_from(WINDOWS)),
        must_match=draw(st.sampled_from([frozenset(), frozenset({"language"}), frozenset({"experience:isolation"})])),
        volunteer_gender=draw(st.sampled_from([None, "female"])),
        interpreter=interpreter,
        max_travel_km=draw(st.sampled_from([None, 5.0, 30.0])),
    )


@st.composite
def _volunteer(draw: st.DrawFn, index: int) -> VolunteerProfile:
    lat, lon = _place(draw)
    held = draw(st.sampled_from(["ready", "ready", "full", "overdue", "resting", "leave"]))
    back = date(2027, 1, draw(st.integers(1, 3)))
    return volunteer(
        id=f"v{draw(st.integers(0, 10**6)):07d}-{index}",
        first_name=draw(st.sampled_from([None, "Morag", "Aisha"])),
        languages=draw(st.sampled_from([("en",), ("pl", "en"), ("so",), ("pl",)])),
        formats=draw(st.sampled_from(OFFERS)),
        lat=lat,
        lon=lon,
        area=draw(st.sampled_from(AREAS)),
        max_travel_km=draw(st.sampled_from([0.5, 2.0, 5.0, 8.0, 10.0, 25.0, 40.0])),
        availability=draw(st.sampled_from(WINDOWS)),
        experiences=draw(st.sampled_from([frozenset({"isolation"}), frozenset({"postnatal_depression"})])),
        gender=draw(st.sampled_from(["female", "male"])),
        free_places=0 if held == "full" else 1,
        ready=held in ("ready", "full"),
        not_ready={"overdue": ("supervision_overdue",), "resting": ("resting",), "leave": ("on_leave",)}.get(held, ()),
        until=back if held in ("resting", "leave") else None,
    )


@st.composite
def _problem(draw: st.DrawFn) -> MatchProblem:
    templates = draw(st.lists(_referral_template(), min_size=1, max_size=5))
    # Referrals share profiles (ids, waiting, role apart), as a national run's many alike do.
    referrals = tuple(
        replace(
            draw(st.sampled_from(templates)),
            id=f"r{i:03d}",
            waiting_days=draw(st.integers(0, 60)),
            role=draw(st.sampled_from(["mother", "father"])),
        )
        for i in range(draw(st.integers(1, 10)))
    )
    volunteers = tuple(draw(_volunteer(i)) for i in range(draw(st.integers(1, 14))))
    excluded = frozenset((r.id, v.id) for r in referrals for v in volunteers if draw(st.integers(0, 19)) == 0)
    venues = draw(
        st.sampled_from(
            [
                None,
                (VenueProfile("a", "Leith hall", LEITH[0] + 0.02, LEITH[1]),),
                (VenueProfile("a", "Leith hall", LEITH[0], LEITH[1] + 0.3), VenueProfile("b", "Far", 56.4, -3.4)),
                # Open on Tuesday mornings, or only on Saturdays (closed whenever most are free).
                (
                    VenueProfile("a", "Leith hall", LEITH[0] + 0.02, LEITH[1], opening_hours=TUESDAY_MORNING),
                    VenueProfile("b", "Saturday hall", LEITH[0], LEITH[1] + 0.1, opening_hours=(SATURDAY,)),
                ),
            ]
        )
    )
    return MatchProblem(referrals, volunteers, excluded_pairs=excluded, venues=venues)


def _everyone_unmatched(problem: MatchProblem) -> tuple[Unmatched, ...]:
    # Every referral asked about, matched or not: more questions per problem than the solve leaves.
    return tuple(Unmatched(r.id, ()) for r in problem.referrals)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_problem())
def test_the_fast_path_says_exactly_what_the_plain_path_says(problem: MatchProblem) -> None:
    asked = _everyone_unmatched(problem)
    assert explain_unmatched(problem, asked, named=None) == unmatched_reference.explain_unmatched(problem, asked)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_problem(), st.integers(1, 3))
def test_a_cap_names_the_first_held_back_volunteers_by_id_and_counts_them_all(problem: MatchProblem, cap: int) -> None:
    asked = _everyone_unmatched(problem)
    for capped, plain in zip(
        explain_unmatched(problem, asked, named=cap), unmatched_reference.explain_unmatched(problem, asked), strict=True
    ):
        assert capped.not_ready == plain.not_ready[:cap]
        assert capped.not_ready_count == len(plain.not_ready)
        assert capped.nearest_changes == plain.nearest_changes


def test_the_unmatched_of_a_solve_are_explained_as_the_plain_path_does() -> None:
    problem = MatchProblem(
        tuple(referral(id=f"r{i}", lat=LEITH[0] + 0.05 * i) for i in range(6)),
        (volunteer(id="v1"), volunteer(id="v2", ready=False, not_ready=("resting",), until=date(2027, 1, 4))),
    )
    unmatched = solver.solve(problem).unmatched
    assert len(unmatched) == 5
    assert explain_unmatched(problem, unmatched) == unmatched_reference.explain_unmatched(problem, unmatched)


def test_by_default_a_handful_of_held_back_volunteers_are_named_and_all_counted() -> None:
    many = tuple(volunteer(id=f"v{i:02d}", ready=False, not_ready=("supervision_overdue",)) for i in range(NAMED + 3))
    problem = MatchProblem((referral(),), many)
    [explained] = explain_unmatched(problem, (Unmatched("r1", ()),))
    assert [n.volunteer_id for n in explained.not_ready] == [f"v{i:02d}" for i in range(NAMED)]
    assert explained.not_ready_count == NAMED + 3


def test_referrals_alike_but_for_id_waiting_and_role_share_a_profile_unless_a_pair_of_theirs_was_refused() -> None:
    mother = referral(id="a")
    father = referral(id="b", role="father", waiting_days=30, priority=True)
    refused = referral(id="c")
    distinct, of = pair_counts.profiles((mother, father, refused), frozenset({("c", "v1")}))
    assert distinct == (mother, refused)
    assert of == [0, 0, 1]


def test_a_volunteer_just_out_of_reach_who_would_share_a_venue_counts_when_a_home_visit_answers_first() -> None:
    # The parent is 8 km east of the venue; Aisha visits homes and is 6.5 km north of her, Morag meets at venues
    # only and is 6.8 km further east, 14.8 km from the venue: widened by 3 km Morag reaches no venue of hers.
    venue = VenueProfile("a", "Leith hall", LEITH[0], LEITH[1])
    parent = referral(formats=("in_person", "home_visit"), lon=LEITH[1] + 8 / 62.3)
    visits = volunteer(id="v1", formats=("home_visit",), lat=parent.lat + 6.5 / 111.2, lon=parent.lon, max_travel_km=5)
    meets = volunteer(id="v2", formats=("in_person",), lat=parent.lat, lon=parent.lon + 6.8 / 62.3, max_travel_km=5)
    problem = MatchProblem((parent,), (visits, meets), venues=(venue,))
    asked = (Unmatched("r1", ()),)
    [explained] = explain_unmatched(problem, asked)
    (travel,) = [c for c in explained.nearest_changes if c.change == "travel"]
    assert (
        travel.detail
        == "2 volunteers travelling up to 2 km further would match the mother for meetings at a venue or home visits"
    )
    assert (explained,) == unmatched_reference.explain_unmatched(problem, asked)
