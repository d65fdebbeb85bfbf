"""`python -m tests.load.post_cpu`: the CPU one referral post costs, one post at a time so nothing queues, on
the database named by PEER_MATCH_DATABASE_URL (which it empties).

Two figures: the app alone (raw ASGI calls into create_app(): all middleware, auth, validation, database work,
hardly any client CPU), and uvicorn's process as the load scenario runs it (a new connection per post, HTTP
parsing included), beside the CPU PostgreSQL spent. `--profile` prints where the app's time goes (cProfile;
handlers then run on the event loop's thread instead of the thread pool, so the profile sees them).

Beside the app's posts it measures a floor in the same app and the same run: a bare endpoint that takes the
request's database session (the same dependency, pool and driver) and makes one INSERT, with no auth, no
validation and nothing else. A post's CPU divided by the floor's is a figure that holds from machine to machine
(issue 25 asks for at most 3)."""

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

# As in the load scenario: no access log lines, no rate limit.
os.environ.setdefault("PEER_MATCH_LOG_LEVEL", "WARNING")
os.environ.setdefault("PEER_MATCH_RATE_LIMIT_PER_MINUTE", "1000000")

from service.app import create_app
from service.core.config import Settings
from service.core.db import make_engine
from tests.asgi import http_scope
from tests.load import cpu, floor
from tests.load.bodies import referral
from tests.load.run import free_port, prepare


def post_request(secret: str, n: int) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({**referral(n), "external_id": f"cpu-{uuid.uuid4().hex[:20]}"}).encode()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {secret}".encode()),
        (b"idempotency-key", uuid.uuid4().hex.encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = http_scope("/v1/referrals", headers)
    return scope, body


async def send_one(app: Callable[..., Any], scope: dict[str, Any], body: bytes) -> int:
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def floor_many(app: Callable[..., Any], count: int) -> float:
    """CPU seconds for `count` floor requests, one after another; each must be a 201."""
    scope = http_scope(floor.PATH, [(b"host", b"127.0.0.1"), (b"content-length", b"0")])
    cpu = time.process_time()
    for _ in range(count):
        if await send_one(app, scope, b"") != 201:
            raise SystemExit("the floor did not answer 201")
    return time.process_time() - cpu


async def post_many(app: Callable[..., Any], secret: str, count: int, at_once: int = 1) -> tuple[float, float]:
    """CPU and wall seconds for `count` posts, `at_once` clients each posting one after another; each post
    must be a 201."""
    requests = [post_request(secret, n) for n in range(count)]

    async def client(share: list[tuple[dict[str, Any], bytes]]) -> None:
        for scope, body in share:
            status = await send_one(app, scope, body)
            if status != 201:
                raise SystemExit(f"a post answered {status}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client(requests[i::at_once]) for i in range(at_once)))
    return time.process_time() - cpu, time.perf_counter() - wall


def run_inline() -> None:
    """Handlers on the event loop's thread, so that cProfile (which sees one thread) sees them."""
    import anyio.to_thread

    async def run_sync(func: Callable[..., Any], *args: Any, **_kwargs: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]


def http_post(port: int, secret: str, n: int) -> None:
    scope, body = post_request(secret, n)
    head = b"".join(k + b": " + v + b"\r\n" for k, v in scope["headers"] if k != b"host")
    request = b"POST /v1/referrals HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + head + b"\r\n" + body
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    if not answer.startswith(b"HTTP/1.1 201"):
        raise SystemExit(f"a post answered {answer[:200]!r}")


def through_uvicorn(secret: str, count: int, rounds: int, uvicorn_args: list[str]) -> None:
    """Server and PostgreSQL CPU per post, as the load scenario sends them (a new connection each)."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            *uvicorn_args,
        ]
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.2)
        for n in range(200):
            http_post(port, secret, n)
        for _ in range(rounds):
            server_cpu, pg_cpu, wall = cpu.tree_seconds(server.pid), cpu.postgres_seconds(), time.perf_counter()
            for n in range(count):
                http_post(port, secret, n)
            server_cpu, pg_cpu = cpu.tree_seconds(server.pid) - server_cpu, cpu.postgres_seconds() - pg_cpu
            wall = time.perf_counter() - wall
            print(
                f"uvicorn, {count} posts: {server_cpu / count * 1000:.2f} ms server CPU, "
                f"{pg_cpu / count * 1000:.2f} ms PostgreSQL CPU, {wall / count * 1000:.2f} ms wall per post"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--at-once", type=int, default=1, help="clients posting at the same time (app alone)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--uvicorn",
        nargs="*",
        metavar="ARG",
        help="also through uvicorn, with these extra arguments (none: as the load scenario)",
    )
    args = parser.parse_args()
    settings = Settings()
    keys = prepare(settings, integrators=1, volunteers_with_schedules=0)
    secret = str(keys["integrators"][0])  # type: ignore[index]
    if args.profile:
        run_inline()
    floor.create_table(make_engine(settings))
    app = create_app(settings)
    floor.add_floor(app)
    await post_many(app, secret, 200)  # warm: pool, statement caches, lazy imports
    await floor_many(app, 200)
    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the machine is shared
        profiler.enable()
        cpu, wall = await post_many(app, secret, args.posts)
        profiler.disable()
        print(f"profiled: {cpu / args.posts * 1000:.2f} ms CPU per post")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        return
    for _ in range(args.rounds):
        cpu, wall = await post_many(app, secret, args.posts, args.at_once)
        floor_cpu = await floor_many(app, args.posts)
        print(
            f"app alone, {args.posts} posts, {args.at_once} at once: {cpu / args.posts * 1000:.2f} ms CPU, "
            f"{wall / args.posts * 1000:.2f} ms wall per post; floor (one INSERT through the same session): "
            f"{floor_cpu / args.posts * 1000:.2f} ms; post/floor {cpu / floor_cpu:.2f}"
        )
    if args.uvicorn is not None:
        through_uvicorn(secret, args.posts, args.rounds, args.uvicorn)


if __name__ == "__main__":
    asyncio.run(main())
