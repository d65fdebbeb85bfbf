"""A referral's rules are all checked before answering: one 422 names every broken one (vocabulary, languages,
postcode, dates), so an integrator fixes a referral in one round trip."""

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from tests.factories import referral_body


def _locs(response: Any) -> list[str]:
    return [".".join(str(part) for part in item["loc"]) for item in response.json()["errors"]]


def test_every_rule_a_referral_breaks_is_named_in_one_answer(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    body = referral_body(
        languages=["pl", "zz"],
        interests=["walking", "skydiving"],
        must_match=["volunteer_gender"],
        parent={"postcode": "ZZ99 9ZZ"},
    )
    response = client.post("/v1/referrals", json=body, headers=coordinator)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert sorted(_locs(response)) == [
        "body.interests.1",
        "body.languages.1",
        "body.must_match",
        "body.parent.postcode",
    ]
    assert "skydiving" in response.json()["detail"] and "ZZ99" in response.json()["detail"]
    assert db.execute(text("SELECT count(*) FROM referral")).scalar() == 0


def test_schema_and_rule_errors_come_back_together(client: TestClient, coordinator: dict[str, str]) -> None:
    """A field the schema refuses (no consent, a number for a name) does not hide the rules broken elsewhere: an
    invalid language, an unknown postcode and an unknown code are named in the same answer."""
    body = referral_body(languages=["pl", "zz"], interests=["skydiving"], parent={"postcode": "ZZ99 9ZZ", "name": 7})
    del body["consent"]
    response = client.post("/v1/referrals", json=body, headers=coordinator)
    assert response.status_code == 422
    assert sorted(_locs(response)) == [
        "body.consent",
        "body.interests.0",
        "body.languages.1",
        "body.parent.name",
        "body.parent.postcode",
    ]


def test_an_integrator_without_external_id_hears_of_the_other_errors_too(client: TestClient, make_key: Any) -> None:
    integrator = {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": "validation-1"}
    body = referral_body(parent={"postcode": "ZZ99 9ZZ"})
    del body["external_id"]
    response = client.post("/v1/referrals", json=body, headers=integrator)
    assert response.status_code == 422
    assert sorted(_locs(response)) == ["body.external_id", "body.parent.postcode"]


def test_a_valid_referral_is_still_accepted(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/referrals", json=referral_body(languages=["PL", "en-gb"]), headers=coordinator)
    assert response.status_code == 201, response.text
    assert response.json()["languages"] == ["pl", "en-GB"]


BREAKS = {
    "body.languages.1": {"languages": ["pl", "zz"]},
    "body.interests.0": {"interests": ["skydiving"]},
    "body.parent.postcode": {"parent": {"postcode": "ZZ99 9ZZ"}},
    "body.parent.baby_birth_date": {"parent": {"baby_birth_date": "2001-01-01"}},
}


# Nothing is written (every request is refused), so the one client and key serve every example.
@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(broken=st.sets(st.sampled_from(sorted(BREAKS)), min_size=1))
def test_whichever_rules_are_broken_the_answer_names_exactly_those(
    client: TestClient, coordinator: dict[str, str], broken: set[str]
) -> None:
    overrides: dict[str, Any] = {}
    for loc in broken:
        for field, value in BREAKS[loc].items():
            overrides[field] = {**overrides.get(field, {}), **value} if isinstance(value, dict) else value
    response = client.post("/v1/referrals", json=referral_body(**overrides), headers=coordinator)
    assert response.status_code == 422
    assert sorted(_locs(response)) == sorted(broken)
