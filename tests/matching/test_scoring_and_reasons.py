"""One test per scoring criterion, the fit, and reasons that add up to the score."""

from matching import scoring
from matching.model import MatchProblem, WeeklyWindow, Weights
from matching.solver import solve
from tests.matching.builders import ABERDEEN, referral, volunteer

W = Weights()


def _criteria(r=None, v=None, fmt: str = "home_visit") -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {x.criterion: x.points for x in scoring.reasons(r or referral(), v or volunteer(), fmt, W)}


def test_her_first_language_scores_more_than_a_shared_second_one() -> None:
    assert _criteria()["language"] == W.preferred_language
    assert _criteria(v=volunteer(languages=("en",)))["language"] == W.shared_language
    reason = scoring.language(referral(), volunteer(), W)
    assert reason is not None and reason.detail == "both speak Polish (the mother's first language)"


def test_shared_experiences_background_and_interests_score_per_code_up_to_three() -> None:
    codes = frozenset({"a", "b", "c", "d"})
    both = _criteria(
        referral(experiences=codes, background=codes, interests=codes),
        volunteer(experiences=codes, background=codes, interests=codes),
    )
    assert both["experience"] == 3 * W.experience
    assert both["background"] == 3 * W.background
    assert both["interests"] == 3 * W.interests


def test_her_first_choice_of_format_scores_most() -> None:
    r = referral(formats=("home_visit", "telephone"))
    assert _criteria(r, fmt="home_visit")["format"] == W.format_rank
    assert _criteria(r, fmt="telephone")["format"] == W.format_rank // 2


def test_nearer_scores_more_and_telephone_has_no_distance() -> None:
    near = _criteria(v=volunteer(lat=55.9760, lon=-3.1708))["distance"]
    farther = _criteria()["distance"]
    assert near == W.distance - 1 and 0 < farther < near  # 10 m of 10 km is just under full points
    far = volunteer(lat=ABERDEEN[0], lon=ABERDEEN[1])
    assert "distance" not in _criteria(referral(formats=("home_visit", "telephone")), far, fmt="telephone")


def test_more_common_free_time_scores_more_up_to_a_cap() -> None:
    two_hours = referral(availability=(WeeklyWindow(1, 600, 720),))  # 5 possible start quarters
    assert _criteria(two_hours)["availability"] == W.availability * 5 // scoring.CAP_STARTS
    assert _criteria()["availability"] == W.availability


def test_longer_waits_and_a_rematch_come_first_when_volunteers_are_scarce() -> None:
    assert _criteria(referral(waiting_days=35))["waiting"] == 5 * W.waiting
    assert _criteria(referral(waiting_days=400))["waiting"] == scoring.CAP_WEEKS * W.waiting
    assert _criteria(referral(priority=True))["priority"] == W.priority
    scarce = MatchProblem((referral(id="new"), referral(id="back", priority=True)), (volunteer(),))
    assert [p.referral_id for p in solve(scarce).proposals] == ["back"]


def test_a_less_loaded_volunteer_scores_more() -> None:
    assert _criteria(v=volunteer(max_parents=2, current_parents=0))["load"] == W.load
    assert _criteria(v=volunteer(max_parents=2, current_parents=1))["load"] == W.load // 2


def test_fit_is_the_score_over_the_best_possible_for_her() -> None:
    proposal = solve(MatchProblem((referral(),), (volunteer(),))).proposals[0]
    assert proposal.fit == 100 * proposal.score // scoring.best_possible(referral(), W)


def test_a_proposal_s_reasons_add_up_to_its_score() -> None:
    rich = referral(
        languages=("pl", "en"),
        formats=("telephone", "home_visit"),
        background=frozenset({"rural"}),
        interests=frozenset({"walking"}),
        waiting_days=30,
        priority=True,
    )
    v = volunteer(background=frozenset({"rural"}), interests=frozenset({"walking"}), max_parents=2)
    proposal = solve(MatchProblem((rich,), (v,))).proposals[0]
    assert proposal.format == "telephone"
    assert proposal.score == sum(r.points for r in proposal.reasons)
    assert {r.criterion for r in proposal.reasons} >= {"language", "experience", "background", "interests"}


def test_the_score_in_the_candidate_graph_is_the_sum_of_the_reasons() -> None:
    from matching import candidates

    r, v = referral(waiting_days=20), volunteer(current_parents=1, max_parents=3)
    graph = candidates.build(MatchProblem((r,), (v,)))
    assert int(graph.score[0]) == sum(x.points for x in scoring.reasons(r, v, "home_visit", W))
