"""Matching a coordinator can trust (issue 18, items 2-7), each as a coordinator meets it through the API."""

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import referral_body, volunteer_body

TODAY = date.today()


def _volunteer(client: TestClient, headers: dict[str, str], **overrides: Any) -> str:
    made = client.post("/v1/volunteers", json=volunteer_body(**overrides), headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _referral(client: TestClient, headers: dict[str, str], n: int = 1, **overrides: Any) -> str:
    made = client.post("/v1/referrals", json=referral_body(n, **overrides), headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _run(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    run = client.post("/v1/match-runs?wait=true", headers=headers)
    assert run.status_code == 201, run.text
    body: dict[str, Any] = run.json()
    return body


def test_a_father_asking_for_a_male_peer_is_told_so_by_role_and_name(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    _volunteer(client, coordinator, name="Joanna Kowalska")
    callum = _volunteer(client, coordinator, name="Callum Reid", gender="male")
    father = {"name": "Piotr Nowak", "role": "father", "phone": "07700 900123", "postcode": "EH6 6QQ"}
    father["baby_birth_date"] = (TODAY - timedelta(days=60)).isoformat()
    _referral(client, coordinator, parent=father, volunteer_gender="male")
    [proposal] = _run(client, coordinator)["proposals"]
    assert proposal["volunteer_id"] == callum
    details = [r["detail"] for r in proposal["reasons"]]
    assert "a male peer supporter, as the father asked" in details
    assert "both speak Polish (the father's first language)" in details
    assert any(d.endswith("(Callum travels up to 10 km)") for d in details)
    assert {"her", "she"}.isdisjoint(" ".join(details).split())
    assert proposal["score"] == sum(r["points"] for r in proposal["reasons"])


def test_a_bereaved_mother_with_baby_loss_essential_is_matched_only_with_a_baby_loss_volunteer(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    body = {"needs": {"specialisms": ["baby_loss"]}, "must_match": ["specialism:baby_loss"]}
    rid = _referral(client, coordinator, **body)
    assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["needs"]["specialisms"] == ["baby_loss"]
    _volunteer(client, coordinator, name="Joanna Kowalska")
    run = _run(client, coordinator)
    assert run["proposals"] == []
    [why] = run["unmatched"][0]["reasons"]
    assert why["code"] == "no_volunteer_matches_her_essentials"
    assert why["params"]["essentials"] == ["specialism:baby_loss"]
    assert why["detail"].endswith("0 match what the mother marked essential (specialism baby loss)")
    morag = _volunteer(client, coordinator, name="Morag Ross", specialisms=["baby_loss"])
    [proposal] = _run(client, coordinator)["proposals"]
    assert proposal["volunteer_id"] == morag
    assert "Morag brings what the mother needs: baby loss" in [r["detail"] for r in proposal["reasons"]]


def test_an_unknown_specialism_is_refused_and_specialism_can_be_essential(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    bad = client.post("/v1/referrals", json=referral_body(needs={"specialisms": ["juggling"]}), headers=coordinator)
    assert bad.status_code == 422
    worse = client.post("/v1/referrals", json=referral_body(must_match=["specialism:juggling"]), headers=coordinator)
    assert worse.status_code == 422


def test_an_arabic_speaking_refugee_needing_an_interpreter_is_matched_with_what_was_arranged(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    needs = {"specialisms": ["refugee_support"], "interpreter": {"language": "ar", "three_way_calls": True}}
    rid = _referral(client, coordinator, languages=["ar"], formats=["telephone"], needs=needs)
    morag = _volunteer(client, coordinator, name="Morag Ross", languages=["en"], specialisms=["refugee_support"])
    [proposal] = _run(client, coordinator)["proposals"]
    assert proposal["referral_id"] == rid and proposal["volunteer_id"] == morag
    details = [r["detail"] for r in proposal["reasons"]]
    assert "a three-way call with an Arabic interpreter" in details
    assert not any(d.startswith("both speak") for d in details)


def test_a_volunteer_who_speaks_the_interpreters_language_is_preferred(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    needs = {"interpreter": {"language": "ar", "three_way_calls": True}}
    _referral(client, coordinator, languages=["ar"], formats=["telephone"], needs=needs)
    _volunteer(client, coordinator, name="Joanna Kowalska", languages=["en"])
    aisha = _volunteer(client, coordinator, name="Aisha Khan", languages=["ar", "en"])
    [proposal] = _run(client, coordinator)["proposals"]
    assert proposal["volunteer_id"] == aisha
    assert "Aisha speaks Arabic" in [r["detail"] for r in proposal["reasons"]]


def test_an_unmatched_mother_is_told_who_is_not_ready_and_what_would_match_her(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    overdue = (TODAY - timedelta(days=200)).isoformat()
    aisha = _volunteer(client, coordinator, name="Aisha Khan", languages=["ar"], last_supervision_on=overdue)
    back = TODAY + timedelta(days=14)
    leave = [{"start": (TODAY - timedelta(days=3)).isoformat(), "end": back.isoformat()}]
    morag = _volunteer(client, coordinator, name="Morag Ross", languages=["ar"], leave=leave)
    _volunteer(client, coordinator, name="Farah Ali", languages=["ar"], formats=["telephone"])
    rid = _referral(client, coordinator, languages=["ar"], formats=["home_visit"])
    [unmatched] = _run(client, coordinator)["unmatched"]
    assert unmatched["referral_id"] == rid
    assert unmatched["reasons"][0]["detail"].startswith("1 available volunteer speaks Arabic → 0 offer home visits")
    held = {n["volunteer_id"]: n for n in unmatched["not_ready"]}
    assert held[aisha]["reason_code"] == "supervision_overdue" and held[aisha]["first_name"] == "Aisha"
    # On leave to `back` inclusive: ready again the day after.
    assert held[morag]["reason_code"] == "on_leave" and held[morag]["until"] == (back + timedelta(days=1)).isoformat()
    changes = {c["change"]: c for c in unmatched["nearest_changes"]}
    assert changes["format"] == {
        "change": "format",
        "detail": "telephone would match 1 volunteer now (the mother did not choose it)",
        "would_match": 1,
    }
    assert (
        changes["wait"]["detail"]
        == f"Morag, who would fit the mother, is back on {(back + timedelta(days=1)).isoformat()}"
    )
    suggested = client.get(f"/v1/referrals/{rid}/suggestions", headers=coordinator)
    assert suggested.status_code == 200 and suggested.json()["items"] == []
    assert suggested.json()["unmatched"]["not_ready"] == unmatched["not_ready"]


def test_suggestions_for_an_escalated_referral_are_409(client: TestClient, coordinator: dict[str, str]) -> None:
    _volunteer(client, coordinator)
    epds = {"instrument": "EPDS", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1, 2], "completed_on": "2026-11-20"}
    rid = _referral(client, coordinator, epds=epds)
    assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["status"] == "escalated"
    refused = client.get(f"/v1/referrals/{rid}/suggestions", headers=coordinator)
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")


def test_a_coordinators_own_match_carries_reasons_and_the_rule_she_overrode(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    vid = _volunteer(client, coordinator, name="Morag Ross", languages=["en"])
    rid = _referral(client, coordinator, languages=["pl"])
    made = client.post(
        "/v1/matches",
        json={"referral_id": rid, "volunteer_id": vid, "override_reason": "Interpreter arranged for the sessions"},
        headers=coordinator,
    )
    assert made.status_code == 201, made.text
    match = made.json()
    codes = [r["code"] for r in match["reasons"]]
    assert "rule_overridden" in codes and "distance" in codes
    [overridden] = [r for r in match["reasons"] if r["code"] == "rule_overridden"]
    assert overridden["params"] == {"rule": "no_shared_language"} and overridden["points"] == 0
    assert match["score"] == sum(r["points"] for r in match["reasons"])


def test_a_stornoway_mother_is_not_proposed_a_home_visit_from_ullapool(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    _volunteer(client, coordinator, postcode="IV26 2UE", max_travel_km=100, formats=["home_visit"])
    parent = {"name": "Mairi MacLeod", "phone": "07700 900123", "postcode": "HS1 2AA"}
    parent["baby_birth_date"] = (TODAY - timedelta(days=60)).isoformat()
    rid = _referral(client, coordinator, parent=parent, formats=["home_visit"], languages=["en"])
    run = _run(client, coordinator)
    assert run["proposals"] == []
    [unmatched] = run["unmatched"]
    assert unmatched["referral_id"] == rid
    assert unmatched["reasons"][0]["code"] == "no_volunteer_can_reach_her"
    assert unmatched["reasons"][0]["params"]["across_sea"] == 1
    _volunteer(client, coordinator, name="Eilidh Morrison", postcode="HS2 0AA", max_travel_km=100)
    [proposal] = _run(client, coordinator)["proposals"]
    assert proposal["format"] == "home_visit"
    assert any(r["code"] == "distance" and "km apart" in r["detail"] for r in proposal["reasons"])


def test_a_run_names_ten_held_back_volunteers_and_counts_them_all(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    """At national size a parent could list thousands of full or unready volunteers in every run's answer: a
    run names the first ten by id and counts the rest; her suggestions, asked about her alone, name them all."""
    overdue = (TODAY - timedelta(days=200)).isoformat()
    held = sorted(
        _volunteer(client, coordinator, name=f"Volunteer {i:02d}", languages=["ar"], last_supervision_on=overdue)
        for i in range(12)
    )
    rid = _referral(client, coordinator, languages=["ar"], formats=["home_visit"])
    [unmatched] = _run(client, coordinator)["unmatched"]
    assert unmatched["referral_id"] == rid and unmatched["not_ready_count"] == 12
    assert [n["volunteer_id"] for n in unmatched["not_ready"]] == held[:10]
    suggested = client.get(f"/v1/referrals/{rid}/suggestions", headers=coordinator).json()["unmatched"]
    assert [n["volunteer_id"] for n in suggested["not_ready"]] == held and suggested["not_ready_count"] == 12


def test_an_open_proposal_holds_her_place_against_suggestions_and_matches_made_by_hand(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    """A run over one referral proposes Morag, who has one place; the other parent's suggestions do not offer
    her, a match made by hand is refused naming the proposal that holds her place, and the proposal is still
    accepted."""
    morag = _volunteer(client, coordinator, name="Morag Ross", capacity={"max_parents": 1, "max_sessions_per_week": 1})
    first = _referral(client, coordinator, 1)
    second = _referral(client, coordinator, 2)
    run = client.post("/v1/match-runs?wait=true", json={"referral_ids": [first]}, headers=coordinator).json()
    [proposal] = run["proposals"]
    assert proposal["volunteer_id"] == morag
    suggested = client.get(f"/v1/referrals/{second}/suggestions", headers=coordinator).json()
    assert suggested["items"] == [] and suggested["unmatched"]["not_ready"][0]["reason_code"] == "full"
    by_hand = client.post("/v1/matches", json={"referral_id": second, "volunteer_id": morag}, headers=coordinator)
    assert by_hand.status_code == 409, by_hand.text
    assert by_hand.json()["broken"] == ["no_free_capacity"]
    assert by_hand.json()["held_by_proposals"] == [proposal["id"]]
    accepted = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator)
    assert accepted.status_code == 201, accepted.text


def test_a_run_drops_a_proposal_whose_volunteer_was_matched_by_hand_while_it_solved(
    client: TestClient, coordinator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Morag has one place. While a run over the first parent is solving (after it read the people), a
    coordinator matches her by hand to the second parent: the run writes no proposal she could never accept,
    and says why the first parent is left."""
    from service.match_runs import worker

    morag = _volunteer(client, coordinator, name="Morag Ross", capacity={"max_parents": 1, "max_sessions_per_week": 1})
    first = _referral(client, coordinator, 1)
    second = _referral(client, coordinator, 2)
    explain = worker.unmatched.explain_unmatched

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        made = client.post("/v1/matches", json={"referral_id": second, "volunteer_id": morag}, headers=coordinator)
        assert made.status_code == 201, made.text
        return explain(*args, **kwargs)

    monkeypatch.setattr(worker.unmatched, "explain_unmatched", meanwhile)
    run = client.post("/v1/match-runs?wait=true", json={"referral_ids": [first]}, headers=coordinator).json()
    assert run["status"] == "done" and run["proposals"] == []
    [left] = run["unmatched"]
    assert left["referral_id"] == first and left["causes"][0]["code"] == "volunteer_filled_during_run"
    assert client.get(f"/v1/referrals/{first}", headers=coordinator).json()["status"] == "waiting"


@pytest.mark.parametrize(
    ("interpreter", "loc"),
    [
        ({"language": "ti"}, ["body", "needs", "interpreter"]),
        ({"language": "ti", "three_way_calls": False, "at_visits": False}, ["body", "needs", "interpreter"]),
        ({"language": "not a tag!", "three_way_calls": True}, ["body", "needs", "interpreter", "language"]),
        ({"language": "xq", "three_way_calls": True}, ["body", "needs", "interpreter", "language"]),
    ],
)
def test_an_interpreter_need_says_how_one_can_be_arranged_in_a_known_language(
    client: TestClient, coordinator: dict[str, str], interpreter: dict[str, Any], loc: list[str]
) -> None:
    body = referral_body(needs={"interpreter": interpreter})
    refused = client.post("/v1/referrals", json=body, headers=coordinator)
    assert refused.status_code == 422, refused.text
    assert loc in [e["loc"] for e in refused.json()["errors"]]


def test_a_refused_or_overridden_rule_is_said_in_words_naming_what_is_missing(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    vid = _volunteer(client, coordinator, name="Morag Ross", gender="female")
    parent = {**referral_body()["parent"], "role": "father"}
    rid = _referral(
        client,
        coordinator,
        parent=parent,
        volunteer_gender="male",
        needs={"specialisms": ["baby_loss"]},
        must_match=["volunteer_gender", "specialism:baby_loss"],
    )
    body = {"referral_id": rid, "volunteer_id": vid}
    refused = client.post("/v1/matches", json=body, headers=coordinator)
    assert refused.status_code == 409
    assert refused.json()["broken"] == ["volunteer_gender", "essential_attribute_missing"]
    assert refused.json()["detail"] == (
        "The match breaks: the father asked for a male volunteer; Morag lacks what the father marked essential "
        "(specialism baby loss)."
    )
    made = client.post("/v1/matches", json={**body, "override_reason": "He agreed on the phone"}, headers=coordinator)
    assert made.status_code == 201, made.text
    overridden = [r["detail"] for r in made.json()["reasons"] if r["code"] == "rule_overridden"]
    assert overridden == [
        "rule overridden by the coordinator: the father asked for a male volunteer",
        "rule overridden by the coordinator: Morag lacks what the father marked essential (specialism baby loss)",
    ]
