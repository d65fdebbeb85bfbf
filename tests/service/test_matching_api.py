from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.factories import referral_body, volunteer_body


def _waiting(client: TestClient, headers: dict[str, str], n: int, **overrides: object) -> list[str]:
    return [
        client.post("/v1/referrals", json=referral_body(i, **overrides), headers=headers).json()["id"] for i in range(n)
    ]


def test_a_match_run_proposes_with_reasons_and_explains_the_unmatched(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    volunteer = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()
    first, second = _waiting(client, coordinator, 2)
    arabic = client.post("/v1/referrals", json=referral_body(9, languages=["ar"]), headers=coordinator).json()["id"]
    run = client.post("/v1/match-runs?wait=true", headers=coordinator)
    assert run.status_code == 201, run.text
    body = run.json()
    assert body["stats"]["matched"] == 2 and body["stats"]["optimal"] is True
    assert {p["referral_id"] for p in body["proposals"]} == {first, second}
    proposal = body["proposals"][0]
    assert proposal["volunteer_id"] == volunteer["id"] and proposal["status"] == "open"
    assert proposal["score"] == sum(r["points"] for r in proposal["reasons"])
    assert any(r["detail"] == "both speak Polish (the mother's first language)" for r in proposal["reasons"])
    unmatched = {u["referral_id"]: [r["detail"] for r in u["reasons"]] for u in body["unmatched"]}
    assert unmatched[arabic] == ["0 available volunteers speak Arabic"]
    assert client.get(f"/v1/referrals/{first}", headers=coordinator).json()["status"] == "proposed"
    assert client.get(f"/v1/match-runs/{body['id']}", headers=coordinator).json() == body


def test_accepting_a_proposal_makes_a_pending_match_that_holds_her_place(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    client.post(
        "/v1/volunteers",
        json=volunteer_body(capacity={"max_parents": 1, "max_sessions_per_week": 1}),
        headers=coordinator,
    )
    referral_id = _waiting(client, coordinator, 1)[0]
    proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
    accepted = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator)
    assert accepted.status_code == 201
    match = accepted.json()
    assert match["status"] == "pending" and match["referral_id"] == referral_id
    assert client.get(f"/v1/referrals/{referral_id}", headers=coordinator).json()["status"] == "matched"
    assert client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).status_code == 409
    _waiting(client, coordinator, 1, external_id="later")
    later = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    assert later["stats"]["matched"] == 0  # her only place is held by the pending match
    volunteer = client.get(f"/v1/volunteers/{match['volunteer_id']}", headers=coordinator).json()
    assert volunteer["current_parents"] == 1 and "full" in [r["code"] for r in volunteer["not_ready_reasons"]]


def test_a_match_by_hand_cannot_take_the_place_a_proposal_holds_and_a_full_volunteer_is_409(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    client.post(
        "/v1/volunteers",
        json=volunteer_body(capacity={"max_parents": 1, "max_sessions_per_week": 1}),
        headers=coordinator,
    )
    first, second = _waiting(client, coordinator, 2)
    proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
    other = second if proposal["referral_id"] == first else first
    own = client.post(
        "/v1/matches", json={"referral_id": other, "volunteer_id": proposal["volunteer_id"]}, headers=coordinator
    )
    assert own.status_code == 409 and own.json()["held_by_proposals"] == [proposal["id"]]
    assert client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).status_code == 201
    late = client.post(
        "/v1/matches", json={"referral_id": other, "volunteer_id": proposal["volunteer_id"]}, headers=coordinator
    )
    assert late.status_code == 409 and late.json()["broken"] == ["no_free_capacity"]


