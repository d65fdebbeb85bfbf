"""Who may call what: the role x route matrix, built from the app's own routes so a new one cannot be left out,
and each kind of record someone else owns answered 404, never 403."""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection
from sqlmodel import Session

from service.core import auth
from tests.conftest import KeyMaker
from tests.factories import referral_body, volunteer_body

PROBLEM = "application/problem+json"
START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday, before the volunteer's window

NONE, ADMIN, COORDINATOR, INTEGRATOR, VOLUNTEER = "no key", "admin", "coordinator", "integrator", "volunteer"
ROLES = (NONE, ADMIN, COORDINATOR, INTEGRATOR, VOLUNTEER)

EVERYONE = frozenset(ROLES)  # no key needed (operations, the calendar feed whose URL is its credential)
ANY_KEY = frozenset({ADMIN, COORDINATOR, INTEGRATOR, VOLUNTEER})
ADMINS = frozenset({ADMIN})
STAFF = frozenset({ADMIN, COORDINATOR})
REFERRERS = frozenset({ADMIN, COORDINATOR, INTEGRATOR})
MATCH_PARTIES = frozenset({ADMIN, COORDINATOR, VOLUNTEER})
VOLUNTEERS = frozenset({VOLUNTEER})
# Safeguarding leads only: a flag on coordinator keys, so no role as such (tests/service/test_concerns.py lets a
# lead through); every key here, admins' included, is 403.
LEADS: frozenset[str] = frozenset()

