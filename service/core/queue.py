"""The job queue on PostgreSQL: procrastinate stores each deferred task as a row and runs it in whichever
worker, on whichever machine, takes it first (docs/decisions/0023-job-queue.md).

Two procrastinate apps on the same tables. The one a `ProcrastinateRunner` holds defers from ordinary
synchronous code (a request's thread, a task) through a small pool of its own; the worker's app runs the jobs
on an event loop. One generic procrastinate task runs any task registered with `service.core.tasks` by its
name, so a use case never names procrastinate. Periodic work is a procrastinate periodic task per `Periodic`:
every worker's deferrer offers each tick, the database keeps the first offer (a unique row per task and
timestamp), so each runs once per period however many workers there are.

A job is run at least once, not exactly once: a worker killed mid-job leaves it `doing`, and `retry_stalled`
puts it back once that worker's heartbeat is old. Every task is written to be run again safely."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import cast

import procrastinate
import structlog
from procrastinate import exceptions, job_context, jobs
from procrastinate.schema import SchemaManager
from procrastinate.types import JSONValue
from sqlalchemy import Engine

from service.core import tasks

log = structlog.get_logger("peer_match.queue")

# The name stored in each job row for a task registered with service.core.tasks: keep it stable.
RUN = "peer_match.run"
QUEUE = "peer_match"
# A job that raised is tried again, waiting 5, 10, 20 s: a database restarting or a receiver down for a moment.
RETRY = procrastinate.RetryStrategy(max_attempts=4, exponential_wait=5)
# Worker heartbeats every 10 s; one silent for 30 s is taken for dead and its jobs are run again.
HEARTBEAT_S = 10.0
STALLED_AFTER_S = 30.0
# Finished jobs are kept three days for whoever looks into a problem, then removed.
KEEP_FINISHED_HOURS = 72
# On SIGTERM a worker takes no new job and gives those under way this long before aborting them.
SHUTDOWN_S = 20.0


@dataclass(frozen=True)
class Periodic:
    """Work done every `every_s` seconds (a divisor of 60). `exclusive`: never two runs at once, for work that
    takes turns with itself (the scans raise events in an order); without it two runs may overlap, which is
    safe for work that claims each item in its own transaction (deliveries, messages)."""

    name: str
    every_s: int
    run: Callable[[], object]
    exclusive: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.every_s <= 60 or 60 % self.every_s:
            raise ValueError(f"every_s must divide 60, not {self.every_s}")

    @property
    def cron(self) -> str:
        # croniter reads a sixth field as seconds.
        return f"* * * * * */{self.every_s}"


def conninfo(database_url: str) -> str:
    """A libpq URL from the service's SQLAlchemy one (`postgresql+psycopg://` is not one libpq knows)."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url.removeprefix(prefix)
    return database_url


class ProcrastinateRunner:
    """`tasks.Runner` on procrastinate: a deferred task is a job row, committed at once, so it survives the
    process that deferred it and runs in `peer-match worker` (or the in-app worker)."""

    def __init__(self, database_url: str) -> None:
        self.app = procrastinate.App(
            connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo(database_url), min_size=0, max_size=2)
        )
        self.app.open()

    def defer(self, engine: Engine, name: str, kwargs: dict[str, str]) -> None:
        tasks.registered(name)
        job_id = self.app.configure_task(RUN, queue=QUEUE).defer(task=name, kwargs=cast(JSONValue, kwargs))
        log.info("task_deferred", task=name, job_id=job_id)

    def close(self) -> None:
        self.app.close()


def worker_app(database_url: str, periodic: list[Periodic]) -> procrastinate.App:
    """The worker's app: the generic task, the periodic ones, the clean-up of stalled and old jobs."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url), min_size=1, max_size=4),
        periodic_defaults={"max_delay": 60},
    )

    @app.task(name=RUN, queue=QUEUE, pass_context=True, retry=RETRY)
    def run(context: job_context.JobContext, *, task: str, kwargs: dict[str, str]) -> None:
        tasks.registered(task)(context.additional_context["engine"], **kwargs)

    for each in periodic:
        _schedule(app, each)

    @app.periodic(cron=f"* * * * * */{int(STALLED_AFTER_S)}", periodic_id="retry_stalled")
    @app.task(name="peer_match.retry_stalled", queue=QUEUE, queueing_lock="retry_stalled", pass_context=True)
    async def retry_stalled(context: job_context.JobContext, timestamp: int) -> None:
        await retry_stalled_jobs(context.app)

    @app.periodic(cron="17 * * * *", periodic_id="remove_old_jobs")
    @app.task(name="peer_match.remove_old_jobs", queue=QUEUE, queueing_lock="remove_old_jobs", pass_context=True)
    async def remove_old_jobs(context: job_context.JobContext, timestamp: int) -> None:
        await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS, include_failed=True)

    return app


def _schedule(app: procrastinate.App, periodic: Periodic) -> None:
    # The queueing lock keeps one run waiting at most: a slow run is not followed by a queue of them.
    def run_periodic(timestamp: int) -> None:
        periodic.run()

    task = app.task(
        name=f"peer_match.periodic.{periodic.name}",
        queue=QUEUE,
        queueing_lock=periodic.name,
        lock=periodic.name if periodic.exclusive else None,
    )(run_periodic)
    app.periodic(cron=periodic.cron, periodic_id=periodic.name)(task)


async def retry_stalled_jobs(app: procrastinate.App, *, seconds_since_heartbeat: float = STALLED_AFTER_S) -> int:
    """Jobs left `doing` by a worker that stopped beating (killed, its machine gone) are run again; a periodic
    one whose next run already waits is closed as failed instead, so its lock is free. The number retried."""
    manager = app.job_manager
    retried = 0
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat):
        try:
            await manager.retry_job(job)
            retried += 1
            log.warning("stalled_job_retried", job_id=job.id, task=job.task_name)
        except (exceptions.AlreadyEnqueued, exceptions.UniqueViolation):
            await manager.finish_job(job, status=jobs.Status.FAILED, delete_job=False)
            log.warning("stalled_job_closed", job_id=job.id, task=job.task_name)
    return retried


@contextlib.asynccontextmanager
async def running(app: procrastinate.App, engine: Engine, *, concurrency: int) -> AsyncIterator[None]:
    """A worker on the current event loop while the block runs (the API's lifespan); stopped at its end, the
    jobs under way given SHUTDOWN_S to finish."""
    async with app.open_async():
        worker = asyncio.create_task(run_worker_async(app, engine, concurrency=concurrency))
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker


async def run_worker_async(
    app: procrastinate.App, engine: Engine, *, concurrency: int, install_signal_handlers: bool = False
) -> None:
    await app.run_worker_async(
        queues=[QUEUE],
        concurrency=concurrency,
        additional_context={"engine": engine},
        update_heartbeat_interval=HEARTBEAT_S,
        stalled_worker_timeout=STALLED_AFTER_S,
        shutdown_graceful_timeout=SHUTDOWN_S,
        install_signal_handlers=install_signal_handlers,
    )


def run_worker(app: procrastinate.App, engine: Engine, *, concurrency: int) -> None:
    """Run a worker in the foreground until SIGINT or SIGTERM (`peer-match worker`): running jobs finish first."""

    async def work() -> None:
        async with app.open_async():
            await run_worker_async(app, engine, concurrency=concurrency, install_signal_handlers=True)

    asyncio.run(work())


def schema() -> str:
    """procrastinate's schema (tables, types, functions) for this version, applied by a migration."""
    return SchemaManager.get_schema()
