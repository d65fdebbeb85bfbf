"""Reasons and unmatched causes come as codes with parameters, the sentence beside them made from the same
values, so nothing downstream reads a sentence back."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import explain, scoring
from matching.model import Cause, MatchProblem, Reason, WeeklyWindow, Weights
from matching.solver import solve
from matching.synthetic import population
from tests.matching.builders import ABERDEEN, referral, volunteer

W = Weights()


def _cause(problem: MatchProblem, referral_id: str = "r1") -> Cause:
    (unmatched,) = [u for u in solve(problem).unmatched if u.referral_id == referral_id]
    (cause,) = unmatched.causes
    assert unmatched.reasons == (cause.sentence,)  # the sentences callers read before codes, unchanged
    return cause


def _stage_counts_in(sentence: str) -> list[int]:
    return [int(step.split()[0]) for step in sentence.split(" → ")]


CASES = {
    "needed_for_someone_else": MatchProblem((referral(id="r1"), referral(id="r2", waiting_days=60)), (volunteer(),)),
    "no_volunteer_speaks_her_language": MatchProblem((referral(languages=("ar",)),), (volunteer(),)),
    "no_volunteer_offers_her_formats": MatchProblem((referral(formats=("video",)),), (volunteer(),)),
    "no_volunteer_can_reach_her": MatchProblem(
        (referral(languages=("pl",), formats=("home_visit",)),),
        (
            volunteer(id="v1", formats=("telephone",)),
            volunteer(id="v2", lat=ABERDEEN[0], lon=ABERDEEN[1]),
            volunteer(id="v3", languages=("en",)),
        ),
    ),
    "no_volunteer_matches_her_essentials": MatchProblem(
        (referral(must_match=frozenset({"background:refugee_or_asylum"})),), (volunteer(),)
    ),
    "no_shared_free_hour": MatchProblem((referral(availability=(WeeklyWindow(2, 600, 720),)),), (volunteer(),)),
    "every_candidate_rejected_or_declined": MatchProblem(
        (referral(),), (volunteer(),), excluded_pairs=frozenset({("r1", "v1")})
    ),
}


def test_every_cause_code_has_a_case_and_the_codes_are_those_the_reports_count() -> None:
    assert set(CASES) == set(explain.CAUSE_CODES)
    assert explain.CAUSE_CODES == (
        "needed_for_someone_else",
        "no_volunteer_speaks_her_language",
        "no_volunteer_offers_her_formats",
        "no_volunteer_can_reach_her",
        "no_volunteer_matches_her_essentials",
        "no_shared_free_hour",
        "every_candidate_rejected_or_declined",
    )


@pytest.mark.parametrize("code", list(CASES))
def test_each_cause_comes_with_its_code(code: str) -> None:
    assert _cause(CASES[code]).code == code


def test_competition_names_how_many_suitable_volunteers_she_had() -> None:
    cause = _cause(CASES["needed_for_someone_else"])
    assert dict(cause.params) == {"suitable": 1}
    assert "(1)" in cause.sentence


def test_the_funnel_carries_each_stages_count_and_where_it_ended() -> None:
    cause = _cause(CASES["no_volunteer_can_reach_her"])
    params = dict(cause.params)
    assert params["stages"] == (("speak_her_language", 2), ("offer_her_formats", 1), ("can_reach_her", 0))
    assert params["ended_at"] == "can_reach_her"
    assert params["languages"] == ("pl",)
    assert params["formats"] == ("home_visit",)
    assert (params["nearest_km"], params["nearest_max_travel_km"]) == (146.2, 10.0)
    assert "146.2 km away and travels up to 10 km" in cause.sentence


def test_an_unknown_location_is_a_parameter_not_only_words() -> None:
    cause = _cause(MatchProblem((referral(lat=None, lon=None),), (volunteer(),)))
    assert cause.code == "no_volunteer_can_reach_her"
    assert dict(cause.params)["location"] == "unknown"


def test_a_pair_rejected_before_ends_the_funnel_at_its_own_stage() -> None:
    params = dict(_cause(CASES["every_candidate_rejected_or_declined"]).params)
    assert params["stages"] == (
        ("speak_her_language", 1),
        ("offer_her_formats", 1),
        ("can_reach_her", 1),
        ("share_a_free_hour", 1),
        ("not_rejected_or_declined", 0),
    )
    assert params["ended_at"] == "not_rejected_or_declined"


@pytest.mark.parametrize("code", [c for c in CASES if c != "needed_for_someone_else"])
def test_the_funnels_counts_are_the_numbers_its_sentence_shows(code: str) -> None:
    cause = _cause(CASES[code])
    stages = dict(cause.params)["stages"]
    assert isinstance(stages, tuple)
    assert [count for _, count in stages] == _stage_counts_in(cause.sentence)
    assert dict(explain.STAGES)[stages[-1][0]] == code


def _codes_of(reasons: tuple[Reason, ...]) -> dict[str, dict[str, object]]:
    return {r.code: dict(r.params) for r in reasons}


def test_a_proposals_reasons_carry_codes_and_the_values_their_sentences_show() -> None:
    r = referral(
        interests=frozenset({"walking"}),
        background=frozenset({"polish"}),
        waiting_days=22,
        priority=True,
        formats=("telephone", "home_visit"),
    )
    v = volunteer(interests=frozenset({"walking", "baking"}), background=frozenset({"polish"}), max_parents=2)
    found = _codes_of(scoring.reasons(r, v, "home_visit", W))
    assert found == {
        "first_language_shared": {"language": "pl"},
        "experience_shared": {"codes": ("postnatal_depression",)},
        "background_shared": {"codes": ("polish",)},
        "interests_shared": {"codes": ("walking",)},
        "format_choice": {"format": "home_visit", "rank": 2},
        "distance": {"km": 4.3, "max_travel_km": 10.0},
        "common_start_times": {"count": 9},
        "waiting": {"weeks": 3},
        "returning_after_early_ending": {},
        "volunteer_load": {"current_parents": 0, "max_parents": 2, "free_places": 2},
    }


def test_another_shared_language_has_its_own_code() -> None:
    found = _codes_of(scoring.reasons(referral(), volunteer(languages=("en",)), "home_visit", W))
    assert found["other_language_shared"] == {"language": "en"}


def _shown(name: str, value: object) -> list[str]:
    """How a number among the parameters may appear in its sentence."""
    if name == "rank" and isinstance(value, int):
        return [scoring.ORDINALS.get(value, str(value))]
    if isinstance(value, bool | str):
        return []
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, float):
        return [f"{value:.1f}", f"{value:g}"]
    return []


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_every_code_is_known_and_every_number_in_its_params_is_in_its_sentence(seed: int) -> None:
    assignment = solve(MatchProblem(*population(60, 25, seed=seed)))
    for proposal in assignment.proposals:
        for reason in proposal.reasons:
            assert reason.code in scoring.REASON_CODES
            for name, value in reason.params:
                shown = _shown(name, value)
                assert not shown or any(re.search(rf"(?<![\d.]){re.escape(s)}(?![\d])", reason.detail) for s in shown)
    for unmatched in assignment.unmatched:
        for cause in unmatched.causes:
            assert cause.code in explain.CAUSE_CODES
            params = dict(cause.params)
            if cause.code == explain.NEEDED_FOR_SOMEONE_ELSE:
                assert f"({params['suitable']})" in cause.sentence
            else:
                stages = params["stages"]
                assert isinstance(stages, tuple)
                assert [count for _, count in stages] == _stage_counts_in(cause.sentence)
                assert stages[-1] == (params["ended_at"], 0)