# Every operation the app serves, and the roles allowed to use it. A route missing here fails the test.
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/metrics"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    ("GET", "/docs/oauth2-redirect"): EVERYONE,
    ("GET", "/redoc"): EVERYONE,
    ("GET", "/v1/vocabulary"): ANY_KEY,
    ("POST", "/v1/vocabulary/{kind}"): ADMINS,
    ("GET", "/v1/programme"): STAFF,
    ("PUT", "/v1/programme"): ADMINS,
    ("POST", "/v1/referrals"): REFERRERS,
    ("POST", "/fhir/r4/ServiceRequest"): REFERRERS,
    ("POST", "/fhir/r4"): REFERRERS,
    ("GET", "/fhir/r4/Task"): REFERRERS,
    ("GET", "/v1/referrals"): REFERRERS,
    ("GET", "/v1/referrals/{referral_id}"): REFERRERS,
    ("PATCH", "/v1/referrals/{referral_id}"): REFERRERS,
    ("POST", "/v1/referrals/{referral_id}/withdraw"): REFERRERS,
    ("DELETE", "/v1/referrals/{referral_id}"): ADMINS,
    ("POST", "/v1/volunteers"): STAFF,
    ("GET", "/v1/volunteers"): STAFF,
    ("GET", "/v1/volunteers/{volunteer_id}"): STAFF,
    ("PATCH", "/v1/volunteers/{volunteer_id}"): STAFF,
    ("DELETE", "/v1/volunteers/{volunteer_id}"): ADMINS,
    ("GET", "/v1/me"): VOLUNTEERS,
    ("PATCH", "/v1/me"): VOLUNTEERS,
    ("GET", "/v1/me/sessions"): VOLUNTEERS,
    ("GET", "/v1/me/matches"): VOLUNTEERS,
    ("POST", "/v1/me/calendar"): VOLUNTEERS,
    ("GET", "/v1/calendar/{token}.ics"): EVERYONE,
    ("GET", "/v1/webhooks"): ADMINS,
    ("POST", "/v1/webhooks"): ADMINS,
    ("DELETE", "/v1/webhooks/{webhook_id}"): ADMINS,
    ("POST", "/v1/webhooks/{webhook_id}/secrets"): ADMINS,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): ADMINS,
    ("POST", "/v1/referrals/{referral_id}/measures"): STAFF,
    ("GET", "/v1/referrals/{referral_id}/measures"): STAFF,
    ("POST", "/v1/referrals/{referral_id}/risk-review"): STAFF,
    ("GET", "/v1/referrals/{referral_id}/suggestions"): STAFF,
    ("POST", "/v1/match-runs"): STAFF,
    ("GET", "/v1/match-runs/{run_id}"): STAFF,
    ("GET", "/v1/match-runs/{run_id}/proposals"): STAFF,
    ("GET", "/v1/match-runs/{run_id}/unmatched"): STAFF,
    ("POST", "/v1/proposals/{proposal_id}/accept"): STAFF,
    ("POST", "/v1/proposals/{proposal_id}/reject"): STAFF,
    ("POST", "/v1/matches"): STAFF,
    ("GET", "/v1/matches"): STAFF,
    ("GET", "/v1/matches/{match_id}"): STAFF,
    ("POST", "/v1/matches/{match_id}/accept"): MATCH_PARTIES,
    ("POST", "/v1/matches/{match_id}/decline"): MATCH_PARTIES,
    ("GET", "/v1/matches/{match_id}/sessions"): MATCH_PARTIES,
    ("POST", "/v1/matches/{match_id}/extensions"): STAFF,
    ("POST", "/v1/matches/{match_id}/cover"): STAFF,
    ("GET", "/v1/matches/{match_id}/cover-suggestions"): STAFF,
    ("POST", "/v1/matches/{match_id}/end"): STAFF,
    ("POST", "/v1/sessions/{session_id}/attendance"): MATCH_PARTIES,
    ("POST", "/v1/sessions/{session_id}/cancel"): MATCH_PARTIES,
    ("POST", "/v1/sessions/{session_id}/reschedule"): MATCH_PARTIES,
    ("GET", "/v1/reports/outcomes"): STAFF,
    ("GET", "/v1/reports/capacity"): STAFF,
    ("GET", "/v1/reports/recruitment"): STAFF,
    ("GET", "/v1/reports/recruitment.svg"): STAFF,
    ("GET", "/v1/reports/outcomes.svg"): STAFF,
    ("GET", "/v1/reports/capacity.svg"): STAFF,
    ("POST", "/v1/reports/links"): STAFF,
    ("GET", "/reports"): STAFF,
    ("GET", "/v1/reports/volunteers"): STAFF,
    ("POST", "/v1/matches/{match_id}/feedback"): MATCH_PARTIES,
    ("POST", "/v1/concerns"): MATCH_PARTIES,
    ("GET", "/v1/concerns"): LEADS,
    ("GET", "/v1/concerns/{concern_id}"): LEADS,
    ("POST", "/v1/concerns/{concern_id}/actions"): LEADS,
    ("POST", "/v1/concerns/{concern_id}/close"): LEADS,
    ("GET", "/v1/me/concerns"): VOLUNTEERS,
    ("GET", "/v1/me/concerns/{concern_id}"): VOLUNTEERS,
    ("POST", "/v1/notify/callbacks"): frozenset(),  # Notify's own bearer token, never an API key: 401 for all
    ("GET", "/v1/referrals/{referral_id}/messages"): STAFF,
    ("GET", "/v1/volunteers/{volunteer_id}/messages"): STAFF,
    ("GET", "/v1/me/messages"): VOLUNTEERS,
    ("POST", "/v1/venues"): STAFF,
    ("GET", "/v1/venues"): STAFF,
    ("GET", "/v1/venues/{venue_id}"): STAFF,
    ("PATCH", "/v1/venues/{venue_id}"): STAFF,
    ("POST", "/v1/me/sessions/{session_id}/check-in"): VOLUNTEERS,
    ("POST", "/v1/me/sessions/{session_id}/check-out"): VOLUNTEERS,
    ("POST", "/v1/sessions/{session_id}/contact"): MATCH_PARTIES,
    ("POST", "/v1/referrals/{referral_id}/contacts"): STAFF,
    ("GET", "/v1/matches/{match_id}/contacts"): MATCH_PARTIES,
    ("GET", "/v1/referrals/{referral_id}/contacts"): STAFF,
    ("POST", "/v1/volunteers/{volunteer_id}/supervision"): STAFF,
    ("GET", "/v1/volunteers/{volunteer_id}/supervision"): STAFF,
    ("POST", "/v1/volunteers/{volunteer_id}/training"): STAFF,
    ("GET", "/v1/volunteers/{volunteer_id}/training"): STAFF,
    ("GET", "/v1/referrals/{referral_id}/export"): ADMINS,
    ("GET", "/v1/volunteers/{volunteer_id}/export"): ADMINS,
    ("POST", "/v1/retention/run"): ADMINS,
}
# Routes with a credential of their own instead of an API key: every key is refused as if none were given.
OWN_CREDENTIAL = frozenset({("POST", "/v1/notify/callbacks")})


