"""Sending one call: the key, the Idempotency-Key kept across retries, back-off, problem details raised."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from peer_match_client import __version__
from peer_match_client._calls import Call
from peer_match_client.errors import problem_from_response
from peer_match_client.retries import Retry, is_retryable_status

T = TypeVar("T")

# Failures where the request may not have reached the service, or its answer was lost on the way back.
# Protocol misuse, bad URLs and proxy refusals are not here: trying again would fail the same way.
TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def headers_for(call: Call[Any], *, api_key: str | None, idempotency_key: str | None) -> dict[str, str]:
    """Headers of every attempt of one call. A POST's Idempotency-Key is fixed here, once, before the first
    attempt, so that a retry after a lost answer replays the first result instead of creating a second."""
    headers = {"Accept": "application/json", "User-Agent": f"peer-match-client/{__version__}", **call.headers}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if call.method == "POST":
        headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    return headers


def _wait_or_raise(response: httpx.Response, retry: Retry, attempt: int) -> float:
    """Seconds to wait before trying a failed response again; its problem raised when it is not worth it."""
    wait = retry.delay(attempt, response) if is_retryable_status(response.status_code) else None
    if wait is None:
        raise problem_from_response(response)
    return wait


class Sender:
    def __init__(
        self, http: httpx.Client, *, api_key: str | None, retry: Retry, sleep: Callable[[float], None]
    ) -> None:
        self.http = http
        self.api_key = api_key
        self.retry = retry
        self.sleep = sleep

    def __call__(self, call: Call[T], *, idempotency_key: str | None = None) -> T:
        headers = headers_for(call, api_key=self.api_key, idempotency_key=idempotency_key)
        attempt = 0
        while True:
            try:
                response = self.http.request(
                    call.method, call.path, params=call.params, json=call.json, headers=headers
                )
            except TRANSIENT_ERRORS:
                wait = self.retry.delay(attempt, None)
                if wait is None:
                    raise
            else:
                if response.is_success:
                    return call.read(response)
                wait = _wait_or_raise(response, self.retry, attempt)
            self.sleep(wait)
            attempt += 1


class AsyncSender:
    def __init__(
        self, http: httpx.AsyncClient, *, api_key: str | None, retry: Retry, sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        self.http = http
        self.api_key = api_key
        self.retry = retry
        self.sleep = sleep

    async def __call__(self, call: Call[T], *, idempotency_key: str | None = None) -> T:
        headers = headers_for(call, api_key=self.api_key, idempotency_key=idempotency_key)
        attempt = 0
        while True:
            try:
                response = await self.http.request(
                    call.method, call.path, params=call.params, json=call.json, headers=headers
                )
            except TRANSIENT_ERRORS:
                wait = self.retry.delay(attempt, None)
                if wait is None:
                    raise
            else:
                if response.is_success:
                    return call.read(response)
                wait = _wait_or_raise(response, self.retry, attempt)
            await self.sleep(wait)
            attempt += 1
