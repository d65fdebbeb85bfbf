from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.conftest import KeyMaker
from tests.factories import referral_body

SELF_HARM = [1, 1, 2, 1, 1, 2, 1, 1, 1, 1]  # item 10 = 1
NO_SELF_HARM = [2, 2, 2, 2, 1, 2, 2, 1, 1, 0]


def _epds(answers: list[int], timepoint: str = "baseline") -> dict[str, object]:
    return {"instrument": "EPDS", "answers": answers, "completed_on": date.today().isoformat(), "timepoint": timepoint}


def _events(connection: Connection, event_type: str) -> list[str]:
    rows = connection.execute(text("SELECT record_id FROM outbox_event WHERE type = :t"), {"t": event_type})
    return [row[0] for row in rows]


def test_a_positive_self_harm_item_escalates_and_raises_a_safety_alert(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    referral = client.post("/v1/referrals", json=referral_body(), headers=coordinator).json()
    measure = client.post(f"/v1/referrals/{referral['id']}/measures", json=_epds(SELF_HARM), headers=coordinator)
    assert measure.status_code == 201
    assert measure.json()["total"] == 12 and measure.json()["self_harm_item_positive"] is True
    after = client.get(f"/v1/referrals/{referral['id']}", headers=coordinator).json()
    assert after["status"] == "escalated" and after["risk_review_pending"] is True
    assert _events(db, "safety.alert") == [referral["id"]]
    assert _events(db, "referral.escalated") == [referral["id"]]


def test_a_cleared_risk_review_makes_her_matchable_again(client: TestClient, coordinator: dict[str, str]) -> None:
    rid = client.post("/v1/referrals", json=referral_body(epds=_epds(SELF_HARM)), headers=coordinator).json()["id"]
    assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["status"] == "escalated"
    review = client.post(
        f"/v1/referrals/{rid}/risk-review",
        json={"outcome": "cleared", "note": "Spoke with her GP; safety plan in place."},
        headers=coordinator,
    )
    assert review.status_code == 201 and review.json()["referral_status"] == "waiting"
    after = client.get(f"/v1/referrals/{rid}", headers=coordinator).json()
    assert after["status"] == "waiting" and after["risk_review_pending"] is False
    again = client.post(
        f"/v1/referrals/{rid}/risk-review", json={"outcome": "cleared", "note": "again"}, headers=coordinator
    )
    assert again.status_code == 409


def test_a_referral_to_clinical_care_declines_peer_support_for_now(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    rid = client.post("/v1/referrals", json=referral_body(epds=_epds(SELF_HARM)), headers=coordinator).json()["id"]
    review = client.post(
        f"/v1/referrals/{rid}/risk-review",
        json={"outcome": "refer_clinical", "note": "Referred to the perinatal team."},
        headers=coordinator,
    )
    assert review.json()["referral_status"] == "declined"


def test_a_high_total_without_self_harm_is_flagged_not_blocked(client: TestClient, coordinator: dict[str, str]) -> None:
    rid = client.post("/v1/referrals", json=referral_body(epds=_epds(NO_SELF_HARM)), headers=coordinator).json()["id"]
    measures = client.get(f"/v1/referrals/{rid}/measures", headers=coordinator).json()["items"]
    assert measures[0]["total"] == 15 and measures[0]["at_or_above_threshold"] is True
    assert measures[0]["self_harm_item_positive"] is False
    assert client.get(f"/v1/referrals/{rid}", headers=coordinator).json()["status"] == "waiting"


def test_epds_answers_must_be_ten_scores_from_0_to_3(client: TestClient, coordinator: dict[str, str]) -> None:
    rid = client.post("/v1/referrals", json=referral_body(), headers=coordinator).json()["id"]
    nine = client.post(f"/v1/referrals/{rid}/measures", json=_epds([1] * 9), headers=coordinator)
    four = client.post(f"/v1/referrals/{rid}/measures", json=_epds([1] * 9 + [4]), headers=coordinator)
    assert nine.status_code == 422 and four.status_code == 422
    assert four.json()["errors"][0]["loc"] == ["body", "answers", 9]


def test_an_integrator_sends_epds_only_with_a_referral(client: TestClient, make_key: KeyMaker) -> None:
    headers = {**make_key("integrator", source="nhs"), "Idempotency-Key": "e1"}
    created = client.post("/v1/referrals", json=referral_body(epds=_epds(SELF_HARM)), headers=headers).json()
    assert created["status"] == "escalated"
    assert (
        client.post(f"/v1/referrals/{created['id']}/measures", json=_epds(SELF_HARM), headers=headers).status_code
        == 403
    )
