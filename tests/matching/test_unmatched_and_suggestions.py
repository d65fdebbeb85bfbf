"""What a coordinator reads for a referral left without a volunteer, and hand-matching suggestions."""

from dataclasses import replace

from matching.model import MatchProblem, WeeklyWindow, Weights
from matching.solver import solve
from matching.suggest import suggest
from tests.matching.builders import ABERDEEN, referral, volunteer

W = Weights()


def _why(problem: MatchProblem, referral_id: str = "r1") -> str:
    found = {u.referral_id: u.reasons for u in solve(problem).unmatched}
    (sentence,) = found[referral_id]
    return sentence


def test_a_referral_out_of_reach_is_told_the_funnel_with_counts_and_the_nearest_distance() -> None:
    vols = (
        volunteer(id="v1", formats=("telephone",)),
        volunteer(id="v2", lat=ABERDEEN[0], lon=ABERDEEN[1]),
        volunteer(id="v3", languages=("en",)),
    )
    assert _why(MatchProblem((referral(languages=("pl",), formats=("home_visit",)),), vols)) == (
        "2 available volunteers speak Polish → 1 offers home visits → 0 can reach the mother for home visits "
        "(the nearest is 146.2 km away and travels up to 10 km)"
    )


def test_a_far_volunteer_offering_only_home_visits_does_not_count_for_her_telephone_choice() -> None:
    far = volunteer(formats=("home_visit",), lat=ABERDEEN[0], lon=ABERDEEN[1])
    assert _why(MatchProblem((referral(formats=("home_visit", "telephone")),), (far,))) == (
        "1 available volunteer speaks Polish or English → 1 offers home visits or telephone → "
        "0 can reach the mother for home visits (the nearest is 146.2 km away and travels up to 10 km)"
    )


def test_nobody_speaking_her_language_is_the_first_and_only_step() -> None:
    assert _why(MatchProblem((referral(languages=("ar",)),), (volunteer(),))) == ("0 available volunteers speak Arabic")


def test_volunteers_who_are_not_ready_or_full_are_not_counted_as_available() -> None:
    vols = (volunteer(id="v1", ready=False), volunteer(id="v2", free_places=0))
    assert _why(MatchProblem((referral(),), vols)) == "0 available volunteers speak Polish or English"


def test_her_essentials_and_free_hours_are_steps_of_the_funnel() -> None:
    essential = referral(must_match=frozenset({"background:refugee_or_asylum"}))
    assert _why(MatchProblem((essential,), (volunteer(),))).endswith(
        "→ 1 can reach the mother → 0 match what the mother marked essential (background refugee or asylum)"
    )
    wednesday = referral(availability=(WeeklyWindow(2, 600, 720),))
    assert _why(MatchProblem((wednesday,), (volunteer(),))).endswith(
        "→ 1 can reach the mother → 0 share a free weekly hour with the mother"
    )  # no essentials stage when she marked nothing essential
    both = replace(essential, availability=wednesday.availability)
    assert _why(MatchProblem((both,), (volunteer(background=frozenset({"refugee_or_asylum"})),))).endswith(
        "→ 1 matches what the mother marked essential (background refugee or asylum) → 0 share a free weekly hour "
        "with the mother"
    )


def test_a_pair_rejected_before_is_the_last_step() -> None:
    problem = MatchProblem((referral(),), (volunteer(),), excluded_pairs=frozenset({("r1", "v1")}))
    assert _why(problem).endswith(
        "→ 1 shares a free weekly hour with the mother → 0 not rejected or declined for the mother before"
    )


def test_a_referral_who_lost_out_to_a_better_use_of_her_volunteers_is_told_so() -> None:
    problem = MatchProblem((referral(id="a"), referral(id="b", waiting_days=60)), (volunteer(),))
    assert [p.referral_id for p in solve(problem).proposals] == ["b"]
    assert _why(problem, "a") == "every suitable volunteer (1) was needed for someone else"


def test_suggestions_are_the_best_k_by_score_then_id() -> None:
    vols = (
        volunteer(id="v3"),
        volunteer(id="v2", languages=("en",)),
        volunteer(id="v1"),
        volunteer(id="v4", languages=("ar",)),
    )
    found = suggest(referral(), vols, W, k=2)
    assert [p.volunteer_id for p in found] == ["v1", "v3"]
    assert all(p.score == sum(r.points for r in p.reasons) for p in found)


def test_suggestions_leave_out_pairs_rejected_before_and_infeasible_volunteers() -> None:
    vols = (volunteer(id="v1"), volunteer(id="v2"), volunteer(id="v3", languages=("ar",)))
    found = suggest(referral(), vols, W, frozenset({("r1", "v1")}), k=5)
    assert [p.volunteer_id for p in found] == ["v2"]
