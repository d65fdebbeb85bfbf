"""Faults: a match run that dies part way leaves nothing behind, and a database that goes away is a clean 503
with Retry-After (never a 500) and is used again as soon as it is back, without a restart."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from matching import solver
from service.core import clock
from service.core.config import Settings
from service.match_runs import worker
from service.tools import demo
from tests.factories import referral_body, volunteer_body

# A server in another process, connections refused, lost and terminated: each needs the engine's own
# connections and what they commit.
pytestmark = pytest.mark.real_commits

PROBLEM_JSON = "application/problem+json"


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar() or 0)


def _run_state(engine: Engine) -> dict[str, Any]:
    """What a match run writes or changes: runs done, proposals by status, referrals by status, held places. (A
    run's own row and its `match_run.created` audit row are committed when it starts, before any work.)"""
    with engine.connect() as connection:
        return {
            "runs": connection.execute(text("SELECT count(*) FROM match_run WHERE status = 'done'")).scalar(),
            "proposals": dict(connection.execute(text("SELECT status, count(*) FROM proposal GROUP BY status")).all()),
            "referrals": dict(connection.execute(text("SELECT status, count(*) FROM referral GROUP BY status")).all()),
            "matches": connection.execute(text("SELECT count(*) FROM match")).scalar(),
        }


def _status_of(engine: Engine, run_id: str) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT status FROM match_run WHERE id = :r"), {"r": run_id}).scalar())


# --- a match run is one transaction ---------------------------------------------------------------------------


def test_a_match_run_that_fails_after_writing_its_proposals_leaves_no_trace(
    client: TestClient, coordinator: dict[str, str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    for n in range(3):
        client.post("/v1/referrals", json=referral_body(n), headers=coordinator)
    first = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    client.post("/v1/referrals", json=referral_body(9), headers=coordinator)
    before = _run_state(engine)
    assert before["runs"] == 1 and before["proposals"] == {"open": len(first["proposals"])}

    real_advance = worker.run_lifecycle.advance

    def fail_after_everything_is_flushed(db: Any, match_run: Any, target: Any) -> None:
        if target == "done":
            raise RuntimeError("the process died here")
        real_advance(db, match_run, target)

    # The move to done is the save's last step: the proposals, the expiry and the referrals' moves are flushed.
    monkeypatch.setattr(worker.run_lifecycle, "advance", fail_after_everything_is_flushed)
    failed = client.post("/v1/match-runs?wait=true", headers=coordinator)
    assert failed.status_code == 201 and failed.json()["status"] == "failed"
    assert failed.json()["error"] == "The run stopped while saving: RuntimeError."
    assert _run_state(engine) == before  # earlier proposals not expired, no new run done, no referral moved


def test_a_match_run_whose_solver_fails_changes_nothing(
    client: TestClient, coordinator: dict[str, str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    client.post("/v1/referrals", json=referral_body(1), headers=coordinator)
    client.post("/v1/match-runs?wait=true", headers=coordinator)
    before = _run_state(engine)

    def solver_crash(*_args: Any, **_kwargs: Any) -> Any:
        raise MemoryError("out of memory in the solver")

    monkeypatch.setattr(solver, "solve", solver_crash)
    failed = client.post("/v1/match-runs?wait=true", headers=coordinator)
    assert failed.status_code == 201 and failed.json()["status"] == "failed"
    assert _run_state(engine) == before


# A server that stops inside the run, after writing everything and before its commit, until it is killed.
PAUSED_SERVER = """
import os, socket, sys, time
import uvicorn
from service.app import create_app
from service.referrals import lifecycle

def paused(*args, **kwargs):
    open(os.environ["PAUSED_MARKER"], "w").close()
    time.sleep(600)

# The save's proposals are written and their referrals about to be marked, all in one transaction.
if os.environ.get("PAUSED_MARKER"):
    lifecycle.mark_proposed = paused
listener = socket.socket(fileno=int(sys.argv[1]))
uvicorn.Server(uvicorn.Config(create_app(), lifespan="off", log_level="warning")).run(sockets=[listener])
"""


class ServerProcess:
    """`service.app` under uvicorn in its own process, on a socket this test opened (so no port race)."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.env = {
            **os.environ,
            "PEER_MATCH_DATABASE_URL": database_url,
            "PEER_MATCH_ENVIRONMENT": "test",
            "PEER_MATCH_RUN_WORKER_IN_APP": "false",
            "PEER_MATCH_LOG_LEVEL": "WARNING",
            "PEER_MATCH_DATA_DIR": str(workdir),
        }
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **env: str) -> None:
        fd = self.listener.fileno()
        self.process = subprocess.Popen(
            [sys.executable, "-c", PAUSED_SERVER, str(fd)], pass_fds=[fd], env={**self.env, **env}, cwd=self.workdir
        )
        deadline = time.monotonic() + 60  # importing the app takes 17-21 s on a busy 2-core box
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server exited"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        self.listener.close()


@pytest.fixture
def server_process(settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(settings.database_url, tmp_path)
    yield server
    server.close()


def test_a_server_killed_mid_run_leaves_no_half_written_run(
    server_process: ServerProcess, engine: Engine, coordinator: dict[str, str], tmp_path: Path
) -> None:
    with Session(engine) as session:
        demo.fill(session, referrals=240, volunteers=120, seed=3)
        session.commit()
    before = _run_state(engine)
    marker = tmp_path / "paused"
    server_process.start(PAUSED_MARKER=str(marker))
    with httpx.Client(base_url=server_process.url, headers=coordinator, timeout=30) as client:
        with contextlib.suppress(httpx.ReadTimeout):  # the answer never comes: the server is paused
            client.post("/v1/match-runs?wait=true", timeout=0.5)
        deadline = time.monotonic() + 60  # the run itself is slow on a busy 2-core box
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the run never reached its last write"
        if engine.dialect.name == "postgresql":
            assert (
                _count(
                    engine,
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND backend_xid IS NOT NULL",
                )
                == 1
            )  # its writes are there, uncommitted
        server_process.kill()  # kill -9 between the last write and the commit

    assert _run_state(engine) == before
    with engine.connect() as connection:
        killed = str(connection.execute(text("SELECT id FROM match_run")).scalar())
    assert _status_of(engine, killed) == "saving"
    server_process.start()  # a restart: nothing to repair; the killed run holds the programme until the scan
    with httpx.Client(base_url=server_process.url, headers=coordinator, timeout=30) as client:
        assert client.get("/readyz").status_code == 200
        assert client.post("/v1/match-runs?wait=true").json()["running_run_id"] == killed
        with time_machine.travel(clock.now() + worker.STUCK_AFTER + timedelta(seconds=1)), Session(engine) as db:
            assert worker.fail_stuck_runs(db) == 1
            db.commit()
        assert _status_of(engine, killed) == "failed"
        run = client.post("/v1/match-runs?wait=true")
        assert run.status_code == 201, run.text
    after = _run_state(engine)
    assert after["runs"] == 1 and after["proposals"] == {"open": run.json()["stats"]["matched"]}


# --- the database goes away, and comes back ---------------------------------------------------------------------


@pytest.fixture
def outage(engine: Engine) -> Iterator[Any]:
    """Switches the database off for new connections, as a stopped server or a lost network would: every
    pooled connection is dropped and each new one fails with the driver's own OperationalError."""
    state = {"down": False}
    dbapi_error = engine.dialect.loaded_dbapi.OperationalError

    def refuse(*_args: Any) -> None:
        if state["down"]:
            raise dbapi_error("connection refused (simulated outage)")

    class Switch:
        def down(self) -> None:
            state["down"] = True
            engine.dispose()

        def up(self) -> None:
            state["down"] = False

    event.listen(engine, "do_connect", refuse)
    yield Switch()
    event.remove(engine, "do_connect", refuse)


def _is_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["status"] == 503
    assert int(response.headers["retry-after"]) > 0


def test_while_the_database_is_away_every_route_is_a_clean_503_and_it_recovers_without_restart(
    client: TestClient, coordinator: dict[str, str], outage: Any
) -> None:
    rid = client.post("/v1/referrals", json=referral_body(1), headers=coordinator).json()["id"]
    outage.down()
    ready = client.get("/readyz")
    _is_unavailable(ready)
    assert client.get("/healthz").status_code == 200  # alive, only not ready
    _is_unavailable(client.get("/v1/referrals", headers=coordinator))
    _is_unavailable(client.get(f"/v1/referrals/{rid}", headers=coordinator))
    _is_unavailable(client.post("/v1/referrals", json=referral_body(2), headers=coordinator))
    _is_unavailable(client.post("/v1/match-runs?wait=true", headers=coordinator))

    outage.up()
    assert client.get("/readyz").status_code == 200
    assert client.get(f"/v1/referrals/{rid}", headers=coordinator).status_code == 200
    assert client.post("/v1/referrals", json=referral_body(2), headers=coordinator).status_code == 201


def test_a_connection_lost_in_the_middle_of_a_request_is_a_503_and_the_next_request_works(
    client: TestClient, coordinator: dict[str, str], engine: Engine
) -> None:
    dbapi_error = engine.dialect.loaded_dbapi.OperationalError
    lost = {"once": True}

    def lose_connection(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The referral's INSERT: alone on SQLite, inside the statement writing the post's rows on PostgreSQL.
        if lost["once"] and "INSERT INTO REFERRAL " in statement.upper():
            lost["once"] = False
            raise dbapi_error("server closed the connection unexpectedly (simulated)")

    event.listen(engine, "before_cursor_execute", lose_connection)
    try:
        _is_unavailable(client.post("/v1/referrals", json=referral_body(1), headers=coordinator))
    finally:
        event.remove(engine, "before_cursor_execute", lose_connection)
    assert client.get("/v1/referrals", headers=coordinator).json()["items"] == []  # nothing half-written
    assert client.post("/v1/referrals", json=referral_body(1), headers=coordinator).status_code == 201


@pytest.fixture
def postgres_only(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("terminating server backends needs PostgreSQL")


def _terminate_backends(engine: Engine) -> int:
    """End every other connection to this database from the server side, as a restart or failover would, and
    wait (up to 5 s each) until they are gone."""
    with create_engine(engine.url, poolclass=NullPool).connect() as admin:
        return int(
            admin.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
            or 0
        )


def test_after_postgresql_drops_every_connection_the_next_requests_work(
    postgres_only: None, client: TestClient, coordinator: dict[str, str], engine: Engine
) -> None:
    for n in range(3):
        assert client.post("/v1/referrals", json=referral_body(n), headers=coordinator).status_code == 201
    assert _terminate_backends(engine) >= 1  # the pooled connections the app was using
    assert client.get("/readyz").status_code == 200
    listed = client.get("/v1/referrals", headers=coordinator)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 3


def test_a_postgresql_backend_killed_mid_request_is_a_503_and_the_next_request_works(
    postgres_only: None, client: TestClient, coordinator: dict[str, str], engine: Engine
) -> None:
    killer = {"armed": True}

    def kill_own_backend(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if killer["armed"] and "INSERT INTO REFERRAL " in statement.upper():
            killer["armed"] = False
            pid = conn.connection.dbapi_connection.info.backend_pid
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()
            time.sleep(0.05)

    event.listen(engine, "before_cursor_execute", kill_own_backend)
    try:
        _is_unavailable(client.post("/v1/referrals", json=referral_body(1), headers=coordinator))
    finally:
        event.remove(engine, "before_cursor_execute", kill_own_backend)
    assert client.get("/v1/referrals", headers=coordinator).json()["items"] == []
    assert client.post("/v1/referrals", json=referral_body(1), headers=coordinator).status_code == 201


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_pooled_connection_is_kept_while_alive_and_replaced_once_the_server_closed_it(
    postgres_only: None, engine: Engine
) -> None:
    first = _backend_pid(engine)
    assert _backend_pid(engine) == first  # a live connection is not thrown away at checkout
    assert _terminate_backends(engine) >= 1
    second = _backend_pid(engine)  # no error: the dead one is seen at checkout, without a round trip
    assert second != first
    assert _backend_pid(engine) == second