def served_operations(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) in the OpenAPI document, and any route left out of it (like /metrics)."""
    operations = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path and context.methods:
            operations |= {(method, context.path) for method in context.methods if method != "HEAD"}
    return operations


def test_the_matrix_names_every_operation_the_app_serves_and_no_other(app: FastAPI) -> None:
    served = served_operations(app)
    missing = sorted(served - MATRIX.keys())
    gone = sorted(MATRIX.keys() - served)
    assert not missing, f"add these operations to MATRIX with the roles allowed: {missing}"
    assert not gone, f"these operations are no longer served; remove them from MATRIX: {gone}"


@dataclass(frozen=True)
class World:
    """Real records, each visible to the keys below, so an allowed role gets past the guard to the record."""

    keys: dict[str, dict[str, str]]
    ids: dict[str, str]


@pytest.fixture
def world(client: TestClient, make_key: KeyMaker) -> Iterator[World]:
    with time_machine.travel(START, tick=False):
        coordinator = make_key("coordinator")
        integrator = make_key("integrator", source="nhs-lothian")
        vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
        rid = client.post(
            "/v1/referrals", json=referral_body(1), headers={**integrator, "Idempotency-Key": "matrix-1"}
        ).json()["id"]
        run = client.post("/v1/match-runs?wait=true", json={"referral_ids": [rid]}, headers=coordinator).json()
        spare_vid = client.post(
            "/v1/volunteers", json=volunteer_body(name="Spare Volunteer"), headers=coordinator
        ).json()["id"]
        spare_rid = client.post("/v1/referrals", json=referral_body(2), headers=coordinator).json()["id"]
        proposal_id = run["proposals"][0]["id"]
        match_id = client.post(f"/v1/proposals/{proposal_id}/accept", headers=coordinator).json()["id"]
        volunteer = make_key("volunteer", volunteer_id=vid)
        assert client.post(f"/v1/matches/{match_id}/accept", headers=volunteer).status_code == 200
        session_id = client.get(f"/v1/matches/{match_id}/sessions", headers=volunteer).json()["items"][0]["id"]
        webhook = client.post(
            "/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": "s" * 32},
            headers=make_key("admin"),
        )
        assert webhook.status_code == 201, webhook.text
        keys = {
            NONE: {},
            ADMIN: make_key("admin"),
            COORDINATOR: coordinator,
            INTEGRATOR: integrator,
            VOLUNTEER: volunteer,
        }
        ids = {
            "referral_id": rid,
            "volunteer_id": vid,
            "run_id": run["id"],
            "proposal_id": proposal_id,
            "match_id": match_id,
            "session_id": session_id,
            "webhook_id": webhook.json()["id"],
            "kind": "interests",
            "token": secrets.token_urlsafe(16),
            "spare_referral_id": spare_rid,
            "spare_volunteer_id": spare_vid,
            "concern_id": secrets.token_hex(8),
            "venue_id": secrets.token_hex(8),
        }
        yield World(keys=keys, ids=ids)


def fill(method: str, template: str, ids: dict[str, str]) -> str:
    # An erasure uses a spare record: erasing the volunteer would revoke the volunteer's key mid-matrix.
    spare = {"referral_id": ids["spare_referral_id"], "volunteer_id": ids["spare_volunteer_id"]}
    values = {**ids, **spare} if method == "DELETE" else ids
    return template.format(**values)


def refusal_type(template: str) -> str:
    """FHIR routes refuse as FHIR clients parse it, an OperationOutcome; the rest as problem details."""
    return "application/fhir+json" if template.startswith("/fhir/") else PROBLEM


def test_each_role_is_let_through_or_refused_exactly_as_the_matrix_says(client: TestClient, world: World) -> None:
    wrong = []
    with time_machine.travel(START, tick=False):
        for (method, template), allowed in MATRIX.items():
            path = fill(method, template, world.ids)
            for role in ROLES:
                body = {} if method in ("POST", "PUT", "PATCH") else None
                response = client.request(method, path, json=body, headers=world.keys[role])
                status = response.status_code
                own = (method, template) in OWN_CREDENTIAL
                expected = "allowed" if role in allowed else "401" if role == NONE or own else "403"
                if role in allowed and status in (401, 403):
                    wrong.append(f"{method} {template} as {role}: {status}, expected to be allowed")
                elif role not in allowed and str(status) != expected:
                    wrong.append(f"{method} {template} as {role}: {status}, expected {expected}")
                elif role not in allowed and response.headers["content-type"] != refusal_type(template):
                    wrong.append(f"{method} {template} as {role}: refusal is not problem+json")
    assert not wrong, "\n".join(wrong)


# --- Someone else's record is 404, the same as a record that does not exist ---------------------------------


def _not_found(response: Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM


def _two_integrators(client: TestClient, make_key: KeyMaker) -> tuple[str, dict[str, str]]:
    lothian = {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": "own-1"}
    highland = {**make_key("integrator", source="nhs-highland"), "Idempotency-Key": "own-2"}
    created = client.post("/v1/referrals", json=referral_body(1), headers=lothian)
    assert created.status_code == 201, created.text
    return created.json()["id"], highland


def test_another_integrators_referral_is_404_for_every_referral_route(client: TestClient, make_key: KeyMaker) -> None:
    rid, other = _two_integrators(client, make_key)
    _not_found(client.get(f"/v1/referrals/{rid}", headers=other))
    _not_found(client.patch(f"/v1/referrals/{rid}", json={"interests": []}, headers=other))
    _not_found(client.post(f"/v1/referrals/{rid}/withdraw", json={"reason": "moved"}, headers=other))
    unknown = client.get(f"/v1/referrals/{secrets.token_hex(8)}", headers=other)
    assert unknown.json()["detail"] == client.get(f"/v1/referrals/{rid}", headers=other).json()["detail"]
    listed = client.get("/v1/referrals", params={"external_id": "REF-0001"}, headers=other).json()
    assert listed["items"] == []


def test_measures_of_a_referral_are_refused_to_integrators_whoever_owns_it(
    client: TestClient, make_key: KeyMaker
) -> None:
    # Measures are for coordinators: an integrator sends EPDS only inside a referral. The refusal is the same
    # 403 for its own referral, another's and none, so it reveals nothing.
    rid, other = _two_integrators(client, make_key)
    own = make_key("integrator", source="nhs-lothian")
    answers = []
    for headers, referral_id in ((own, rid), (other, rid), (other, secrets.token_hex(8))):
        response = client.get(f"/v1/referrals/{referral_id}/measures", headers=headers)
        assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
        answers.append(response.json())
    assert answers[0] == answers[1] == answers[2]


def _matched_twice(client: TestClient, make_key: KeyMaker) -> tuple[str, str, dict[str, str], dict[str, str]]:
    """Two volunteers, each with her own scheduled match; returns the first's match and session and both keys."""
    coordinator = make_key("coordinator")
    vids = [
        client.post("/v1/volunteers", json=volunteer_body(name=name), headers=coordinator).json()["id"]
        for name in ("Joanna Kowalska", "Ewa Nowicka")
    ]
    first = make_key("volunteer", volunteer_id=vids[0])
    second = make_key("volunteer", volunteer_id=vids[1])
    rid = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
    created = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vids[0]}, headers=coordinator)
    assert created.status_code == 201, created.text
    match_id = created.json()["id"]
    assert client.post(f"/v1/matches/{match_id}/accept", headers=first).status_code == 200
    session_id = client.get(f"/v1/matches/{match_id}/sessions", headers=first).json()["items"][0]["id"]
    return match_id, session_id, first, second


