"""Periodic jobs the worker runs before each delivery round; each takes a session and commits nothing."""

from collections.abc import Callable

from sqlmodel import Session

from service.core import idempotency
from service.matches.disruptions import cover_what_cannot_go_ahead
from service.matches.pauses import lift_due_pauses as lift_due_match_pauses
from service.matches.reminders import raise_ending_soon, raise_session_reminders
from service.referrals.measures import lift_due_pauses as lift_due_referral_pauses
from service.volunteers.alerts import raise_not_ready_alerts

PERIODIC_JOBS: list[Callable[[Session], int]] = [
    # Pauses lift first, then what cannot go ahead needs cover, then reminders: a session planned again today is
    # reminded in this round, and one that will not happen never is.
    lift_due_match_pauses,
    lift_due_referral_pauses,
    cover_what_cannot_go_ahead,
    raise_session_reminders,
    raise_ending_soon,
    raise_not_ready_alerts,
    idempotency.prune,
]
