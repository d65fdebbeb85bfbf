"""Periodic jobs the worker runs before each delivery round (each takes a session and commits nothing), the
senders it runs after (each takes the engine and commits per message), the outbox's listeners, and the same
work as the job queue's periodic tasks on PostgreSQL."""

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from service.core import idempotency, outbox, queue, tasks
from service.core.config import Settings
from service.core.queue import Periodic, ProcrastinateRunner
from service.erasure.service import apply_retention
from service.events.worker import DeliveryWorker
from service.match_runs.worker import fail_stuck_runs
from service.matches.disruptions import cover_what_cannot_go_ahead
from service.matches.lone_working import raise_missed_check_outs
from service.matches.pauses import lift_due_pauses as lift_due_match_pauses
from service.matches.reminders import raise_ending_soon, raise_session_reminders
from service.messages import composing
from service.messages.prompts import write_check_in_prompts, write_missed_you
from service.messages.sending import MessageSender, channel_from
from service.referrals.measures import lift_due_pauses as lift_due_referral_pauses
from service.volunteers.alerts import raise_not_ready_alerts
from service.volunteers.due import raise_due_soon

PERIODIC_JOBS: list[Callable[[Session], int]] = [
    # Pauses lift first, then what cannot go ahead needs cover, then reminders: a session planned again today is
    # reminded in this round, and one that will not happen never is.
    lift_due_match_pauses,
    lift_due_referral_pauses,
    cover_what_cannot_go_ahead,
    raise_session_reminders,
    raise_ending_soon,
    raise_missed_check_outs,
    write_missed_you,
    write_check_in_prompts,
    raise_not_ready_alerts,
    raise_due_soon,
    idempotency.prune,
    # A match run whose worker died frees the programme for the next run (importing it registers the run's task).
    fail_stuck_runs,
    # Once a programme day (it checks its own audit row): what is past the retention schedule is erased.
    apply_retention,
]


# Messages are written in the transaction of the event that causes them, wherever it is raised.
outbox.listen(composing.on_event)


def senders(settings: Settings) -> list[Callable[[Engine | Connection], int]]:
    """What the worker sends besides webhooks: messages, through the channel the settings name."""
    return [MessageSender(channel_from(settings))]


def periodic(settings: Settings, engine: Engine) -> list[Periodic]:
    """The job queue's periodic work: the scans, in the order above and never two at once (a lock), every
    `scan_every_s`; the relay, every `relay_every_s`, delivering due webhooks and sending due messages from their
    outboxes. The outbox rows stay the source: each delivery and message is claimed in its own transaction, so a
    relay killed mid-send leaves it to the next, and two relays overlapping never take the same one."""
    worker = DeliveryWorker(
        engine, allow_private=settings.allow_private_webhooks, periodic=PERIODIC_JOBS, senders=senders(settings)
    )
    return [
        Periodic("scans", settings.scan_every_s, worker.run_jobs, exclusive=True),
        Periodic("relay", settings.relay_every_s, functools.partial(worker.run_once, jobs=False)),
    ]


@asynccontextmanager
async def on_job_queue(settings: Settings, engine: Engine) -> AsyncIterator[None]:
    """On PostgreSQL: deferred tasks become job rows; with `run_worker_in_app`, a job queue worker also runs on
    this process's event loop (with several processes, each one's periodic work still runs once per period)."""
    runner = ProcrastinateRunner(settings.database_url)
    old = tasks.set_runner(runner)
    try:
        if settings.run_worker_in_app:
            worker_app = queue.worker_app(settings.database_url, periodic(settings, engine))
            async with queue.running(worker_app, engine, concurrency=settings.worker_concurrency):
                yield
        else:
            yield
    finally:
        tasks.set_runner(old)
        runner.close()
