"""How long the client waits before a retry, and that the two clients offer the same methods."""

import inspect
from datetime import UTC, datetime

import httpx
from hypothesis import given
from hypothesis import strategies as st
from peer_match_client import AsyncPeerMatch, PeerMatch, Retry
from peer_match_client.retries import retry_after_seconds

RESOURCES = ["referrals", "volunteers", "match_runs", "proposals", "matches", "sessions", "vocabulary", "me"]


def _limited(seconds: str) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": seconds})


@given(attempts=st.integers(1, 8), retry=st.integers(0, 10), backoff=st.floats(0.01, 5), ceiling=st.floats(0.1, 60))
def test_a_back_off_is_never_longer_than_the_ceiling_and_stops_after_the_attempts(
    attempts: int, retry: int, backoff: float, ceiling: float
) -> None:
    policy = Retry(attempts=attempts, backoff_s=backoff, max_delay_s=ceiling)
    wait = policy.delay(retry, None)
    if retry + 1 >= attempts:
        assert wait is None
    else:
        assert wait is not None and 0 < wait <= min(ceiling, backoff * 2**retry)


def test_retry_after_is_waited_exactly_unless_over_the_ceiling() -> None:
    policy = Retry(max_delay_s=10)
    assert policy.delay(0, _limited("7")) == 7.0
    assert policy.delay(0, _limited("11")) is None


def test_retry_after_may_be_an_http_date() -> None:
    now = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Tue, 05 Jan 2027 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("soon", now=now) is None


def test_the_sync_and_async_clients_have_the_same_methods_and_parameters() -> None:
    sync_client, async_client = PeerMatch("k"), AsyncPeerMatch("k")
    for name in RESOURCES:
        sync_resource, async_resource = getattr(sync_client, name), getattr(async_client, name)
        sync_methods = {m for m in dir(sync_resource) if not m.startswith("_")}
        assert sync_methods == {m for m in dir(async_resource) if not m.startswith("_")}, name
        for method in sync_methods:
            sync_params = list(inspect.signature(getattr(sync_resource, method)).parameters)
            assert sync_params == list(inspect.signature(getattr(async_resource, method)).parameters), method
    sync_client.close()
