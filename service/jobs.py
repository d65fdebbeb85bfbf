"""Periodic jobs the worker runs before each delivery round; each takes a session and commits nothing."""

from collections.abc import Callable

from sqlmodel import Session

from service.core import idempotency
from service.matches.disruptions import cover_what_cannot_go_ahead
from service.matches.reminders import raise_ending_soon, raise_session_reminders
from service.volunteers.alerts import raise_not_ready_alerts

PERIODIC_JOBS: list[Callable[[Session], int]] = [
    cover_what_cannot_go_ahead,  # before reminders: a session that will not happen is never reminded
    raise_session_reminders,
    raise_ending_soon,
    raise_not_ready_alerts,
    idempotency.prune,
]
