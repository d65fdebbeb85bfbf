"""The OpenAPI document as a client writer meets it: stable operationIds, described tags, examples that are
valid, response headers that are really sent, the role-dependent referral read, every event in `webhooks`,
`servers`; it validates, and a client generated from it builds with no warnings."""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

import api_schemas
from api_schemas.events import EventType
from api_schemas.examples import EXAMPLES
from api_schemas.webhook_payloads import EVENT_DATA
from tests.conftest import KeyMaker
from tests.factories import referral_body, volunteer_body

# A generated client's method names: renaming one breaks every integrator's code, so each is listed here.
OPERATION_IDS = {
    ("get", "/v1/concerns"): "listConcerns",
    ("get", "/v1/concerns/{concern_id}"): "getConcern",
    ("get", "/v1/matches/{match_id}/cover-suggestions"): "listCoverSuggestions",
    ("get", "/v1/me/concerns"): "listMyConcerns",
    ("get", "/v1/me/concerns/{concern_id}"): "getMyConcern",
    ("get", "/v1/me/messages"): "listMyMessages",
    ("get", "/v1/referrals/{referral_id}/messages"): "listReferralMessages",
    ("get", "/v1/volunteers/{volunteer_id}/messages"): "listVolunteerMessages",
    ("post", "/v1/concerns"): "raiseConcern",
    ("post", "/v1/concerns/{concern_id}/actions"): "recordConcernAction",
    ("post", "/v1/concerns/{concern_id}/close"): "closeConcern",
    ("post", "/v1/notify/callbacks"): "receiveNotifyCallback",
    ("post", "/v1/sessions/{session_id}/contact"): "recordSessionContact",
    ("post", "/v1/referrals/{referral_id}/contacts"): "recordReferralContact",
    ("get", "/v1/matches/{match_id}/contacts"): "listMatchContacts",
    ("get", "/v1/referrals/{referral_id}/contacts"): "listReferralContacts",
    ("post", "/v1/volunteers/{volunteer_id}/supervision"): "recordSupervision",
    ("get", "/v1/volunteers/{volunteer_id}/supervision"): "listSupervision",
    ("post", "/v1/volunteers/{volunteer_id}/training"): "recordTraining",
    ("get", "/v1/volunteers/{volunteer_id}/training"): "listTraining",
    ("get", "/healthz"): "getHealth",
    ("get", "/readyz"): "getReadiness",
    ("get", "/v1/vocabulary"): "getVocabulary",
    ("post", "/v1/vocabulary/{kind}"): "addVocabularyCode",
    ("get", "/v1/programme"): "getProgramme",
    ("put", "/v1/programme"): "updateProgramme",
    ("post", "/v1/referrals"): "createReferral",
    ("get", "/v1/referrals"): "listReferrals",
    ("get", "/v1/referrals/{referral_id}"): "getReferral",
    ("patch", "/v1/referrals/{referral_id}"): "updateReferral",
    ("delete", "/v1/referrals/{referral_id}"): "eraseReferral",
    ("post", "/v1/referrals/{referral_id}/withdraw"): "withdrawReferral",
    ("post", "/v1/volunteers"): "createVolunteer",
    ("get", "/v1/volunteers"): "listVolunteers",
    ("get", "/v1/volunteers/{volunteer_id}"): "getVolunteer",
    ("patch", "/v1/volunteers/{volunteer_id}"): "updateVolunteer",
    ("post", "/v1/venues"): "createVenue",
    ("get", "/v1/venues"): "listVenues",
    ("get", "/v1/venues/{venue_id}"): "getVenue",
    ("patch", "/v1/venues/{venue_id}"): "updateVenue",
    ("delete", "/v1/volunteers/{volunteer_id}"): "eraseVolunteer",
    ("get", "/v1/me"): "getMe",
    ("patch", "/v1/me"): "updateMe",
    ("get", "/v1/me/sessions"): "listMySessions",
    ("get", "/v1/me/matches"): "listMyMatches",
    ("post", "/v1/me/calendar"): "rotateCalendarFeed",
    ("post", "/v1/me/sessions/{session_id}/check-in"): "checkInToVisit",
    ("post", "/v1/me/sessions/{session_id}/check-out"): "checkOutOfVisit",
    ("get", "/v1/webhooks"): "listWebhooks",
    ("post", "/v1/webhooks"): "createWebhook",
    ("delete", "/v1/webhooks/{webhook_id}"): "deleteWebhook",
    ("post", "/v1/webhooks/{webhook_id}/secrets"): "rotateWebhookSecret",
    ("get", "/v1/webhooks/{webhook_id}/deliveries"): "listWebhookDeliveries",
    ("post", "/v1/referrals/{referral_id}/measures"): "recordMeasure",
    ("get", "/v1/referrals/{referral_id}/measures"): "listMeasures",
    ("post", "/v1/referrals/{referral_id}/risk-review"): "recordRiskReview",
    ("post", "/v1/match-runs"): "createMatchRun",
    ("get", "/v1/match-runs/{run_id}"): "getMatchRun",
    ("get", "/v1/match-runs/{run_id}/proposals"): "listMatchRunProposals",
    ("get", "/v1/match-runs/{run_id}/unmatched"): "listMatchRunUnmatched",
    ("post", "/v1/proposals/{proposal_id}/accept"): "acceptProposal",
    ("post", "/v1/proposals/{proposal_id}/reject"): "rejectProposal",
    ("get", "/v1/referrals/{referral_id}/suggestions"): "listSuggestedVolunteers",
    ("post", "/v1/matches"): "createMatch",
    ("get", "/v1/matches"): "listMatches",
    ("get", "/v1/matches/{match_id}"): "getMatch",
    ("post", "/v1/matches/{match_id}/accept"): "acceptMatch",
    ("post", "/v1/matches/{match_id}/decline"): "declineMatch",
    ("get", "/v1/matches/{match_id}/sessions"): "listSessions",
    ("post", "/v1/matches/{match_id}/extensions"): "extendMatch",
    ("post", "/v1/matches/{match_id}/end"): "endMatch",
    ("post", "/v1/matches/{match_id}/cover"): "resolveCover",
    ("post", "/v1/sessions/{session_id}/attendance"): "recordAttendance",
    ("post", "/v1/sessions/{session_id}/cancel"): "cancelSession",
    ("post", "/v1/sessions/{session_id}/reschedule"): "rescheduleSession",
    ("get", "/v1/calendar/{token}.ics"): "getCalendarFeed",
    ("get", "/v1/reports/outcomes"): "getOutcomesReport",
    ("get", "/v1/reports/capacity"): "getCapacityReport",
    ("get", "/v1/reports/recruitment"): "getRecruitmentReport",
    ("get", "/v1/reports/recruitment.svg"): "getRecruitmentChart",
    ("post", "/fhir/r4/ServiceRequest"): "createFhirServiceRequest",
    ("post", "/fhir/r4"): "createFhirBundle",
    ("get", "/fhir/r4/Task"): "searchFhirTasks",
    ("get", "/v1/referrals/{referral_id}/export"): "exportReferral",
    ("get", "/v1/volunteers/{volunteer_id}/export"): "exportVolunteer",
    ("post", "/v1/retention/run"): "runRetention",
    ("get", "/v1/reports/outcomes.svg"): "getOutcomesChart",
    ("get", "/v1/reports/capacity.svg"): "getCapacityChart",
    ("post", "/v1/reports/links"): "createReportLink",
    ("get", "/reports"): "getReportPage",
    ("get", "/v1/reports/volunteers"): "getVolunteersReport",
    ("post", "/v1/matches/{match_id}/feedback"): "recordMatchFeedback",
}


