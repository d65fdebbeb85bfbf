"""FHIR R4 intake as an NHS system would use it: the example Bundle (written from the UK Core profiles) becomes a
referral; every broken element is an OperationOutcome issue naming it; the Task follows her to completion."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest

from service.fhir import nhs_number
from tests.conftest import KeyMaker
from tests.factories import volunteer_body

DOCS = Path(__file__).parents[2] / "docs" / "fhir"
BUNDLE = json.loads((DOCS / "bundle-referral.json").read_text())
ALONE = json.loads((DOCS / "servicerequest-contained.json").read_text())
NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # the examples' dates sit in the perinatal window then
FHIR = {"Content-Type": "application/fhir+json"}


def _key(make_key: KeyMaker, n: str = "1") -> dict[str, str]:
    return {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": f"fhir-{n}", **FHIR}


def _entry(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def _outcome(answer: Any) -> list[dict[str, Any]]:
    assert answer.headers["content-type"].startswith("application/fhir+json"), answer.headers
    OperationOutcome.model_validate(answer.json())
    return list(answer.json()["issue"])


def test_the_examples_are_valid_fhir() -> None:
    assert Bundle.model_validate(BUNDLE).type == "transaction"
    assert ServiceRequest.model_validate(ALONE).status == "active"


@pytest.mark.parametrize(
    ("number", "ok"),
    [("9434765919", True), ("943 476 5919", True), ("9434765918", False), ("123456789", False), ("abcdefghij", False)],
)
def test_nhs_numbers_are_checked_by_modulus_11(number: str, ok: bool) -> None:
    assert nhs_number.valid(number) is ok


def test_a_bundle_becomes_a_referral_with_her_epds_total_computed(
    client: TestClient, make_key: KeyMaker, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(NOW, tick=False):
        answer = client.post("/fhir/r4", json=BUNDLE, headers=_key(make_key))
        assert answer.status_code == 201, answer.text
        assert answer.json()["type"] == "transaction-response"
        location = answer.headers["Location"]
        referral_id = location.removeprefix("ServiceRequest/")
        referral = client.get(f"/v1/referrals/{referral_id}", headers=coordinator).json()
        assert referral["external_id"] == "HV-2026-000123"
        assert referral["parent"]["name"] == "Aisha Rahman"
        assert referral["parent"]["postcode"] == "EH6 6QQ"
        assert referral["languages"] == ["ar", "en"]
        assert referral["formats"] == ["home_visit", "telephone"]
        assert referral["referrer"] == {
            "organisation": "NHS Lothian Health Visiting (S08000024)",
            "role": "health_visitor",
        }
        measures = client.get(f"/v1/referrals/{referral_id}/measures", headers=coordinator).json()["items"]
        assert [(m["instrument"], m["total"]) for m in measures] == [("EPDS", 10)]
        # The NHS number is checked, never kept.
        assert "9434765919" not in json.dumps(referral)


def test_a_service_request_with_contained_parts_is_accepted(client: TestClient, make_key: KeyMaker) -> None:
    with time_machine.travel(NOW, tick=False):
        answer = client.post("/fhir/r4/ServiceRequest", json=ALONE, headers=_key(make_key))
        assert answer.status_code == 201, answer.text
        assert answer.headers["Location"].startswith("ServiceRequest/")
        assert _outcome(answer)[0]["severity"] == "information"


def test_every_broken_element_is_named_at_once(client: TestClient, make_key: KeyMaker) -> None:
    bad = copy.deepcopy(BUNDLE)
    _entry(bad, "Patient")["identifier"][0]["value"] = "9434765918"
    _entry(bad, "QuestionnaireResponse")["item"][3]["answer"][0]["valueInteger"] = 7
    request = _entry(bad, "ServiceRequest")
    request["extension"] = [e for e in request["extension"] if not e["url"].endswith("consent-contact")]
    with time_machine.travel(NOW, tick=False):
        answer = client.post("/fhir/r4", json=bad, headers=_key(make_key))
    assert answer.status_code == 422
    where = {issue["expression"][0]: issue["diagnostics"] for issue in _outcome(answer)}
    assert "NHS number" in where["Patient.identifier[0].value"]
    assert where["QuestionnaireResponse.item[3].answer[0].valueInteger"] == "must be 0 to 3"
    assert any(path.endswith("consent-contact')") for path in where)


def test_rule_errors_name_the_fhir_element(client: TestClient, make_key: KeyMaker) -> None:
    bad = copy.deepcopy(BUNDLE)
    _entry(bad, "Patient")["address"][0]["postalCode"] = "ZZ99 9ZZ"
    _entry(bad, "Patient")["communication"][0]["language"]["coding"][0]["code"] = "xx-notalanguage"
    with time_machine.travel(NOW, tick=False):
        answer = client.post("/fhir/r4", json=bad, headers=_key(make_key))
    assert answer.status_code == 422, answer.text
    paths = {issue["expression"][0] for issue in _outcome(answer)}
    assert {"Patient.address[0].postalCode", "Patient.communication.language"} <= paths


def test_not_fhir_is_an_operation_outcome(client: TestClient, make_key: KeyMaker) -> None:
    answer = client.post("/fhir/r4", content=b"{not json", headers=_key(make_key))
    assert answer.status_code == 400 and _outcome(answer)[0]["code"] == "structure"
    answer = client.post("/fhir/r4/ServiceRequest", json={"resourceType": "Patient"}, headers=_key(make_key))
    assert answer.status_code == 422 and _outcome(answer)[0]["expression"] == ["ServiceRequest"]
    unknown = copy.deepcopy(ALONE)
    unknown["colour"] = "blue"
    answer = client.post("/fhir/r4/ServiceRequest", json=unknown, headers=_key(make_key))
    assert answer.status_code == 422 and _outcome(answer)[0]["expression"] == ["ServiceRequest.colour"]


def test_auth_errors_are_operation_outcomes_too(
    client: TestClient, make_key: KeyMaker, coordinator: dict[str, str]
) -> None:
    answer = client.post("/fhir/r4", json=BUNDLE, headers=FHIR)
    assert answer.status_code == 401 and _outcome(answer)[0]["code"] == "login"
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    volunteer = make_key("volunteer", volunteer_id=vid)
    answer = client.post("/fhir/r4", json=BUNDLE, headers={**volunteer, **FHIR})
    assert answer.status_code == 403 and _outcome(answer)[0]["code"] == "forbidden"
    assert _outcome(client.get("/fhir/r4/Nothing", headers=volunteer))[0]["code"] == "not-found"


def test_conditional_create_and_idempotency_make_one_referral(client: TestClient, make_key: KeyMaker) -> None:
    key = make_key("integrator", source="nhs-lothian")
    condition = {"If-None-Exist": "identifier=https://nhslothian.scot/Id/referral|HV-2026-000123", **FHIR}
    with time_machine.travel(NOW, tick=False):
        first = client.post("/fhir/r4", json=BUNDLE, headers={**key, **condition})
        again = client.post("/fhir/r4", json=BUNDLE, headers={**key, **condition})
        replay = client.post("/fhir/r4", json=BUNDLE, headers={**key, "Idempotency-Key": "k1", **FHIR})
        repeated = client.post("/fhir/r4", json=BUNDLE, headers={**key, "Idempotency-Key": "k1", **FHIR})
        neither = client.post("/fhir/r4", json=BUNDLE, headers={**key, **FHIR})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.headers["Location"] == again.headers["Location"]
    assert first.headers["ETag"] == again.headers["ETag"]
    # A new key with the same identifier: the referral exists, so 409 (duplicate), and the key's replay is the same.
    assert replay.status_code == 409 and _outcome(replay)[0]["code"] == "duplicate"
    assert repeated.status_code == 409
    assert neither.status_code == 428 and _outcome(neither)[0]["code"] == "required"


def test_the_task_follows_her_to_completion_and_says_nothing_else(
    client: TestClient, make_key: KeyMaker, coordinator: dict[str, str]
) -> None:
    lothian = _key(make_key)
    with time_machine.travel(NOW, tick=False) as traveller:
        referral_id = client.post("/fhir/r4", json=BUNDLE, headers=lothian).headers["Location"].split("/")[1]

        def status() -> str:
            found = client.get(f"/fhir/r4/Task?based-on=ServiceRequest/{referral_id}", headers=lothian).json()
            Bundle.model_validate(found)
            assert found["total"] == 1
            task = found["entry"][0]["resource"]
            assert set(task) == {"resourceType", "id", "status", "intent", "basedOn", "authoredOn", "lastModified"}
            return str(task["status"])

        assert status() == "requested"
        volunteer = volunteer_body(languages=["ar", "en"])
        vid = client.post("/v1/volunteers", json=volunteer, headers=coordinator).json()["id"]
        proposal = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["proposals"][0]
        match = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()
        assert status() == "accepted"
        me = make_key("volunteer", volunteer_id=vid)
        client.post(f"/v1/matches/{match['id']}/accept", headers=me)
        sessions = client.get(f"/v1/matches/{match['id']}/sessions", headers=me).json()["items"]
        for index, planned in enumerate(sessions):
            traveller.move_to(datetime.fromisoformat(planned["ends_at"]))
            client.post(f"/v1/sessions/{planned['id']}/attendance", json={"status": "attended"}, headers=me)
            if index == 0:
                assert status() == "in-progress"
        assert status() == "completed"
        # Another source sees nothing of it.
        highland = make_key("integrator", source="nhs-highland")
        other = client.get(f"/fhir/r4/Task?based-on=ServiceRequest/{referral_id}", headers=highland).json()
        assert other["total"] == 0


def test_a_withdrawn_referral_is_a_cancelled_task(
    client: TestClient, make_key: KeyMaker, coordinator: dict[str, str]
) -> None:
    lothian = _key(make_key)
    with time_machine.travel(NOW, tick=False):
        referral_id = client.post("/fhir/r4", json=BUNDLE, headers=lothian).headers["Location"].split("/")[1]
        client.post(f"/v1/referrals/{referral_id}/withdraw", json={"reason": "moved away"}, headers=coordinator)
        task = client.get(f"/fhir/r4/Task?based-on=ServiceRequest/{referral_id}", headers=lothian).json()
    assert task["entry"][0]["resource"]["status"] == "cancelled"
    wrong = client.get("/fhir/r4/Task?based-on=Patient/1", headers=lothian)
    assert wrong.status_code == 422 and _outcome(wrong)[0]["expression"] == ["query.based-on"]
