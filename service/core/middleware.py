"""Request id, access log and metrics, admission, the body size limit, NUL refusal: one pure-ASGI layer each."""

import asyncio
import time
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.logs import set_request_id
from service.core.problems import problem

log = structlog.get_logger("peer_match.access")
REQUESTS = Counter("peer_match_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("peer_match_request_seconds", "HTTP request latency", ["method", "route"])


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def _protective_headers(scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Every answer is what its Content-Type says (no sniffing), and nothing under /v1 (personal data, the
    calendar feed) is kept by a browser or a proxy cache."""
    extra = [(b"x-content-type-options", b"nosniff")]
    if scope["path"].startswith("/v1/") and not any(name.lower() == b"cache-control" for name, _ in headers):
        extra.append((b"cache-control", b"no-store"))
    return extra


class RequestContext:
    """Gives each request an id (echoed as X-Request-ID) and logs method, route template, status and time.
    The raw path and query are never logged: they can carry identifiers of people."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if incoming.isascii() and 0 < len(incoming) <= 64 else uuid.uuid4().hex
        set_request_id(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                quota = scope.get("state", {}).get("rate_limit")
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                    *_protective_headers(scope, message["headers"]),
                    *(quota.headers() if quota is not None else ()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info("request", method=scope["method"], route=route, status=status, ms=round(elapsed * 1000, 1))
            structlog.contextvars.clear_contextvars()


class BodyLimit:
    """413 for a body over the limit, whether it declares its length or streams it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0
        over = answered = False

        async def counting_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    over = True
                    raise _TooLarge
            return message

        async def send_unless_over(message: Message) -> None:
            # FastAPI's body reading turns any error into its own 400 ("There was an error parsing the body"),
            # so a streamed body over the limit is answered 413 here, in place of whatever the app answers.
            nonlocal answered
            if not over:
                await send(message)
            elif not answered:
                answered = True
                await self._too_large(scope, receive, send)

        try:
            await self.app(scope, counting_receive, send_unless_over)
        except _TooLarge:
            if not answered:
                await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413, "Payload too large", f"The body is over {self.max_bytes} bytes.", type_slug="payload-too-large"
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class RejectNul:
    """422 for a NUL character anywhere in the path or query: no database text column can hold one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").lower()
            if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
                errors = [{"loc": ["query"], "msg": "NUL character"}]
                response = problem(
                    422,
                    "Invalid input",
                    "The path or query contains a NUL character.",
                    type_slug="validation",
                    extra={"errors": errors},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


class AdmitAtMost:
    """At most `limit` requests at work in this process; the rest wait their turn here, in arrival order.

    A request holds its database connection from its first query to its commit, across several trips through
    the thread pool. Unbounded, more requests start than the pool has connections, threads block waiting for a
    connection while the requests that hold one wait for a thread, and many threads share one interpreter
    lock. Admitting a few at a time, the rest queued here, keeps the tail short (figures in decision 0005)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        # One semaphore per event loop: the test client runs each client on a loop of its own.
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The platform's probes must answer while work queues, or a busy service would be restarted.
        if scope["type"] != "http" or scope.get("path") in PROBES:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores.setdefault(loop, asyncio.Semaphore(self.limit))
        async with semaphore:
            await self.app(scope, receive, send)


def install(app: Any, *, max_body_bytes: int, max_requests_at_once: int, cors_origins: Sequence[str] = ()) -> None:
    app.add_middleware(RejectNul)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(AdmitAtMost, limit=max_requests_at_once)
    if cors_origins:
        # A browser front end on another origin: its preflight is answered before anything else, and only the
        # headers a client of this API sends and reads are allowed. Keys are bearer tokens, never cookies.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-ID"],
            expose_headers=[
                "ETag",
                "Location",
                "Retry-After",
                "X-Request-ID",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(RequestContext)