def test_another_volunteers_match_is_404_for_every_match_route_she_may_use(
    client: TestClient, make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, _session_id, _first, second = _matched_twice(client, make_key)
        _not_found(client.get(f"/v1/matches/{match_id}/sessions", headers=second))
        _not_found(client.post(f"/v1/matches/{match_id}/accept", headers=second))
        _not_found(client.post(f"/v1/matches/{match_id}/decline", headers=second))
        assert client.get("/v1/me/matches", headers=second).json()["items"] == []


def test_another_volunteers_session_is_404_for_every_session_route(client: TestClient, make_key: KeyMaker) -> None:
    with time_machine.travel(START, tick=False):
        _match_id, session_id, _first, second = _matched_twice(client, make_key)
        _not_found(client.post(f"/v1/sessions/{session_id}/attendance", json={"status": "attended"}, headers=second))
        _not_found(
            client.post(
                f"/v1/sessions/{session_id}/cancel",
                json={"by": "volunteer", "reason": "volunteer_unwell"},
                headers=second,
            )
        )
        _not_found(client.post(f"/v1/sessions/{session_id}/reschedule", json={}, headers=second))
        assert client.get("/v1/me/sessions", headers=second).json()["items"] == []


def test_a_volunteer_reads_only_her_own_record_and_others_are_refused_alike(
    client: TestClient, make_key: KeyMaker
) -> None:
    coordinator = make_key("coordinator")
    vids = [
        client.post("/v1/volunteers", json=volunteer_body(name=name), headers=coordinator).json()["id"]
        for name in ("Joanna Kowalska", "Ewa Nowicka")
    ]
    me = make_key("volunteer", volunteer_id=vids[0])
    assert client.get("/v1/me", headers=me).json()["id"] == vids[0]
    refusals = [client.get(f"/v1/volunteers/{vid}", headers=me) for vid in (vids[1], vids[0], "nobody")]
    assert {r.status_code for r in refusals} == {403}
    assert refusals[0].json() == refusals[1].json() == refusals[2].json()


def test_a_match_run_is_for_coordinators_and_an_unknown_one_is_404(client: TestClient, make_key: KeyMaker) -> None:
    coordinator = make_key("coordinator")
    run_id = client.post("/v1/match-runs?wait=true", headers=coordinator).json()["id"]
    _not_found(client.get(f"/v1/match-runs/{secrets.token_hex(8)}", headers=coordinator))
    for role in ("integrator", "volunteer"):
        headers = make_key(
            role, source="nhs" if role == "integrator" else None, volunteer_id="v" if role == "volunteer" else None
        )
        real, unknown = (client.get(f"/v1/match-runs/{rid}", headers=headers) for rid in (run_id, "nothing"))
        assert real.status_code == unknown.status_code == 403 and real.json() == unknown.json()


def test_an_integrator_key_cannot_take_the_source_name_of_coordinators_referrals(db: Connection) -> None:
    # Referrals a coordinator enters have source "coordinator"; an integrator of that name would see them all.
    with Session(db) as session, pytest.raises(ValueError, match="reserved"):
        auth.create_key(session, name="sneaky", role=auth.Role.integrator, source=auth.COORDINATOR_SOURCE)