@pytest.fixture
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


def test_every_operation_has_its_stable_camel_case_id(document: dict[str, Any]) -> None:
    found = {
        (method, path): op["operationId"] for path, item in document["paths"].items() for method, op in item.items()
    }
    assert found == OPERATION_IDS


def test_every_tag_used_is_described_and_servers_name_the_public_url(document: dict[str, Any], app: FastAPI) -> None:
    described = {tag["name"] for tag in document["tags"] if tag["description"]}
    used = {tag for op in _operations(document).values() for tag in op.get("tags", [])}
    assert used <= described
    assert document["servers"] == [{"url": app.state.settings.public_base_url, "description": "This deployment"}]


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module in Path(api_schemas.__file__).parent.glob("*.py"):
        namespace = __import__(f"api_schemas.{module.stem}", fromlist=["*"])
        for name, value in vars(namespace).items():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == namespace.__name__:
                found[name] = value
    return found


def _body_schemas(document: dict[str, Any]) -> set[str]:
    """Every schema that is an operation's request body or a success response, pages unwrapped."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[1]
                names.add(name)
                if name.startswith("Page"):
                    walk(document["components"]["schemas"][name]["properties"]["items"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for op in _operations(document).values():
        walk(op.get("requestBody", {}))
        walk({code: r for code, r in op["responses"].items() if code.startswith("2")})
    return {name for name in names if not name.startswith("Page")}


def test_every_request_and_response_model_has_an_example_its_model_accepts(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    missing = sorted(name for name in _body_schemas(document) if not schemas[name].get("examples"))
    assert not missing, f"add an example to api_schemas/examples.py for {missing}"
    models = _models()
    for name, example in EXAMPLES.items():
        models[name].model_validate(example)
        jsonschema.validate(example, {**schemas[name], "components": document["components"]})


def test_the_headers_documented_are_the_headers_sent(
    client: TestClient, document: dict[str, Any], coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    operations = _operations(document)

    def documented(operation: str, status: str) -> set[str]:
        return set(operations[operation]["responses"][status].get("headers", {}))

    referral = client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    assert documented("createReferral", "201") == {"Location", "ETag"}
    assert {"location", "etag"} <= set(referral.headers)
    read = client.get(referral.headers["Location"], headers=coordinator)
    assert documented("getReferral", "200") == {"ETag"} and read.headers["ETag"] == referral.headers["ETag"]
    volunteer = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    assert documented("createVolunteer", "201") == {"Location", "ETag"}
    assert {"location", "etag"} <= set(volunteer.headers)
    webhook = client.post("/v1/webhooks", json={"url": "https://hooks.example.org/x", "events": ["*"]}, headers=admin)
    assert documented("createWebhook", "201") == {"Location"} and "location" in webhook.headers
    assert "Retry-After" in operations["createReferral"]["responses"]["429"]["headers"]
    assert "Retry-After" in operations["createReferral"]["responses"]["503"]["headers"]


def test_the_referral_read_is_one_of_two_described_views_and_each_role_gets_exactly_one(
    client: TestClient, document: dict[str, Any], coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    response = _operations(document)["getReferral"]["responses"]["200"]
    views = response["content"]["application/json"]["schema"]["oneOf"]
    assert [view["$ref"].rsplit("/", 1)[1] for view in views] == ["ReferralOut", "ReferralStatusOut"]
    assert all(view["description"] for view in views) and "Integrators" in response["description"]
    integrator = {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": "openapi-1"}
    referral_id = client.post("/v1/referrals", json=referral_body(), headers=integrator).json()["id"]
    for headers, expected in ((coordinator, "ReferralOut"), (integrator, "ReferralStatusOut")):
        body = client.get(f"/v1/referrals/{referral_id}", headers=headers).json()
        matching = []
        for view in views:
            try:
                jsonschema.validate(body, {**view, "components": document["components"]})
                matching.append(view["$ref"].rsplit("/", 1)[1])
            except jsonschema.ValidationError:
                pass
        assert matching == [expected]


def _raised_event_fields() -> dict[str, set[str]]:
    """The `data` fields each event type is raised with anywhere in the service, read from the source."""
    raised: dict[str, set[str]] = {}
    for path in Path("service").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0] if name == "event" else node.args[1] if name == "emit" and len(node.args) > 1 else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                fields = {k.arg for k in node.keywords if k.arg not in (None, "record_type", "record_id")}
                raised.setdefault(first.value, set()).update(f for f in fields if f is not None)
    return raised


def test_the_webhooks_section_documents_every_event_with_the_fields_it_is_raised_with(
    document: dict[str, Any],
) -> None:
    events = {e.value for e in EventType if e is not EventType.all}
    assert set(document["webhooks"]) == events == {e.value for e in EVENT_DATA}
    raised = _raised_event_fields()
    assert set(raised) <= events
    for event_type, fields in raised.items():
        documented = set(EVENT_DATA[EventType(event_type)].model_fields)
        assert fields == documented, f"{event_type}: raised with {sorted(fields)}, documented {sorted(documented)}"
    operation = document["webhooks"]["match.confirmed"]["post"]
    headers = {p["name"]: p for p in operation["parameters"]}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(headers)
    assert headers["X-Peer-Match-Signature"]["deprecated"] is True


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    assert document["openapi"].startswith("3.1")
    validator.validate(json.loads(json.dumps(document)))


def test_a_client_generated_from_the_document_builds_with_no_warnings_and_reads_the_app(
    document: dict[str, Any], tmp_path: Path, client: TestClient, coordinator: dict[str, str]
) -> None:
    # The generator pins an older typer than ours, so it lives in an environment of its own: CI makes one from
    # .ci/openapi-python-client.lock and names its binary in OPENAPI_PYTHON_CLIENT.
    bin_dir = str(Path(sys.executable).parent)  # its post hooks run ruff from this environment
    generator = os.environ.get("OPENAPI_PYTHON_CLIENT") or os.path.join(bin_dir, "openapi-python-client")
    if not os.path.exists(generator):
        pytest.skip("openapi-python-client is not installed: set OPENAPI_PYTHON_CLIENT (see .ci/run)")
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document))
    package = tmp_path / "peer_match_generated"
    # Charts are SVG, which the generator reads only as a file download.
    config = tmp_path / "generator.json"
    config.write_text(json.dumps({"content_type_overrides": {"image/svg+xml": "application/octet-stream"}}))
    command = [generator, "generate", "--path", str(source), "--meta", "none", "--config", str(config)]
    generated = subprocess.run(
        [*command, "--output-path", str(package)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")},
        timeout=300,
        check=False,
    )
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    assert "Warning" not in output and "Error" not in output, output
    assert (package / "api" / "referrals" / "create_referral.py").exists()
    assert (package / "api" / "referrals" / "list_referrals.py").exists()
    sys.path.insert(0, str(tmp_path))
    try:
        from peer_match_generated import AuthenticatedClient  # type: ignore[import-not-found]
        from peer_match_generated.api.referrals import create_referral, get_referral  # type: ignore[import-not-found]
        from peer_match_generated.models import ReferralIn, ReferralOut  # type: ignore[import-not-found]

        token = coordinator["Authorization"].removeprefix("Bearer ")
        generated_client = AuthenticatedClient(base_url=str(client.base_url), token=token)
        generated_client.set_httpx_client(client)
        client.headers.update(coordinator)
        created = create_referral.sync(client=generated_client, body=ReferralIn.from_dict(referral_body()))
        assert isinstance(created, ReferralOut)
        read = get_referral.sync(referral_id=created.id, client=generated_client)
        assert isinstance(read, ReferralOut) and read.id == created.id
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("peer_match_generated")]:
            del sys.modules[name]
        shutil.rmtree(package, ignore_errors=True)
