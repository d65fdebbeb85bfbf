"""Background work on PostgreSQL goes through procrastinate (service/core/queue.py): periodic work runs once per
period however many workers run, a deferred task survives until a worker takes it, and a worker killed during a
webhook delivery loses nothing and duplicates nothing. The worker tests start real `peer-match worker`
processes against the test database; they skip on SQLite, which keeps the in-process loop (tests/service/
test_events.py and test_messages.py cover that path)."""

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text

from service.app import create_app
from service.core import queue, tasks
from service.core.config import Settings
from tests.factories import referral_body
from tests.service import job_queue_tasks

ROOT = Path(__file__).parents[2]
QUEUE_TABLES = "procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers"
# A worker process with the test task registered; everything else as `peer-match worker`.
WORKER = [sys.executable, "-c", "import tests.service.job_queue_tasks; from service.cli import app; app(['worker'])"]


def _postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the job queue is PostgreSQL's; SQLite keeps the in-process loop")


@pytest.fixture
def queue_db(engine: Engine) -> Iterator[Engine]:
    """The test database with the queue's tables empty before and after (they are not models, so the
    real_commits clean-up does not know them)."""
    _postgres_only(engine)

    def empty() -> None:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {QUEUE_TABLES} CASCADE"))

    empty()
    yield engine
    empty()


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PEER_MATCH_DATABASE_URL": settings.database_url,
            "PEER_MATCH_ENVIRONMENT": "development",
            "PEER_MATCH_DATA_DIR": str(tmp_path),
            "PEER_MATCH_LOG_LEVEL": "WARNING",
            "PEER_MATCH_ALLOW_PRIVATE_WEBHOOKS": "true",
            "PEER_MATCH_MESSAGE_CHANNEL": "log",
            "PEER_MATCH_SCAN_EVERY_S": "2",
            "PEER_MATCH_RELAY_EVERY_S": "1",
            **extra,
        }
        process = subprocess.Popen(WORKER, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _until(condition: Callable[[], Any], *, timeout: float = 90.0, what: str) -> Any:
    """Poll until `condition()` is truthy: these tests watch other processes work in real time."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def _scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def test_periodic_work_must_fit_a_minute() -> None:
    assert queue.Periodic("scans", 30, lambda: None).cron == "* * * * * */30"
    with pytest.raises(ValueError, match="divide 60"):
        queue.Periodic("scans", 7, lambda: None)
    with pytest.raises(ValueError, match="divide 60"):
        Settings(database_url="sqlite://", scan_every_s=45)


def test_the_queue_is_for_postgresql_outside_tests() -> None:
    assert not Settings(database_url="sqlite:///x.sqlite3").uses_job_queue
    assert Settings(database_url="postgresql://u:p@db/pm").uses_job_queue
    assert not Settings(database_url="postgresql://u:p@db/pm", environment="test").uses_job_queue
    assert queue.conninfo("postgresql+psycopg://u:p@db/pm") == "postgresql://u:p@db/pm"


@pytest.mark.real_commits
def test_the_migration_makes_the_queue_tables_on_postgresql_only(engine: Engine) -> None:
    # The session's engine was migrated from an empty schema (tests/conftest.py), as a fresh database is.
    found = {name for name in inspect(engine).get_table_names() if name.startswith("procrastinate")}
    if engine.dialect.name == "postgresql":
        assert found == {
            "procrastinate_jobs",
            "procrastinate_events",
            "procrastinate_periodic_defers",
            "procrastinate_workers",
        }
        assert _scalar(engine, "SELECT count(*) FROM pg_proc WHERE proname = 'procrastinate_fetch_job_v2'") == 1
    else:
        assert found == set()


@pytest.mark.real_commits
def test_two_workers_run_each_periodic_job_once_per_period(
    queue_db: Engine, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    first, second = start_worker(), start_worker()
    _until(lambda: _scalar(queue_db, "SELECT count(*) FROM procrastinate_workers") == 2, what="both workers")
    started = int(time.time())
    scans_since = """SELECT count(DISTINCT args->>'timestamp') FROM procrastinate_jobs
                     WHERE task_name = 'peer_match.periodic.scans' AND status = 'succeeded'
                       AND (args->>'timestamp')::bigint > :started"""
    # Four periods of 2 s with both workers up, each offering every tick.
    _until(lambda: _scalar(queue_db, scans_since, started=started) >= 4, what="four periods of scans")
    assert first.poll() is None and second.poll() is None
    with queue_db.connect() as connection:
        runs = connection.execute(
            text("""SELECT task_name, args->>'timestamp' AS tick, count(*) AS runs FROM procrastinate_jobs
                    WHERE task_name LIKE 'peer_match.periodic.%' GROUP BY 1, 2""")
        ).all()
    assert {name for name, _tick, _runs in runs} == {"peer_match.periodic.scans", "peer_match.periodic.relay"}
    assert [row for row in runs if row.runs != 1] == []  # one job per task and tick, never one per worker
    ticks = sorted(int(tick) for name, tick, _ in runs if name.endswith("scans") and int(tick) > started)
    assert all(later - earlier == 2 for earlier, later in itertools.pairwise(ticks))


@pytest.mark.real_commits
def test_a_task_deferred_before_any_worker_runs_when_one_starts(
    queue_db: Engine, settings: Settings, start_worker: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    out = tmp_path / "touched"
    runner = queue.ProcrastinateRunner(settings.database_url)
    old = tasks.set_runner(runner)
    try:
        # No worker is running: the job is a row, and would outlive this process.
        tasks.defer(queue_db, "test.touch", path=str(out), text="ran")
    finally:
        tasks.set_runner(old)
        runner.close()
    assert job_queue_tasks.touch and not out.exists()
    assert _scalar(queue_db, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'") == 1
    start_worker()
    _until(out.exists, what="the deferred task")
    _until(
        lambda: (
            _scalar(queue_db, "SELECT status FROM procrastinate_jobs WHERE task_name = :n", n=queue.RUN) == "succeeded"
        ),
        what="the job to finish",
    )
    assert out.read_text() == "ran\n"


@pytest.mark.real_commits
def test_the_app_on_postgresql_defers_to_the_queue_and_its_own_worker_runs_the_task(
    queue_db: Engine, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "touched"
    in_app = settings.model_copy(update={"environment": "development", "run_worker_in_app": True})
    before = tasks.runner()
    with TestClient(create_app(in_app, queue_db)):
        assert isinstance(tasks.runner(), queue.ProcrastinateRunner)
        tasks.defer(queue_db, "test.touch", path=str(out), text="in the app")
        _until(out.exists, timeout=30, what="the in-app worker")
    assert tasks.runner() is before


class Receiver:
    """A webhook receiver; its first request hangs until released (unless not held), the rest answer at once."""

    def __init__(self, *, hold_the_first: bool = True) -> None:
        self.event_ids: list[str] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.event_ids.append(self.headers["X-Peer-Match-Event-Id"])
                if not receiver.first_arrived.is_set():
                    receiver.first_arrived.set()
                    if hold_the_first:
                        receiver.release.wait(timeout=120)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.real_commits
def test_a_worker_killed_during_a_delivery_loses_nothing_and_sends_nothing_twice(
    queue_db: Engine,
    client: TestClient,
    admin: dict[str, str],
    coordinator: dict[str, str],
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    receiver = Receiver()
    try:
        hook = client.post(
            "/v1/webhooks",
            json={"url": receiver.url, "events": ["referral.received"], "secret": "a-shared-secret-of-some-length"},
            headers=admin,
        )
        assert hook.status_code == 201, hook.text
        assert client.post("/v1/referrals", json=referral_body(), headers=coordinator).status_code == 201
        doomed = start_worker()
        assert receiver.first_arrived.wait(timeout=90), "the first worker never delivered"
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        receiver.release.set()
        start_worker()
        delivered = "SELECT count(*) FROM delivery WHERE status = 'delivered'"
        _until(lambda: _scalar(queue_db, delivered) == 1, what="the delivery after the kill")
        # Several more relay rounds: nothing else goes out.
        ticks = """SELECT count(*) FROM procrastinate_jobs
                   WHERE task_name = 'peer_match.periodic.relay' AND status = 'succeeded'"""
        seen = _scalar(queue_db, ticks)
        _until(lambda: _scalar(queue_db, ticks) >= seen + 3, what="three more relay rounds")
        assert len(receiver.event_ids) == 2 and len(set(receiver.event_ids)) == 1  # the same event, once more
        assert _scalar(queue_db, "SELECT count(*) FROM delivery") == 1
        # The killed attempt's transaction never committed: the log shows the one that succeeded.
        assert _scalar(queue_db, "SELECT attempts FROM delivery") == 1
    finally:
        receiver.release.set()
        receiver.server.shutdown()


@pytest.mark.real_commits
def test_jobs_of_a_worker_gone_silent_run_again_and_a_periodic_one_with_a_successor_is_closed(
    queue_db: Engine, settings: Settings
) -> None:
    with queue_db.begin() as connection:
        dead = connection.execute(
            text("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id")
        ).scalar()
        insert = text(
            """INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args, status, worker_id)
               VALUES ('peer_match', :task, :qlock, '{}', CAST(:status AS procrastinate_job_status), :worker)
               RETURNING id"""
        )
        task = connection.execute(insert, {"task": queue.RUN, "qlock": None, "status": "doing", "worker": dead})
        task_id = task.scalar()
        scans = "peer_match.periodic.scans"
        stalled_scan = connection.execute(insert, {"task": scans, "qlock": "scans", "status": "doing", "worker": dead})
        stalled_scan_id = stalled_scan.scalar()
        connection.execute(insert, {"task": scans, "qlock": "scans", "status": "todo", "worker": None})

    async def clean_up() -> int:
        app = queue.worker_app(settings.database_url, [])
        async with app.open_async():
            return await queue.retry_stalled_jobs(app)

    assert asyncio.run(clean_up()) == 1
    status = "SELECT status FROM procrastinate_jobs WHERE id = :id"
    assert _scalar(queue_db, status, id=task_id) == "todo"  # a deferred task runs again
    assert _scalar(queue_db, status, id=stalled_scan_id) == "failed"  # the next scan already waits


@pytest.mark.real_commits
def test_without_the_queue_the_app_still_delivers_in_its_own_loop(
    engine: Engine, settings: Settings, make_key: Callable[..., dict[str, str]]
) -> None:
    # The two-command start on SQLite (and any test environment): the in-process loop, started by the lifespan.
    receiver = Receiver(hold_the_first=False)
    in_app = settings.model_copy(update={"run_worker_in_app": True})
    assert not in_app.uses_job_queue
    try:
        with TestClient(create_app(in_app, engine)) as client:
            assert not isinstance(tasks.runner(), queue.ProcrastinateRunner)
            hook = client.post(
                "/v1/webhooks",
                json={"url": receiver.url, "events": ["referral.received"], "secret": "a-shared-secret-of-some-length"},
                headers=make_key("admin"),
            )
            assert hook.status_code == 201, hook.text
            created = client.post("/v1/referrals", json=referral_body(), headers=make_key("coordinator"))
            assert created.status_code == 201
            _until(lambda: receiver.event_ids, timeout=30, what="the in-app delivery")
        assert len(receiver.event_ids) == 1
    finally:
        receiver.server.shutdown()
