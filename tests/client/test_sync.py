"""PeerMatch (blocking) against the real app, through its real auth."""

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from peer_match_client import (
    NO_RETRY,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PeerMatch,
    PreconditionFailedError,
    RateLimitedError,
    ServiceUnavailableError,
)

from api_schemas.matching import MatchRunStatus
from api_schemas.referrals import ReferralIn, ReferralOut, ReferralStatusOut
from service.match_runs import worker
from tests.client.conftest import BASE_URL, Gateway, secret_of, sync_client
from tests.conftest import HeldRunner, KeyMaker
from tests.factories import referral_body, volunteer_body


def test_a_created_referral_reads_back_the_same(app: FastAPI, coordinator_key: str, sleeps: list[float]) -> None:
    client = sync_client(app, coordinator_key, sleeps)
    created = client.referrals.create(ReferralIn.model_validate(referral_body(1)))
    assert isinstance(created, ReferralOut)
    read = client.referrals.get(created.id)
    assert read == created
    assert read.parent.postcode == "EH6 6QQ"
    assert read.languages == ["pl", "en"]


def test_an_integrator_reads_its_referral_as_status_only(app: FastAPI, make_key: KeyMaker, sleeps: list[float]) -> None:
    client = sync_client(app, secret_of(make_key("integrator", source="nhs-lothian")), sleeps)
    created = client.referrals.create(referral_body(1))
    assert type(created) is ReferralStatusOut
    assert type(client.referrals.get(created.id)) is ReferralStatusOut


