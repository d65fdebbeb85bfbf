"""Periodic jobs the worker runs before each delivery round (each takes a session and commits nothing), the
senders it runs after (each takes the engine and commits per message), and the outbox's listeners."""

from collections.abc import Callable

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from service.core import idempotency, outbox
from service.core.config import Settings
from service.erasure.service import apply_retention
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
    # Once a programme day (it checks its own audit row): what is past the retention schedule is erased.
    apply_retention,
]


# Messages are written in the transaction of the event that causes them, wherever it is raised.
outbox.listen(composing.on_event)


def senders(settings: Settings) -> list[Callable[[Engine | Connection], int]]:
    """What the worker sends besides webhooks: messages, through the channel the settings name."""
    return [MessageSender(channel_from(settings))]
