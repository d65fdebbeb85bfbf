"""The typed client against the real app: a key per role, and a gateway that fails the first attempt."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from peer_match_client import AsyncPeerMatch, PeerMatch, Retry

from tests.conftest import KeyMaker

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
BASE_URL = "http://testserver"


class Gateway:
    """An ASGI app standing where a proxy would: it records each POST's Idempotency-Key, and for the first
    `failures` POSTs it lets the request reach the app (so the work is done) and then answers `status` itself,
    or drops the connection, so that the app's answer is lost on the way back."""

    def __init__(
        self,
        app: FastAPI,
        *,
        status: int = 503,
        headers: dict[str, str] | None = None,
        drop: bool = False,
        failures: int = 1,
        reach_app: bool = True,
    ) -> None:
        self.app = app
        self.status = status
        self.headers = headers or {}
        self.drop = drop
        self.failures = failures
        self.reach_app = reach_app
        self.post_keys: list[str | None] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = dict(scope["headers"]).get(b"idempotency-key")
        self.post_keys.append(key.decode() if key else None)
        if self.failures <= 0:
            await self.app(scope, receive, send)
            return
        self.failures -= 1
        if self.reach_app:
            await self.app(scope, receive, _discard)
        if self.drop:
            raise httpx.ReadError("the connection closed before the answer arrived")
        headers = [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def _discard(_message: Message) -> None:
    return None


def secret_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def coordinator_key(make_key: KeyMaker) -> str:
    return secret_of(make_key("coordinator"))


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the client asked for, instead of waiting."""
    return []


def sync_client(app: Any, key: str, sleeps: list[float], retry: Retry | None = None) -> PeerMatch:
    return PeerMatch(key, http_client=TestClient(app, base_url=BASE_URL), retry=retry, sleep=sleeps.append)


def async_client(app: Any, key: str, sleeps: list[float], retry: Retry | None = None) -> AsyncPeerMatch:
    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    return AsyncPeerMatch(key, http_client=http, retry=retry, sleep=record)