def test_a_rejected_pair_is_never_proposed_again(client: TestClient, coordinator: dict[str, str]) -> None:
    client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    referral_id = _waiting(client, coordinator, 1)[0]
    proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
    bad = client.post(f"/v1/proposals/{proposal['id']}/reject", json={"reason": "vibes"}, headers=coordinator)
    assert bad.status_code == 422
    rejected = client.post(
        f"/v1/proposals/{proposal['id']}/reject", json={"reason": "known_to_each_other"}, headers=coordinator
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert client.get(f"/v1/referrals/{referral_id}", headers=coordinator).json()["status"] == "waiting"
    again = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    assert again["proposals"] == []
    assert again["unmatched"][0]["reasons"][0]["detail"].endswith("0 not rejected or declined for the mother before")


def test_a_new_run_expires_open_proposals_and_solves_again(client: TestClient, coordinator: dict[str, str]) -> None:
    client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    _waiting(client, coordinator, 1)
    first = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    second = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    assert len(second["proposals"]) == 1
    earlier = client.get(f"/v1/match-runs/{first['id']}", headers=coordinator).json()
    assert earlier["proposals"][0]["status"] == "expired"


def test_an_escalated_referral_is_left_out_of_a_match_run_until_cleared(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    epds = {"instrument": "EPDS", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1, 2], "completed_on": "2026-11-20"}
    rid = client.post("/v1/referrals", json=referral_body(epds=epds), headers=coordinator).json()["id"]
    assert client.post("/v1/match-runs?wait=true", headers=coordinator).json()["stats"]["referrals"] == 0
    client.post(
        f"/v1/referrals/{rid}/risk-review",
        json={"outcome": "cleared", "note": "GP aware; plan in place"},
        headers=coordinator,
    )
    run = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    assert [p["referral_id"] for p in run["proposals"]] == [rid]


def test_a_coordinators_own_match_that_breaks_a_rule_needs_an_audited_reason(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    vid = client.post("/v1/volunteers", json=volunteer_body(languages=["en"]), headers=coordinator).json()["id"]
    rid = client.post("/v1/referrals", json=referral_body(languages=["pl"]), headers=coordinator).json()["id"]
    refused = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator)
    assert refused.status_code == 409 and refused.json()["broken"] == ["no_shared_language"]
    made = client.post(
        "/v1/matches",
        json={"referral_id": rid, "volunteer_id": vid, "override_reason": "Interpreter arranged for the sessions"},
        headers=coordinator,
    )
    assert made.status_code == 201 and made.json()["override_reason"]
    reason = db.execute(text("SELECT reason FROM audit_event WHERE action='match.created'")).scalar()
    assert reason == "override: no_shared_language"


def test_suggestions_rank_volunteers_for_one_referral(client: TestClient, coordinator: dict[str, str]) -> None:
    polish = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    english = client.post("/v1/volunteers", json=volunteer_body(name="B", languages=["en"]), headers=coordinator)
    rid = _waiting(client, coordinator, 1)[0]
    items = client.get(f"/v1/referrals/{rid}/suggestions?k=5", headers=coordinator).json()["items"]
    assert [i["volunteer_id"] for i in items] == [polish, english.json()["id"]]
    assert items[0]["score"] > items[1]["score"]


def test_a_run_over_one_referral_leaves_every_other_open_proposal_open_and_acceptable(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    one_place = {"capacity": {"max_parents": 1, "max_sessions_per_week": 1}}
    first = client.post("/v1/volunteers", json=volunteer_body(name="Joanna Kowalska", **one_place), headers=coordinator)
    assert first.status_code == 201
    earlier = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
    proposed = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"]
    assert [p["referral_id"] for p in proposed] == [earlier]
    later = client.post("/v1/referrals", json=referral_body(2), headers=coordinator).json()["id"]
    second_run = client.post("/v1/match-runs?wait=true", json={"referral_ids": [later]}, headers=coordinator)
    assert second_run.status_code == 201, second_run.text
    # Her one place is held by the earlier proposal: the later referral is left out, not given her place.
    assert second_run.json()["proposals"] == []
    assert [u["referral_id"] for u in second_run.json()["unmatched"]] == [later]
    accepted = client.post(f"/v1/proposals/{proposed[0]['id']}/accept", headers=coordinator)
    assert accepted.status_code == 201, accepted.text
    assert client.get(f"/v1/referrals/{earlier}", headers=coordinator).json()["status"] == "matched"
