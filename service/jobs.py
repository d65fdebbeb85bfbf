"""Periodic jobs the worker runs before each delivery round; each takes a session and commits nothing."""

from collections.abc import Callable

from sqlmodel import Session

from service.core import idempotency
from service.matches.reminders import raise_ending_soon, raise_session_reminders
from service.volunteers.alerts import raise_not_ready_alerts

PERIODIC_JOBS: list[Callable[[Session], int]] = [
    raise_session_reminders,
    raise_ending_soon,
    raise_not_ready_alerts,
    idempotency.prune,
]