def test_an_invalid_body_raises_invalid_input_naming_the_field(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    client = sync_client(app, coordinator_key, sleeps)
    with pytest.raises(InvalidInputError) as raised:
        client.referrals.create(referral_body(1, parent={"nickname": "Aga"}))
    problem = raised.value
    assert problem.status == 422
    assert problem.type.endswith("/validation")
    assert (("body", "parent", "nickname"), "unknown field") in problem.errors
    assert problem.fields() == ["parent.nickname"]
    assert client.referrals.list().items == []


def test_a_typed_body_the_service_refuses_names_the_code(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    client = sync_client(app, coordinator_key, sleeps)
    referral = ReferralIn.model_validate(referral_body(1, experiences=["no_such_code"]))
    with pytest.raises(InvalidInputError) as raised:
        client.referrals.create(referral)
    assert [loc for loc, _msg in raised.value.errors] == [("body", "experiences", 0)]


def test_a_missing_referral_is_not_found_and_a_duplicate_is_a_conflict(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    client = sync_client(app, coordinator_key, sleeps)
    with pytest.raises(NotFoundError) as missing:
        client.referrals.get("00000000-0000-0000-0000-000000000000")
    assert missing.value.status == 404
    first = client.referrals.create(referral_body(7))
    with pytest.raises(ConflictError) as duplicate:
        client.referrals.create(referral_body(7))
    assert first.id in duplicate.value.detail


def test_iterating_walks_every_page_once(app: FastAPI, coordinator_key: str, sleeps: list[float]) -> None:
    client = sync_client(app, coordinator_key, sleeps)
    ids = [client.referrals.create(referral_body(n)).id for n in range(1, 6)]
    pages = client.referrals.list(status="waiting", limit=2)
    assert len(pages.items) == 2 and pages.next_cursor is not None
    walked = [referral.id for referral in client.referrals.iter(status="waiting", page_size=2)]
    assert sorted(walked) == sorted(ids)
    assert list(client.referrals.iter(status="withdrawn", page_size=2)) == []


def test_a_post_retried_after_a_503_is_made_once_with_one_key(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    gateway = Gateway(app, status=503)
    client = sync_client(gateway, coordinator_key, sleeps)
    created = client.referrals.create(referral_body(1))
    assert len(gateway.post_keys) == 2
    assert gateway.post_keys[0] is not None and gateway.post_keys[0] == gateway.post_keys[1]
    assert [r.id for r in client.referrals.iter()] == [created.id]
    assert len(sleeps) == 1


def test_a_post_whose_answer_was_lost_is_retried_and_replayed(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    gateway = Gateway(app, drop=True)
    client = sync_client(gateway, coordinator_key, sleeps)
    created = client.referrals.create(referral_body(1), idempotency_key="ref-0001-try")
    assert gateway.post_keys == ["ref-0001-try", "ref-0001-try"]
    assert [r.id for r in client.referrals.iter()] == [created.id]


def test_each_call_has_its_own_idempotency_key(app: FastAPI, coordinator_key: str, sleeps: list[float]) -> None:
    gateway = Gateway(app, failures=0)
    client = sync_client(gateway, coordinator_key, sleeps)
    client.referrals.create(referral_body(1))
    client.referrals.create(referral_body(2))
    assert len(set(gateway.post_keys)) == 2


def test_without_retries_a_503_is_raised(app: FastAPI, coordinator_key: str, sleeps: list[float]) -> None:
    client = sync_client(Gateway(app, status=503, reach_app=False), coordinator_key, sleeps, retry=NO_RETRY)
    with pytest.raises(ServiceUnavailableError):
        client.referrals.create(referral_body(1))
    assert sleeps == []


def test_a_429_waits_as_long_as_retry_after_says(app: FastAPI, coordinator_key: str, sleeps: list[float]) -> None:
    gateway = Gateway(app, status=429, headers={"Retry-After": "3"}, reach_app=False)
    client = sync_client(gateway, coordinator_key, sleeps)
    client.referrals.create(referral_body(1))
    assert sleeps == [3.0]


def test_a_retry_after_longer_than_the_client_waits_is_raised_at_once(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    gateway = Gateway(app, status=429, headers={"Retry-After": "120"}, reach_app=False)
    client = sync_client(gateway, coordinator_key, sleeps)
    with pytest.raises(RateLimitedError) as raised:
        client.referrals.create(referral_body(1))
    assert raised.value.retry_after == 120.0
    assert sleeps == []


def test_connection_errors_are_retried_then_raised(sleeps: list[float]) -> None:
    attempts: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    http = httpx.Client(transport=httpx.MockTransport(refuse), base_url="http://testserver")
    client = PeerMatch("key", http_client=http, sleep=sleeps.append)
    with pytest.raises(httpx.ConnectError):
        client.vocabulary.get()
    assert len(attempts) == 4
    assert len(sleeps) == 3


def test_a_match_from_run_to_sessions(
    app: FastAPI, coordinator_key: str, make_key: KeyMaker, sleeps: list[float]
) -> None:
    client = sync_client(app, coordinator_key, sleeps)
    volunteer = client.volunteers.create(volunteer_body())
    referral = client.referrals.create(referral_body(1))
    run = client.match_runs.create()
    assert client.match_runs.get(run.id).proposals == run.proposals
    light = client.match_runs.get(run.id, result=False)
    assert light.proposals is None and light.unmatched is None and light.stats == run.stats
    assert list(client.match_runs.proposals(run.id, page_size=1)) == run.proposals
    assert list(client.match_runs.unmatched(run.id)) == run.unmatched == []
    [proposal] = run.proposals
    assert (proposal.referral_id, proposal.volunteer_id) == (referral.id, volunteer.id)
    match = client.proposals.accept(proposal.id)
    assert client.matches.get(match.id).status == match.status
    assert [m.id for m in client.matches.iter(volunteer_id=volunteer.id)] == [match.id]
    her = sync_client(app, secret_of(make_key("volunteer", volunteer_id=volunteer.id)), sleeps)
    accepted = her.matches.accept(match.id)
    assert accepted.status == "scheduled"
    sessions = client.matches.sessions(match.id)
    assert len(sessions) == 8 and [s.number for s in sessions] == list(range(1, 9))
    assert her.me.get().id == volunteer.id
    assert [s.id for s in her.me.sessions()] == [s.id for s in sessions]
    assert "postnatal_depression" in [entry.code for entry in client.vocabulary.get()["experiences"]]
    with pytest.raises(ConflictError):
        client.proposals.accept(proposal.id)


def test_an_update_with_a_stale_etag_is_refused(app: FastAPI, coordinator_key: str, sleeps: list[float]) -> None:
    client = sync_client(app, coordinator_key, sleeps)
    created = client.referrals.create(referral_body(1))
    tagged = client.referrals.get_tagged(created.id)
    assert tagged.etag is not None
    client.referrals.update(created.id, {"interests": ["reading"]}, if_match=tagged.etag)
    with pytest.raises(PreconditionFailedError):
        client.referrals.update(created.id, {"interests": ["walking"]}, if_match=tagged.etag)
    assert client.referrals.get(created.id).interests == ["reading"]


def test_a_run_started_without_waiting_is_polled_until_it_is_done(
    app: FastAPI, coordinator_key: str, held_tasks: HeldRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    def the_worker_runs_meanwhile(seconds: float) -> None:
        waits.append(seconds)
        held_tasks.release()

    client = PeerMatch(coordinator_key, http_client=TestClient(app, base_url=BASE_URL), sleep=the_worker_runs_meanwhile)
    client.volunteers.create(volunteer_body())
    client.referrals.create(referral_body(1))
    started = client.match_runs.create(wait=False)
    assert started.status == MatchRunStatus.queued and started.proposals is None

    done = client.match_runs.wait_for(started.id, poll_every_s=0.5)
    assert done.status == MatchRunStatus.done and done.proposals is not None and len(done.proposals) == 1
    assert waits == [0.5]

    # Too large to solve in the request: create(wait=True) answers 202 and polls to the end itself.
    monkeypatch.setattr(worker, "WAIT_AT_MOST", 0)
    client.referrals.create(referral_body(2))
    polled = client.match_runs.create()
    assert polled.status == MatchRunStatus.done and polled.stats is not None and polled.stats.referrals == 2
