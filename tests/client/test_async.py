"""AsyncPeerMatch against the real app through httpx.ASGITransport: the same behaviour as the sync client."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from peer_match_client import AsyncPeerMatch, ConflictError, InvalidInputError, NotFoundError, RateLimitedError

from api_schemas.matching import MatchRunStatus
from api_schemas.referrals import ReferralIn, ReferralOut
from service.match_runs import worker
from tests.client.conftest import BASE_URL, Gateway, async_client, secret_of
from tests.conftest import HeldRunner, KeyMaker
from tests.factories import referral_body, volunteer_body


def test_a_created_referral_reads_back_the_same(app: FastAPI, coordinator_key: str, sleeps: list[float]) -> None:
    async def scenario() -> None:
        async with async_client(app, coordinator_key, sleeps) as client:
            created = await client.referrals.create(ReferralIn.model_validate(referral_body(1)))
            assert isinstance(created, ReferralOut)
            assert await client.referrals.get(created.id) == created

    asyncio.run(scenario())


def test_an_invalid_body_raises_invalid_input_naming_the_field(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    async def scenario() -> None:
        async with async_client(app, coordinator_key, sleeps) as client:
            with pytest.raises(InvalidInputError) as raised:
                await client.referrals.create(referral_body(1, consent={"share_with_volunteer": False}))
            assert raised.value.fields() == ["consent.share_with_volunteer"]
            with pytest.raises(NotFoundError):
                await client.matches.get("no-such-match")

    asyncio.run(scenario())


def test_iterating_walks_every_page_once(app: FastAPI, coordinator_key: str, sleeps: list[float]) -> None:
    async def scenario() -> None:
        async with async_client(app, coordinator_key, sleeps) as client:
            ids = [(await client.referrals.create(referral_body(n))).id for n in range(1, 6)]
            walked = [referral.id async for referral in client.referrals.iter(status="waiting", page_size=2)]
            assert sorted(walked) == sorted(ids)

    asyncio.run(scenario())


def test_a_post_retried_after_a_503_is_made_once_with_one_key(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    gateway = Gateway(app, status=503)

    async def scenario() -> None:
        async with async_client(gateway, coordinator_key, sleeps) as client:
            created = await client.referrals.create(referral_body(1))
            assert [r.id async for r in client.referrals.iter()] == [created.id]

    asyncio.run(scenario())
    assert len(gateway.post_keys) == 2 and gateway.post_keys[0] == gateway.post_keys[1] is not None
    assert len(sleeps) == 1


def test_a_post_whose_answer_was_lost_is_retried_and_replayed(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    gateway = Gateway(app, drop=True)

    async def scenario() -> None:
        async with async_client(gateway, coordinator_key, sleeps) as client:
            created = await client.referrals.create(referral_body(1))
            assert [r.id async for r in client.referrals.iter()] == [created.id]

    asyncio.run(scenario())
    assert len(gateway.post_keys) == 2 and gateway.post_keys[0] == gateway.post_keys[1] is not None


def test_a_429_waits_as_long_as_retry_after_says_and_no_longer_than_allowed(
    app: FastAPI, coordinator_key: str, sleeps: list[float]
) -> None:
    async def scenario() -> None:
        polite = Gateway(app, status=429, headers={"Retry-After": "2"}, reach_app=False)
        async with async_client(polite, coordinator_key, sleeps) as client:
            await client.referrals.create(referral_body(1))
        assert sleeps == [2.0]
        slow = Gateway(app, status=429, headers={"Retry-After": "600"}, reach_app=False)
        async with async_client(slow, coordinator_key, sleeps) as client:
            with pytest.raises(RateLimitedError):
                await client.referrals.create(referral_body(2))
        assert sleeps == [2.0]

    asyncio.run(scenario())


def test_a_match_from_run_to_sessions(
    app: FastAPI, coordinator_key: str, make_key: KeyMaker, sleeps: list[float]
) -> None:
    async def scenario() -> None:
        async with async_client(app, coordinator_key, sleeps) as client:
            volunteer = await client.volunteers.create(volunteer_body())
            await client.referrals.create(referral_body(1))
            [proposal] = (await client.match_runs.create()).proposals
            match = await client.proposals.accept(proposal.id)
            her_key = secret_of(make_key("volunteer", volunteer_id=volunteer.id))
            async with async_client(app, her_key, sleeps) as her:
                assert (await her.matches.accept(match.id)).status == "scheduled"
                assert len(await her.me.sessions()) == 8
                assert (await her.me.get()).id == volunteer.id
            assert len(await client.matches.sessions(match.id)) == 8
            with pytest.raises(ConflictError):
                await client.proposals.accept(proposal.id)

    asyncio.run(scenario())


def test_a_run_started_without_waiting_is_polled_until_it_is_done(
    app: FastAPI, coordinator_key: str, held_tasks: HeldRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def the_worker_runs_meanwhile(seconds: float) -> None:
        waits.append(seconds)
        held_tasks.release()

    async def scenario() -> None:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
        async with AsyncPeerMatch(coordinator_key, http_client=http, sleep=the_worker_runs_meanwhile) as client:
            await client.volunteers.create(volunteer_body())
            await client.referrals.create(referral_body(1))
            started = await client.match_runs.create(wait=False)
            assert started.status == MatchRunStatus.queued and started.proposals is None
            done = await client.match_runs.wait_for(started.id, poll_every_s=0.5)
            assert done.status == MatchRunStatus.done and done.proposals is not None and len(done.proposals) == 1
            assert [p async for p in client.match_runs.proposals(started.id, page_size=1)] == done.proposals
            assert (await client.match_runs.get(started.id, result=False)).proposals is None
            monkeypatch.setattr(worker, "WAIT_AT_MOST", 0)
            await client.referrals.create(referral_body(2))
            polled = await client.match_runs.create()
            assert polled.status == MatchRunStatus.done and polled.stats is not None
        await http.aclose()

    asyncio.run(scenario())
    assert waits == [0.5, 1.0]
