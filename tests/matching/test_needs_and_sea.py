"""Her needs (specialisms, an interpreter), the sea between islands and the mainland, reasons that name people,
and what a coordinator can fix for an unmatched referral."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from matching import constraints, sea
from matching.model import Interpreter, MatchProblem, Weights
from matching.solver import solve
from matching.suggest import suggest, why_none
from matching.unmatched import explain_unmatched
from tests.matching.builders import referral, volunteer

W = Weights()
STORNOWAY = (58.2090, -6.3865)
ULLAPOOL = (57.8953, -5.1605)  # about 80 km across the Minch


def _details(problem: MatchProblem) -> list[str]:
    return [r.detail for r in solve(problem).proposals[0].reasons]


def test_a_volunteer_meeting_her_specialism_scores_more_and_says_so() -> None:
    needs = referral(specialisms=frozenset({"baby_loss"}))
    plain, loss = volunteer(id="v1"), volunteer(id="v2", specialisms=frozenset({"baby_loss"}), first_name="Morag")
    proposal = solve(MatchProblem((needs,), (plain, loss))).proposals[0]
    assert proposal.volunteer_id == "v2"
    assert any(
        r.code == "specialisms_needed" and r.detail == "Morag brings what the mother needs: baby loss"
        for r in proposal.reasons
    )


def test_an_essential_specialism_is_a_hard_rule_and_the_funnel_names_it() -> None:
    needs = referral(must_match=frozenset({"specialism:baby_loss"}))
    assert (
        solve(MatchProblem((needs,), (volunteer(id="v9"),)))
        .unmatched[0]
        .causes[0]
        .sentence.endswith("0 match what the mother marked essential (specialism baby loss)")
    )
    loss = volunteer(id="v2", specialisms=frozenset({"baby_loss"}))
    assert solve(MatchProblem((needs,), (volunteer(), loss))).proposals[0].volunteer_id == "v2"


def test_an_interpreter_on_a_three_way_call_bridges_a_missing_language_and_says_what_was_arranged() -> None:
    parent = referral(languages=("ti",), formats=("telephone",), interpreter=Interpreter("ti", three_way_calls=True))
    morag = volunteer(languages=("en",), first_name="Morag")
    details = _details(MatchProblem((parent,), (morag,)))
    assert "a three-way call with a Tigrinya interpreter" in details
    assert not any(d.startswith("both speak") for d in details)
    no_calls = referral(languages=("ti",), formats=("telephone",), interpreter=Interpreter("ti", at_visits=True))
    assert solve(MatchProblem((no_calls,), (morag,))).proposals == ()


def test_a_volunteer_who_speaks_the_language_is_preferred_to_an_interpreter() -> None:
    parent = referral(
        languages=("ar", "en"), formats=("telephone",), interpreter=Interpreter("ar", three_way_calls=True)
    )
    english, arabic = volunteer(id="v1", languages=("en",)), volunteer(id="v2", languages=("ar",), first_name="Morag")
    proposal = solve(MatchProblem((parent,), (english, arabic))).proposals[0]
    assert proposal.volunteer_id == "v2" and "Morag speaks Arabic" in [r.detail for r in proposal.reasons]


def test_reasons_name_the_parent_by_role_and_the_volunteer_by_name_and_state_the_asked_gender() -> None:
    father = referral(role="father", volunteer_gender="male")
    details = _details(MatchProblem((father,), (volunteer(gender="male", first_name="Callum"),)))
    assert "a male peer supporter, as the father asked" in details
    assert "both speak Polish (the father's first language)" in details
    assert any(d.endswith("(Callum travels up to 10 km)") for d in details)
    assert not any(" her " in f" {d} " or " she " in f" {d} " for d in details)


def test_the_distance_of_a_home_visit_is_always_shown() -> None:
    far = volunteer(max_travel_km=4.6)  # Leith to Portobello is about 4.6 km: 0 distance points
    details = _details(MatchProblem((referral(),), (far,)))
    assert any("km apart" in d for d in details)


def test_a_home_visit_across_the_minch_is_out_of_reach() -> None:
    parent = referral(lat=STORNOWAY[0], lon=STORNOWAY[1], area="HS1", formats=("home_visit",))
    ullapool = volunteer(lat=ULLAPOOL[0], lon=ULLAPOOL[1], area="IV26", max_travel_km=100)
    result = solve(MatchProblem((parent,), (ullapool,)))
    assert result.proposals == ()
    assert "across the sea" in result.unmatched[0].causes[0].sentence
    lewis = volunteer(lat=STORNOWAY[0], lon=STORNOWAY[1] + 0.1, area="HS2", max_travel_km=100)
    assert solve(MatchProblem((parent,), (lewis,))).proposals[0].format == "home_visit"


def test_island_groups_from_postcode_districts() -> None:
    assert sea.island_group("HS1") == "outer_hebrides" and sea.island_group("KW17") == "orkney"
    assert sea.island_group("ZE1") == "shetland" and sea.island_group("KA27") == "arran"
    assert sea.island_group("KW14") == "mainland" and sea.island_group("IV26") == "mainland"
    assert sea.island_group("PA20") == "bute" and sea.island_group("PA75") == "mull"
    assert sea.island_group(None) is None and not sea.same_land("HS1", "IV26")


@given(st.sampled_from(["HS1", "KW15", "ZE2", "PA43", "KA27", "EH1", "IV26", None]))
def test_the_sea_rule_is_symmetric_and_a_district_is_on_its_own_land(area: str | None) -> None:
    assert sea.same_land(area, area)
    for other in ("HS1", "EH1", None):
        assert sea.same_land(area, other) == sea.same_land(other, area)


def test_an_unmatched_parent_is_told_who_is_held_back_and_the_nearest_changes() -> None:
    parent = referral(languages=("ar",), formats=("home_visit",))
    overdue = volunteer(id="v1", languages=("ar",), ready=False, not_ready=("supervision_overdue",), first_name="Aisha")
    resting = volunteer(
        id="v2", languages=("ar",), ready=False, not_ready=("resting",), until=date(2027, 1, 4), first_name="Morag"
    )
    phone = volunteer(id="v3", languages=("ar",), formats=("telephone",))
    far = volunteer(id="v4", languages=("ar",), max_travel_km=1.0)
    problem = MatchProblem((parent,), (overdue, resting, phone, far))
    result = solve(problem)
    assert result.proposals == ()
    [explained] = explain_unmatched(problem, result.unmatched)
    assert [(n.volunteer_id, n.reason_code, n.until) for n in explained.not_ready] == [
        ("v1", "supervision_overdue", None),
        ("v2", "resting", date(2027, 1, 4)),
    ]
    changes = {c.change: c for c in explained.nearest_changes}
    assert changes["format"].detail == "telephone would match 2 volunteers now (the mother did not choose it)"
    assert changes["travel"].detail == "1 volunteer travelling 4 km further would match the mother for home visits"
    assert changes["wait"].detail == "Morag, who would fit the mother, is back on 2027-01-04"
    assert result.unmatched[0].causes[0].sentence.startswith("2 available volunteers speak Arabic")


def test_no_suggestion_comes_with_why() -> None:
    parent = referral(languages=("ar",))
    assert suggest(parent, (volunteer(),), W) == ()
    why = why_none(parent, (volunteer(),), W)
    assert why.causes[0].code == "no_volunteer_speaks_her_language"


def test_a_pair_bridged_by_an_interpreter_is_a_candidate_only_in_bridged_formats() -> None:
    parent = referral(
        languages=("ti",), formats=("home_visit", "telephone"), interpreter=Interpreter("ti", three_way_calls=True)
    )
    assert constraints.feasible_formats(parent, volunteer(languages=("en",))) == ("telephone",)
